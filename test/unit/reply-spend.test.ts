// What replies cost at X's prices and the brand's monthly cap (CONTRACT.md §5): the estimate per kind of reply, the
// API refusing a reply that would pass the cap, and the reply worker refusing one when the cap was reached while it
// waited, counted once however often it is attempted.
import { beforeEach, describe, expect, it } from 'vitest';
import { RetryableError } from '../../shared/errors';
import { postReply, type PostReplyDeps, type ReplyPoster } from '../../shared/replies/post-reply';
import { requestReply, type RequestReplyDeps } from '../../shared/replies/request-reply';
import { X_PRICES_USD, nearCap, replyCostMicroUsd } from '../../shared/replies/spend';
import { ingestItem } from '../../shared/tickets/ingest';
import type { CompletePost } from '../../shared/x/inbound-event';
import { memorySpendCounter } from '../support/memory-spend-counter';
import { memoryTicketStore, type MemoryTicketStore } from '../support/memory-ticket-store';

const BOT = { xUserId: '1602999888777666555', username: 'AcmeSupport' };
const JANE = { xUserId: '1357924680', username: 'jane_doe_dev', name: 'Jane Doe' };
const T0 = Date.parse('2026-11-16T14:00:00.000Z');
const TICKET = 'mn-1357924680-1';
const LONG = Array.from({ length: 16 }, (_, i) => `Step ${i + 1}: unplug the router, wait ten seconds.`).join(' ');

describe('the estimate at X prices', () => {
  it('a summoned reply $0.01, any other post $0.015, a post with a link $0.20, a DM as a post', () => {
    expect(X_PRICES_USD).toEqual({ summonedReply: 0.01, post: 0.015, postWithLink: 0.2, dm: 0.015 });
    expect(replyCostMicroUsd({ kind: 'post', posts: [{ link: false, summoned: true }] })).toBe(10_000);
    expect(replyCostMicroUsd({ kind: 'post', posts: [{ link: false, summoned: false }] })).toBe(15_000);
    expect(replyCostMicroUsd({ kind: 'post', posts: [{ link: true, summoned: true }] })).toBe(200_000);
    const thread = [true, false, false].map((summoned) => ({ link: false, summoned }));
    expect(replyCostMicroUsd({ kind: 'post', posts: thread })).toBe(40_000);
    expect(replyCostMicroUsd({ kind: 'dm' })).toBe(15_000);
    expect(replyCostMicroUsd({ kind: 'dm' }, { ...X_PRICES_USD, dm: 0.02 })).toBe(20_000);
  });
});

let store: MemoryTicketStore;
let spend: ReturnType<typeof memorySpendCounter>;
let sent: string[];
let script: Array<'ok' | Error>;
let clock: number;
let requestDeps: RequestReplyDeps;
let replyDeps: PostReplyDeps;

const x: ReplyPoster = {
  postReply: async ({ text }) => {
    const step = script.shift() ?? 'ok';
    if (step instanceof Error) throw step;
    sent.push(text);
    return { xId: String(1990000000000009000n + BigInt(sent.length)) };
  },
  sendDm: async () => ({ xId: '1990000000000008001' }),
  findPosted: async () => undefined,
};

beforeEach(async () => {
  store = memoryTicketStore();
  spend = memorySpendCounter();
  sent = [];
  script = [];
  clock = T0;
  const now = () => new Date(clock);
  requestDeps = {
    store,
    now,
    enqueue: async () => undefined,
    posting: { policy: 'summoned', account: BOT },
    spend: { counter: spend, monthlyCapUsd: 0.03 },
  };
  replyDeps = { store, x, bot: BOT, now, policy: 'summoned', spend: { counter: spend, monthlyCapUsd: 0.03 } };
  const mention: CompletePost = {
    kind: 'post',
    format: 'xaa',
    xId: '1990000000000000001',
    author: JANE,
    text: '@AcmeSupport my router keeps dropping',
    createdAt: new Date(T0).toISOString(),
    mentionsBot: true,
    via: 'post.mention.create',
    receivedAt: new Date(T0).toISOString(),
    links: [],
    media: [],
  };
  await ingestItem(mention, { store, brand: 'acme', botUserId: BOT.xUserId, botUsername: BOT.username, windows: { mentionMergeHours: 24, reopenHours: 168 }, now });
});

