// When ingest gives back an item whose author X could not name: the wait grows with each receive, never ends before
// X's rate-limit reset, and the inbound queue's receives cover hours of X failing. A delay SQS refuses loses nothing.
import type { SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { processBatch } from '../../functions/ingest/handler';
import { QUEUES } from '../../shared/aws/resources';
import type { IngestDeps } from '../../shared/tickets/ingest';
import type { CompleteDeps } from '../../shared/x/complete-items';
import { lookupRetryDelaySeconds, lookupRetryWindowSeconds } from '../../shared/x/lookup-backoff';
import { normaliseWebhookBody } from '../../shared/x/normalise';
import type { XReads } from '../../shared/x/x-reads';
import { memoryUserCache } from '../support/memory-x-cache';
import { memoryChannelHealthStore, memoryTicketStore } from '../support/memory-ticket-store';
import { BOT, nextXId, xaaReply } from '../support/x-payloads';

const NOW = Date.parse('2026-08-12T18:00:01.000Z');

describe('lookupRetryDelaySeconds', () => {
  it('waits 30 s after the first receive, doubling, at most 15 minutes', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 29].map((n) => lookupRetryDelaySeconds(n, undefined, NOW))).toEqual([30, 60, 120, 240, 480, 900, 900, 900]);
  });

  it("never ends before X's reset, and never past SQS's 12-hour visibility limit", () => {
    expect(lookupRetryDelaySeconds(1, NOW + 600_000, NOW)).toBe(600);
    expect(lookupRetryDelaySeconds(1, NOW + 600_500, NOW)).toBe(601);
    // A reset already past, or sooner than the backoff, leaves the backoff.
    expect(lookupRetryDelaySeconds(3, NOW - 5_000, NOW)).toBe(120);
    expect(lookupRetryDelaySeconds(3, NOW + 10_000, NOW)).toBe(120);
    expect(lookupRetryDelaySeconds(1, NOW + 30 * 3_600_000, NOW)).toBe(12 * 3600);
  });

  it('treats a missing or odd receive count as the first', () => {
    expect(lookupRetryDelaySeconds(0, undefined, NOW)).toBe(30);
    expect(lookupRetryDelaySeconds(Number.NaN, undefined, NOW)).toBe(30);
  });

  it("gives an item about 6 h 15 min of X failing before the inbound queue's DLQ", () => {
    expect(lookupRetryWindowSeconds(QUEUES.inbound.maxReceiveCount)).toBe(22_530);
  });
});

describe('ingest putting off an item X could not name', () => {
  const now = () => new Date(NOW);
  const store = memoryTicketStore();
  const deps: IngestDeps = {
    store,
    channel: memoryChannelHealthStore('acme'),
    brand: 'acme',
    botUserId: BOT.id,
    botUsername: BOT.username,
    windows: { mentionMergeHours: 24, reopenHours: 168 },
    now,
  };
  // X's look-up cannot even be tried: completeBatch rejects, so every item of the batch is not complete.
  const completion: CompleteDeps = {
    reads: { users: async () => Promise.reject(new Error('read counter unreachable')) } as unknown as XReads,
    cache: memoryUserCache(now),
    storedItems: (xIds) => store.getXItems(xIds),
    bot: { xUserId: BOT.id, username: BOT.username },
    now,
  };
  const record = (receives: number): SQSRecord => {
    const body = xaaReply({ id: nextXId(), author: { id: '7310000001', username: 'cust_7310000001', name: 'Customer' }, inReplyTo: { id: nextXId(), user: BOT }, includes: 'empty' });
    const [event] = normaliseWebhookBody(body, { botUserId: BOT.id, botUsername: BOT.username, receivedAt: now().toISOString() }).events;
    return {
      messageId: `m-${receives}`,
      receiptHandle: `rh-${receives}`,
      body: JSON.stringify(event),
      attributes: { ApproximateReceiveCount: String(receives) },
    } as unknown as SQSRecord;
  };

  it('hides each item for the backoff of its receive count and reports it failed', async () => {
    const delays: [string, number][] = [];
    const queue = { delay: async (handle: string, seconds: number) => void delays.push([handle, seconds]) };
    const result = await processBatch([record(1), record(3)], deps, completion, undefined, undefined, queue);
    expect(result.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['m-1', 'm-3']);
    expect(delays.sort()).toEqual([['rh-1', 30], ['rh-3', 120]]);
    expect(store.tickets.size).toBe(0);
  });

  it('still gives the item back when SQS refuses the delay', async () => {
    const queue = { delay: async () => Promise.reject(new Error('AccessDenied')) };
    const result = await processBatch([record(2)], deps, completion, undefined, undefined, queue);
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'm-2' }]);
    expect(store.tickets.size).toBe(0);
  });
});
