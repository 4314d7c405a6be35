// The reconciler's guarantees, with fakes: the fake X server's own timeline and search logic (no network), an
// in-memory lease and state, a queue that records (or fails), and a table that holds what ingest stored.
import { describe, expect, it } from 'vitest';
import { RetryableError } from '../../shared/errors';
import type { OutgoingMessage, Queue } from '../../shared/aws/sqs-queue';
import type { Message, Ticket } from '../../shared/tickets/model';
import type { StoredXItem } from '../../shared/tickets/ticket-store';
import type { InboundPost } from '../../shared/x/inbound-event';
import {
  conversationQuery,
  packConversationQueries,
  reconcile,
  X_SEARCH_QUERY_MAX_CHARS,
  type ReconcileDeps,
  type ReconcileState,
  type ReconcileStore,
} from '../../shared/x/reconcile';
import type { XPostsPage, XTimelineReads } from '../../shared/x/reconcile-x-client';
import { xReads, type ReadMetrics } from '../../shared/x/x-reads';
import { FakeXPostReads } from '../support/fake-x-reads';
import { memoryReadCounter } from '../support/memory-x-cache';

const BOT = { xUserId: '1602999888777666555', username: 'AcmeSupport' };
const CUSTOMER = { id: '2244994945', username: 'ana', name: 'Ana' };
const silent: ReadMetrics = { made: () => {}, refused: () => {}, costUsd: () => {} };

/** A snowflake id made at `at` (X ids encode their time: ms since X's epoch, shifted 22 bits). */
function idAt(at: Date, sequence: number): string {
  return ((BigInt(at.getTime()) - 1288834974657n) << 22n | BigInt(sequence)).toString();
}

function world(options: { budget?: number; now?: Date } = {}) {
  let now = options.now ?? new Date('2026-11-16T10:00:00Z');
  const users = new Map<string, Record<string, unknown>>([[CUSTOMER.id, CUSTOMER]]);
  const fake = new FakeXPostReads(users, () => now.getTime());
  const requests: { kind: 'mentions' | 'search'; query: Record<string, string> }[] = [];
  const failures: { kind: 'mentions' | 'search'; error: Error; skip: number }[] = [];
  const takeFailure = (kind: 'mentions' | 'search') => {
    const index = failures.findIndex((f) => f.kind === kind);
    const failure = failures[index];
    if (!failure) return undefined;
    if (failure.skip-- > 0) return undefined;
    failures.splice(index, 1);
    return failure.error;
  };
  const answer = (result: { status: number; body?: unknown }): XPostsPage => {
    if (result.status !== 200) throw new Error(`fake X answered ${result.status}: ${JSON.stringify(result.body)}`);
    return result.body as XPostsPage;
  };
  const x: XTimelineReads = {
    async mentions(input) {
      const query = strings({ since_id: input.sinceId, start_time: input.startTime, pagination_token: input.paginationToken, max_results: input.maxResults });
      requests.push({ kind: 'mentions', query });
      const failure = takeFailure('mentions');
      if (failure) throw failure;
      return answer(fake.mentions(query, input.userId));
    },
    async searchRecent(input) {
      const query = strings({ query: input.query, since_id: input.sinceId, start_time: input.startTime, next_token: input.nextToken, max_results: input.maxResults });
      requests.push({ kind: 'search', query });
      const failure = takeFailure('search');
      if (failure) throw failure;
      return answer(fake.searchRecent(query));
    },
  };
  let state: ReconcileState = { mentions: {}, conversations: {} };
  let lease: { owner: string; expiresAt: number } | undefined;
  const store: ReconcileStore = {
    async acquireLease(owner, at, ttlMs) {
      if (lease && lease.expiresAt >= at.getTime()) return false;
      lease = { owner, expiresAt: at.getTime() + ttlMs };
      return true;
    },
    async releaseLease(owner) {
      if (lease?.owner === owner) lease = undefined;
    },
    loadState: async () => structuredClone(state),
    saveState: async (next) => {
      state = structuredClone(next);
    },
  };
  const queued: InboundPost[] = [];
  let queueFails = false;
  const queue: Queue = {
    async sendAll(messages: OutgoingMessage[]) {
      if (queueFails) throw new RetryableError('queue down');
      queued.push(...messages.map((m) => JSON.parse(m.body) as InboundPost));
    },
    send: async () => {},
    delay: async () => {},
  };
  const stored = new Map<string, StoredXItem>();
  const tickets: Ticket[] = [];
  const messages: Message[] = [];
  const counter = memoryReadCounter();
  const deps = (): ReconcileDeps => ({
    brand: 'acme',
    bot: BOT,
    x,
    reads: xReads({ x: { users: async () => ({ users: [], notFound: [] }), posts: async () => ({ posts: [], users: [], notFound: [] }) }, counter, budgetPerDay: options.budget ?? 2000, now: () => now, metrics: silent }),
    store,
    tickets: {
      getXItems: async (ids) => new Map(ids.flatMap((id) => (stored.has(id) ? [[id, stored.get(id)!] as const] : []))),
      listTickets: async ({ status }) => ({ tickets: tickets.filter((t) => t.status === status) }),
      getTicketView: async (id) => {
        const ticket = tickets.find((t) => t.id === id);
        return ticket && { ticket, messages: messages.filter((m) => m.ticketId === id), replies: [] };
      },
    },
    inboundQueue: queue,
    now: () => now,
    leaseMs: 60_000,
  });
  return {
    fake,
    requests,
    queued,
    stored,
    counter,
    get state() {
      return state;
    },
    set now(value: Date) {
      now = value;
    },
    get now() {
      return now;
    },
    /** The request of `kind` after `skip` more answers `error`. */
    failNext: (error: Error, kind: 'mentions' | 'search' = 'mentions', skip = 0) => failures.push({ kind, error, skip }),
    breakQueue: (broken: boolean) => {
      queueFails = broken;
    },
    holdLease: () => {
      lease = { owner: 'someone-else', expiresAt: now.getTime() + 60_000 };
    },
    /** Ingest, as far as the reconciler can tell: the item is stored under its X id. */
    store: (xId: string) => stored.set(xId, { kind: 'tombstone', xId }),
    openTicket(id: string, conversationId: string) {
      tickets.push({
        id,
        brand: 'acme',
        status: 'open',
        channel: 'mention',
        customer: { xUserId: CUSTOMER.id, username: CUSTOMER.username, name: CUSTOMER.name },
        createdAt: now.toISOString(),
        updatedAt: now.toISOString(),
        sequence: 1,
        lastChange: { type: 'ticket.created', at: now.toISOString() },
      });
      messages.push({
        id: `msg-${conversationId}`,
        ticketId: id,
        xId: conversationId,
        direction: 'inbound',
        channel: 'mention',
        text: 'my order is late',
        author: { xUserId: CUSTOMER.id, username: CUSTOMER.username },
        createdAt: now.toISOString(),
        redacted: false,
        conversationId,
      });
    },
    run: () => reconcile(deps()),
  };
}