describe('the monthly cap', () => {
  it('each reply records its estimate; counted per UTC day and month when posted; past the cap: 422 spend_cap', async () => {
    // A thread of three: the first part answers the customer, the others the account's own posts.
    const thread = await requestReply(TICKET, { text: LONG, split: true }, 'a', { ...requestDeps, spend: { counter: spend } });
    expect(thread).toMatchObject({ cost: 0.04 });
    expect(thread.parts).toHaveLength(3);
    const one = await requestReply(TICKET, { text: 'On it' }, 'b', { ...requestDeps, spend: { counter: spend } });
    expect(one).toMatchObject({ cost: 0.01 });
    expect(await postReply(one.id, replyDeps)).toMatchObject({ outcome: 'posted' });
    expect([...spend.totals]).toEqual([['2026-11', 10_000], ['2026-11-16', 10_000]]);
    expect(await postReply((await requestReply(TICKET, { text: 'Two' }, 'c', requestDeps)).id, replyDeps)).toMatchObject({ outcome: 'posted' });
    expect(await postReply((await requestReply(TICKET, { text: 'Three' }, 'd', requestDeps)).id, replyDeps)).toMatchObject({ outcome: 'posted' });
    const refused = await requestReply(TICKET, { text: 'Four' }, 'e', requestDeps).catch((e: unknown) => e);
    expect(refused).toMatchObject({ status: 422, details: { code: 'spend_cap', costUsd: 0.01, spentUsd: 0.03, capUsd: 0.03 } });
    expect(sent).toEqual(['On it', 'Two', 'Three']);
  });

  it('the cap reached while a reply waited: reply_failed spend_cap, nothing sent', async () => {
    const waiting = await requestReply(TICKET, { text: 'Queued first' }, 'a', requestDeps);
    await spend.reserve({ month: '2026-11', day: '2026-11-16', microUsd: 25_000 });
    expect(await postReply(waiting.id, replyDeps)).toMatchObject({ outcome: 'failed', code: 'spend_cap' });
    expect(sent).toEqual([]);
    expect(store.tickets.get(TICKET)!.lastChange).toMatchObject({ type: 'ticket.reply_failed', replyId: waiting.id });
  });

  it('a reply retried after a 429 is counted once', async () => {
    const reply = await requestReply(TICKET, { text: 'After the limit' }, 'a', requestDeps);
    script = [new RetryableError('Too Many Requests', T0 + 60_000)];
    expect(await postReply(reply.id, replyDeps)).toMatchObject({ outcome: 'retry' });
    clock = T0 + 60_000;
    expect(await postReply(reply.id, replyDeps)).toMatchObject({ outcome: 'posted' });
    expect(await spend.month('2026-11')).toBe(10_000);
  });

  it('each reply counted is reported with the month so far; from 80 % of the cap it is near the cap', async () => {
    const counted: unknown[] = [];
    const deps = { ...replyDeps, spend: { ...replyDeps.spend!, counted: (c: unknown) => void counted.push(c) } };
    for (const key of ['a', 'b', 'c']) {
      expect(await postReply((await requestReply(TICKET, { text: `Reply ${key}` }, key, requestDeps)).id, deps)).toMatchObject({ outcome: 'posted' });
    }
    expect(counted).toEqual([10_000, 20_000, 30_000].map((monthMicroUsd) => ({ costMicroUsd: 10_000, monthMicroUsd, capMicroUsd: 30_000 })));
    expect([nearCap(23_999, 30_000), nearCap(24_000, 30_000), nearCap(1e9, undefined)]).toEqual([false, true, false]);
  });
});
