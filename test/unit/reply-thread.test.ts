// Threads (`split: true`) on an in-memory store: each part recorded before it is sent and posted exactly once, in
// order, each under the one before, across crashes and rate limits; reply_posted once at the end; a refused part stops
// the thread and says which parts X has. The X side is a scripted poster.
import { beforeEach, describe, expect, it } from 'vitest';
import { PermanentError, RetryableError, ValidationError } from '../../shared/errors';
import { postReply, type PostReplyDeps, type ReplyPoster } from '../../shared/replies/post-reply';
import { requestReply, type RequestReplyDeps } from '../../shared/replies/request-reply';
import { ingestItem, type IngestDeps } from '../../shared/tickets/ingest';
import type { CompletePost } from '../../shared/x/inbound-event';
import { weightedLength } from '../../shared/x/weighted-length';
import { memoryTicketStore, type MemoryTicketStore } from '../support/memory-ticket-store';

const BOT = { xUserId: '1602999888777666555', username: 'AcmeSupport' };
const JANE = { xUserId: '1357924680', username: 'jane_doe_dev', name: 'Jane Doe' };
const T0 = Date.parse('2026-11-16T14:00:00.000Z');
const TICKET = 'mn-1357924680-1';
const MENTION = '1990000000000000001';
const LONG = Array.from({ length: 60 }, (_, i) => `Step ${i + 1} of the fix: restart the router.`).join(' ');

type Step = 'ok' | Error | 'crash';

/** X as the reply worker sees it; `crash` posts, then the answer is lost (a timeout, a dropped connection). */
class ScriptedX implements ReplyPoster {
  posted: Array<{ xId: string; text: string; inReplyToXId: string }> = [];
  calls = 0;
  script: Step[] = [];
  private next = 1990000000000009000n;
  async postReply(input: { text: string; inReplyToXId: string }) {
    this.calls++;
    const step = this.script.shift() ?? 'ok';
    if (step instanceof Error) throw step;
    const xId = String(++this.next);
    this.posted.push({ xId, ...input });
    if (step === 'crash') throw new WorkerDied();
    return { xId };
  }
  async sendDm(): Promise<{ xId: string }> {
    throw new Error('no DMs here');
  }
  async findPosted(input: Parameters<ReplyPoster['findPosted']>[0]) {
    const target = input.target.kind === 'post' ? input.target.inReplyToXId : '';
    const hit = this.posted.find((p) => p.inReplyToXId === target && p.text === input.text);
    return hit && { xId: hit.xId };
  }
}
class WorkerDied extends Error {}

let store: MemoryTicketStore;
let x: ScriptedX;
let clock: number;
let requestDeps: RequestReplyDeps;
let replyDeps: PostReplyDeps;

const mention: CompletePost = {
  kind: 'post',
  format: 'xaa',
  xId: MENTION,
  author: JANE,
  text: '@AcmeSupport my router keeps dropping',
  createdAt: new Date(T0).toISOString(),
  mentionsBot: true,
  via: 'post.mention.create',
  receivedAt: new Date(T0).toISOString(),
  links: [],
  media: [],
};

beforeEach(async () => {
  store = memoryTicketStore();
  x = new ScriptedX();
  clock = T0;
  const now = () => new Date(clock);
  requestDeps = { store, now, enqueue: async () => undefined, posting: { policy: 'summoned', account: BOT } };
  replyDeps = { store, x, bot: BOT, now, policy: 'summoned', inFlightGraceMs: 60_000 };
  const ingestDeps: IngestDeps = { store, brand: 'acme', botUserId: BOT.xUserId, botUsername: BOT.username, windows: { mentionMergeHours: 24, reopenHours: 168 }, now };
  await ingestItem(mention, ingestDeps);
});

/** Every part under the one before it, the first under the customer's post, in order. */
function expectChained(parts: string[]) {
  expect(x.posted.map((p) => p.text)).toEqual(parts);
  expect(x.posted.map((p) => p.inReplyToXId)).toEqual([MENTION, ...x.posted.slice(0, -1).map((p) => p.xId)]);
}