function strings(values: Record<string, string | number | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).flatMap(([k, v]) => (v === undefined ? [] : [[k, String(v)]])));
}

function mention(id: string, text = '@AcmeSupport my order is late') {
  return {
    id,
    text,
    author_id: CUSTOMER.id,
    conversation_id: id,
    entities: { mentions: [{ start: 0, end: 12, username: BOT.username, id: BOT.xUserId }] },
  };
}

function followUp(id: string, conversationId: string, inReplyTo: string) {
  return {
    id,
    text: 'also the invoice is wrong',
    author_id: CUSTOMER.id,
    conversation_id: conversationId,
    in_reply_to_user_id: CUSTOMER.id,
    referenced_tweets: [{ type: 'replied_to', id: inReplyTo }],
  };
}

describe('reconcile: the mentions timeline', () => {
  it('queues the mentions the table does not hold, in the webhook’s inbound shape, and moves its cursor to the newest', async () => {
    const w = world();
    const [a, b] = [idAt(w.now, 1), idAt(w.now, 2)];
    w.fake.add(mention(a));
    w.fake.add(mention(b, '@AcmeSupport and my refund'));
    w.store(a);
    const report = await w.run();
    expect(report).toMatchObject({ outcome: 'done', found: 2, missed: 1, requests: 1 });
    expect(w.queued).toHaveLength(1);
    expect(w.queued[0]).toMatchObject({ kind: 'post', format: 'xaa', xId: b, text: '@AcmeSupport and my refund', mentionsBot: true, conversationId: b });
    expect(w.queued[0]!.author).toMatchObject({ xUserId: CUSTOMER.id, username: 'ana', name: 'Ana' });
    expect(w.state.mentions).toEqual({ sinceId: b });

    const again = await w.run();
    expect(again).toMatchObject({ found: 0, missed: 0 });
    expect(w.requests.at(-1)?.query.since_id).toBe(b);
  });

  it('moves no cursor past a page whose items could not be queued: the next run finds them again', async () => {
    const w = world();
    const a = idAt(w.now, 1);
    w.fake.add(mention(a));
    w.breakQueue(true);
    await expect(w.run()).rejects.toThrow('queue down');
    expect(w.state.mentions.sinceId).toBeUndefined();
    w.breakQueue(false);
    const report = await w.run();
    expect(report.missed).toBe(1);
    expect(w.queued.map((p) => p.xId)).toEqual([a]);
  });

  it('stops at the day’s read budget mid-pagination, keeping the page it stopped at, and resumes there the next day without reading a page twice', async () => {
    // 10 reads: one page of 5 posts (a post read and its author's user read each), then nothing left.
    const w = world({ budget: 10 });
    const ids = Array.from({ length: 8 }, (_, i) => idAt(w.now, i + 1));
    for (const id of ids) w.fake.add(mention(id));
    const first = await w.run();
    expect(first.outcome).toBe('budget');
    expect(w.queued.map((p) => p.xId)).toEqual(ids.slice(3).reverse());
    expect(w.state.mentions.pending?.nextToken).toBeDefined();
    expect(w.requests).toHaveLength(1);

    w.now = new Date('2026-11-17T10:00:00Z');
    const second = await w.run();
    expect(second.outcome).toBe('done');
    expect(w.queued.map((p) => p.xId).sort()).toEqual([...ids].sort());
    // The resumed read asked for the second page, with the first read's since_id, and the cursor is the newest post.
    expect(w.requests[1]?.query.pagination_token).toBe('5');
    expect(w.state.mentions).toEqual({ sinceId: ids.at(-1) });
  });

  it('stops at X’s 429 and reads nothing before X’s reset', async () => {
    const w = world();
    w.fake.add(mention(idAt(w.now, 1)));
    const reset = w.now.getTime() + 15 * 60_000;
    w.failNext(new RetryableError('X rate limit: Too Many Requests', reset));
    const limited = await w.run();
    expect(limited).toMatchObject({ outcome: 'rate_limited', notBefore: reset });
    expect(w.queued).toHaveLength(0);

    w.now = new Date(reset - 1000);
    const early = await w.run();
    expect(early.outcome).toBe('waiting');
    expect(w.requests).toHaveLength(1);

    w.now = new Date(reset);
    const after = await w.run();
    expect(after).toMatchObject({ outcome: 'done', missed: 1 });
  });

  it('runs one at a time per brand: while the lease is held, a run reads nothing', async () => {
    const w = world();
    w.fake.add(mention(idAt(w.now, 1)));
    w.holdLease();
    expect((await w.run()).outcome).toBe('busy');
    expect(w.requests).toHaveLength(0);
  });
});

