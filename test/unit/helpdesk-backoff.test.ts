// Contract §4: the first retry within 10 s, then minutes, then hours, about a day in all, within the queue's budget.
import { describe, expect, it } from 'vitest';
import { QUEUES } from '../../shared/aws/resources';
import { JITTER_FRACTION, RETRY_COUNT, RETRY_SCHEDULE_SECONDS, retryDelaySeconds } from '../../shared/helpdesk/backoff';

const noJitter = () => 0.5;
const lowest = () => 0;
const highest = () => 0.999999;
const HOUR = 3600;

describe('retryDelaySeconds', () => {
  it('retries the first time within 10 s, whatever the jitter', () => {
    for (const random of [lowest, noJitter, highest, Math.random]) {
      expect(retryDelaySeconds(1, random)).toBeGreaterThanOrEqual(1);
      expect(retryDelaySeconds(1, random)).toBeLessThanOrEqual(10);
    }
  });

  it('grows at every retry: seconds, then minutes, then hours', () => {
    const delays = Array.from({ length: RETRY_COUNT }, (_, i) => retryDelaySeconds(i + 1, noJitter));
    for (let i = 1; i < delays.length; i++) expect(delays[i]).toBeGreaterThan(delays[i - 1]!);
    expect(delays[1]).toBeLessThan(60);
    expect(delays.some((d) => d >= 60 && d < HOUR)).toBe(true);
    expect(delays.at(-1)).toBeGreaterThanOrEqual(HOUR);
  });

  it('adds up to about a day, with or without jitter', () => {
    for (const random of [lowest, noJitter, highest]) {
      const total = Array.from({ length: RETRY_COUNT }, (_, i) => retryDelaySeconds(i + 1, random)).reduce((a, b) => a + b, 0);
      expect(total).toBeGreaterThan(20 * HOUR);
      expect(total).toBeLessThan(28 * HOUR);
    }
    expect(RETRY_SCHEDULE_SECONDS.reduce((a, b) => a + b, 0)).toBe(85_955);
  });

  it('moves each delay by at most the jitter fraction', () => {
    RETRY_SCHEDULE_SECONDS.forEach((base, i) => {
      expect(retryDelaySeconds(i + 1, lowest)).toBeGreaterThanOrEqual(Math.floor(base * (1 - JITTER_FRACTION)));
      expect(retryDelaySeconds(i + 1, highest)).toBeLessThanOrEqual(Math.ceil(base * (1 + JITTER_FRACTION)));
      expect(Number.isInteger(retryDelaySeconds(i + 1))).toBe(true);
    });
  });

  it('fits the notify-retry queue: one receive per retry, and what SQS can delay', () => {
    expect(RETRY_COUNT).toBe(QUEUES.notifyRetry.maxReceiveCount);
    // The first delay is a send delay (SQS caps it at 15 min); the rest are visibility timeouts (12 h at most).
    expect(retryDelaySeconds(1, highest)).toBeLessThanOrEqual(900);
    for (let n = 2; n <= RETRY_COUNT; n++) expect(retryDelaySeconds(n, highest)).toBeLessThanOrEqual(12 * HOUR);
  });

  it('keeps the last delay past the end and refuses nonsense', () => {
    expect(retryDelaySeconds(RETRY_COUNT + 5, noJitter)).toBe(RETRY_SCHEDULE_SECONDS.at(-1));
    expect(() => retryDelaySeconds(0)).toThrow(RangeError);
    expect(() => retryDelaySeconds(1.5)).toThrow(RangeError);
  });
});
