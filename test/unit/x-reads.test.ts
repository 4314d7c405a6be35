// The read module: every X read reserves on the day's counter first, so a UTC day never reads more than
// X_READ_BUDGET_PER_DAY, and what X did not return (not found, a failed request) is given back.
import { describe, expect, it } from 'vitest';
import { RetryableError } from '../../shared/errors';
import { xReads, type ReadMetrics, type XLookups, type XUserRecord } from '../../shared/x/x-reads';
import { memoryReadCounter } from '../support/memory-x-cache';

const user = (id: string): XUserRecord => ({ xUserId: id, username: `u${id}`, name: `User ${id}`, profile: {} });

/** A fake X whose users look-up knows `known` ids; records each request's ids. */
function fakeX(known: (id: string) => boolean = () => true, fail?: () => Error | undefined) {
  const requests: { kind: 'users' | 'posts'; ids: string[] }[] = [];
  const x: XLookups = {
    async users(ids) {
      requests.push({ kind: 'users', ids });
      const error = fail?.();
      if (error) throw error;
      return { users: ids.filter(known).map(user), notFound: ids.filter((id) => !known(id)) };
    },
    async posts(ids) {
      requests.push({ kind: 'posts', ids });
      const error = fail?.();
      if (error) throw error;
      const found = ids.filter(known);
      return {
        posts: found.map((id) => ({ xId: id, text: `post ${id}`, authorId: '42' })),
        users: found.length ? [user('42')] : [],
        notFound: ids.filter((id) => !known(id)),
      };
    },
  };
  return { x, requests };
}

function recordingMetrics() {
  const seen = { made: { user: 0, post: 0 }, refused: { user: 0, post: 0 }, costUsd: 0 };
  const metrics: ReadMetrics = {
    made: (kind, n) => (seen.made[kind] += n),
    refused: (kind, n) => (seen.refused[kind] += n),
    costUsd: (usd) => (seen.costUsd += usd),
  };
  return { seen, metrics };
}

const ids = (n: number, from = 1000) => Array.from({ length: n }, (_, i) => String(from + i));

describe('X reads', () => {
  it('reads within the day’s budget and refuses the rest, asking X only for what the budget covers', async () => {
    const { x, requests } = fakeX();
    const counter = memoryReadCounter();
    const { seen, metrics } = recordingMetrics();
    const reads = xReads({ x, counter, budgetPerDay: 3, now: () => new Date('2026-11-16T10:00:00Z'), metrics });

    const outcome = await reads.users(ids(5));
    expect([...outcome.found.keys()]).toEqual(['1000', '1001', '1002']);
    expect(outcome.refused).toEqual(['1003', '1004']);
    expect(requests).toEqual([{ kind: 'users', ids: ['1000', '1001', '1002'] }]);
    expect(seen.refused.user).toBe(2);

    // Spent for the day: the next look-up makes no request at all.
    const later = await reads.users(['2000']);
    expect(later.refused).toEqual(['2000']);
    expect(requests).toHaveLength(1);
    expect(await counter.day('2026-11-16')).toMatchObject({ reads: 3, userReads: 3, refused: 3, costMicroUsd: 30_000 });
  });

  it('counts per UTC day: the budget is whole again at midnight UTC, not at local midnight', async () => {
    const { x, requests } = fakeX();
    const counter = memoryReadCounter();
    let now = new Date('2026-11-16T23:59:59.999Z');
    const reads = xReads({ x, counter, budgetPerDay: 2, now: () => now, metrics: recordingMetrics().metrics });
    expect((await reads.users(ids(2))).found.size).toBe(2);
    expect((await reads.users(['3000'])).refused).toEqual(['3000']);
    now = new Date('2026-11-17T00:00:00.000Z');
    expect((await reads.users(['3000'])).found.has('3000')).toBe(true);
    expect(requests.map((r) => r.ids)).toEqual([['1000', '1001'], ['3000']]);
    expect((await counter.day('2026-11-16')).reads).toBe(2);
    expect((await counter.day('2026-11-17')).reads).toBe(1);
  });

  it('bills only what X returned: ids X did not find are given back to the budget', async () => {
    const { x } = fakeX((id) => id !== '1001');
    const counter = memoryReadCounter();
    const { seen, metrics } = recordingMetrics();
    const reads = xReads({ x, counter, budgetPerDay: 10, now: () => new Date('2026-11-16T10:00:00Z'), metrics });
    const outcome = await reads.users(ids(3));
    expect(outcome.notFound).toEqual(['1001']);
    expect(await counter.day('2026-11-16')).toMatchObject({ reads: 2, userReads: 2, costMicroUsd: 20_000 });
    expect(seen).toMatchObject({ made: { user: 2 }, costUsd: 0.02 });
  });

  it('a failed request reports its ids as failed and gives its whole reservation back', async () => {
    const { x } = fakeX(undefined, () => new RetryableError('X answered 503'));
    const counter = memoryReadCounter();
    const reads = xReads({ x, counter, budgetPerDay: 10, now: () => new Date('2026-11-16T10:00:00Z'), metrics: recordingMetrics().metrics });
    const outcome = await reads.users(ids(3));
    expect(outcome.failed).toEqual(ids(3));
    expect(outcome.error).toBeInstanceOf(RetryableError);
    expect((await counter.day('2026-11-16')).reads).toBe(0);
  });

  it('asks X for at most 100 ids a request, each id once', async () => {
    const { x, requests } = fakeX();
    const reads = xReads({ x, counter: memoryReadCounter(), budgetPerDay: 1000, now: () => new Date(), metrics: recordingMetrics().metrics });
    const outcome = await reads.users([...ids(250), ...ids(10)]);
    expect(outcome.found.size).toBe(250);
    expect(requests.map((r) => r.ids.length)).toEqual([100, 100, 50]);
  });

  it('a post read costs a post and its author’s user read, at X’s prices', async () => {
    const { x } = fakeX((id) => id !== '1002');
    const counter = memoryReadCounter();
    const { seen, metrics } = recordingMetrics();
    const reads = xReads({ x, counter, budgetPerDay: 5, now: () => new Date('2026-11-16T10:00:00Z'), metrics });
    // Budget 5 covers two posts with their authors (4 reads); the third is refused.
    const outcome = await reads.posts(ids(3));
    expect([...outcome.found.keys()]).toEqual(['1000', '1001']);
    expect(outcome.refused).toEqual(['1002']);
    expect(outcome.authors.map((a) => a.xUserId)).toEqual(['42']);
    // Two posts and one author came back: 3 reads, $0.005 × 2 + $0.01.
    expect(await counter.day('2026-11-16')).toMatchObject({ reads: 3, postReads: 2, userReads: 1, costMicroUsd: 20_000 });
    expect(seen.costUsd).toBeCloseTo(0.02, 10);
  });

  it('concurrent look-ups together never read past the budget', async () => {
    const { x } = fakeX();
    const counter = memoryReadCounter();
    const reads = xReads({ x, counter, budgetPerDay: 7, now: () => new Date('2026-11-16T10:00:00Z'), metrics: recordingMetrics().metrics });
    const outcomes = await Promise.all([0, 1, 2, 3].map((i) => reads.users(ids(3, 1000 + i * 10))));
    expect(outcomes.reduce((sum, o) => sum + o.found.size, 0)).toBe(7);
    expect((await counter.day('2026-11-16')).reads).toBe(7);
  });
});