describe('reconcile: conversations of unsolved tickets', () => {
  it('finds a follow-up under the customer’s own post that the webhook never delivers', async () => {
    const w = world();
    const root = idAt(new Date(w.now.getTime() - 3600_000), 1);
    w.openTicket('tkt-1', root);
    w.store(root);
    const later = idAt(w.now, 2);
    w.fake.add({ ...mention(root), created_at: new Date(w.now.getTime() - 3600_000).toISOString() });
    w.fake.add(followUp(later, root, root));
    const report = await w.run();
    expect(report.missed).toBe(1);
    expect(w.queued[0]).toMatchObject({ xId: later, inReplyToXId: root, conversationId: root, text: 'also the invoice is wrong' });
    const search = w.requests.find((r) => r.kind === 'search');
    expect(search?.query).toMatchObject({ query: `conversation_id:${root}`, since_id: root });
    expect(w.state.conversations[root]?.sinceId).toBe(later);
  });

  it('packs conversations into queries within X’s 512 characters, covering each once', () => {
    const ids = Array.from({ length: 40 }, (_, i) => (1990000000000000000n + BigInt(i)).toString());
    const batches = packConversationQueries(ids);
    for (const batch of batches) expect(conversationQuery(batch).length).toBeLessThanOrEqual(X_SEARCH_QUERY_MAX_CHARS);
    expect(batches.flat()).toEqual(ids);
    // 19-digit ids: "conversation_id:" + 19 digits = 35 characters, " OR " between: 13 fit in 512.
    expect(batches.map((b) => b.length)).toEqual([13, 13, 13, 1]);
  });

  it('checks the conversations checked longest ago first', async () => {
    const w = world();
    const roots = Array.from({ length: 20 }, (_, i) => idAt(new Date(w.now.getTime() - 3600_000), i + 1));
    roots.forEach((root, i) => w.openTicket(`tkt-${i}`, root));
    const searched = () => w.requests.filter((r) => r.kind === 'search').map((r) => r.query.query!.split(' OR ').map((t) => t.slice('conversation_id:'.length)));
    await w.run();
    const [first, second] = searched();
    expect(first).toHaveLength(13);
    expect(second).toHaveLength(7);

    // Five minutes on, the first query goes through and the second meets a 429: its conversations stay unchecked.
    w.now = new Date(w.now.getTime() + 300_000);
    w.failNext(new RetryableError('X rate limit', w.now.getTime() + 1000), 'search', 1);
    w.requests.length = 0;
    await w.run();
    expect(searched()).toHaveLength(2);
    const checkedAgain = searched()[0]!;

    w.now = new Date(w.now.getTime() + 300_000);
    w.requests.length = 0;
    await w.run();
    // The conversations the 429 left unchecked come first now.
    const order = searched().flat();
    expect(new Set(order.slice(0, 20 - checkedAgain.length))).toEqual(new Set(roots.filter((r) => !checkedAgain.includes(r))));
  });
});