describe('a thread', () => {
  it('without split, over 280 is too_long with the number of parts it would take', async () => {
    const error = await requestReply(TICKET, { text: LONG }, undefined, requestDeps).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ status: 422, details: { code: 'too_long', parts: 9 } });
  });

  it('is recorded with its numbered parts, posted in order each under the one before, reply_posted once', async () => {
    const reply = await requestReply(TICKET, { text: LONG, split: true }, 'k', requestDeps);
    const parts = reply.parts!;
    expect(parts).toHaveLength(9);
    for (const [i, part] of parts.entries()) {
      expect(part.endsWith(` ${i + 1}/9`)).toBe(true);
      expect(weightedLength(part).weightedLength).toBeLessThanOrEqual(280);
    }
    const result = await postReply(reply.id, replyDeps);
    expect(result).toMatchObject({ outcome: 'posted', xId: x.posted[0]!.xId });
    expectChained(parts);
    const settled = (await store.getReply(reply.id))!.reply;
    expect(settled).toMatchObject({ status: 'posted', xId: x.posted[0]!.xId, xIds: x.posted.map((p) => p.xId) });
    expect(store.tickets.get(TICKET)!).toMatchObject({ sequence: 2, lastChange: { type: 'ticket.reply_posted', replyId: reply.id } });
    expect(await postReply(reply.id, replyDeps)).toMatchObject({ outcome: 'already_settled' });
    expect(x.calls).toBe(9);
  });

  it("X's answer to part 2 lost: the next attempt finds part 2 on X and resumes at part 3, no part twice", async () => {
    const reply = await requestReply(TICKET, { text: LONG, split: true }, 'k', requestDeps);
    x.script = ['ok', 'crash'];
    expect(await postReply(reply.id, replyDeps)).toMatchObject({ outcome: 'retry' });
    expect((await store.getReply(reply.id))!.reply).toMatchObject({ status: 'posting', xIds: [x.posted[0]!.xId] });
    // Within the grace another worker may still be waiting for X: left alone.
    expect(await postReply(reply.id, replyDeps)).toMatchObject({ outcome: 'retry' });
    clock += 60_000;
    expect(await postReply(reply.id, replyDeps)).toMatchObject({ outcome: 'posted' });
    expectChained(reply.parts!);
    expect(x.calls).toBe(9);
    expect((await store.getReply(reply.id))!.reply.xIds).toEqual(x.posted.map((p) => p.xId));
  });

  it('a worker that dies after X took part 2, before recording it, resumes at part 3', async () => {
    const reply = await requestReply(TICKET, { text: LONG, split: true }, 'k', requestDeps);
    const updateReply = store.updateReply.bind(store);
    let died = 0;
    store.updateReply = async (stored, expected) => {
      if (stored.reply.xIds?.length === 2 && died++ === 0) throw new WorkerDied('worker died recording part 2');
      return updateReply(stored, expected);
    };
    await expect(postReply(reply.id, replyDeps)).rejects.toBeInstanceOf(WorkerDied);
    expect(x.calls).toBe(2);
    clock += 60_000;
    expect(await postReply(reply.id, replyDeps)).toMatchObject({ outcome: 'posted' });
    expectChained(reply.parts!);
    expect(x.calls).toBe(9);
  });

  it("a 429 on part 4 waits for X's reset through the queue and continues with part 4", async () => {
    const reply = await requestReply(TICKET, { text: LONG, split: true }, 'k', requestDeps);
    x.script = ['ok', 'ok', 'ok', new RetryableError('Too Many Requests', T0 + 900_000)];
    expect(await postReply(reply.id, replyDeps)).toMatchObject({ outcome: 'retry', afterSeconds: 900 });
    expect((await store.getReply(reply.id))!.reply).toMatchObject({ status: 'queued', xIds: x.posted.map((p) => p.xId) });
    clock = T0 + 900_000;
    expect(await postReply(reply.id, replyDeps)).toMatchObject({ outcome: 'posted' });
    expectChained(reply.parts!);
    expect(x.calls).toBe(10);
  });

  it('a part X refuses stops the thread: reply_failed names the parts X has, xIds lists them', async () => {
    const reply = await requestReply(TICKET, { text: LONG, split: true }, 'k', requestDeps);
    x.script = ['ok', 'ok', new PermanentError('X refused: duplicate content', 'duplicate_content')];
    expect(await postReply(reply.id, replyDeps)).toMatchObject({ outcome: 'failed', code: 'duplicate_content' });
    const failed = (await store.getReply(reply.id))!.reply;
    expect(failed.xIds).toEqual(x.posted.map((p) => p.xId));
    expect(failed.error!.message).toContain('part 3 of 9');
    expect(store.tickets.get(TICKET)!.lastChange).toMatchObject({ type: 'ticket.reply_failed' });
    expect(x.calls).toBe(3);
  });

  it('each part is checked for cashtags; the whole text may carry one per part', async () => {
    const text = `$TSLA ${LONG.slice(0, 300)} $AAPL ${LONG.slice(0, 250)}`;
    await expect(requestReply(TICKET, { text, split: true }, undefined, requestDeps)).resolves.toMatchObject({ status: 'queued' });
    await expect(requestReply(TICKET, { text: `$TSLA $AAPL ${LONG}`, split: true }, undefined, requestDeps)).rejects.toMatchObject({
      details: { code: 'too_many_cashtags' },
    });
  });
});
