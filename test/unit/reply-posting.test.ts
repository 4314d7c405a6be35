// Replies through the bot (CONTRACT.md §5) on an in-memory store: exactly once, waits and refusals, crash recovery
// and the webhook echo. The X side is a scripted ReplyPoster here; test/integration drives the real client against
// the fake X server.
import { beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, PermanentError, RetryableError, ValidationError } from '../../shared/errors';
import { postReply, type PostReplyDeps, type ReplyPoster } from '../../shared/replies/post-reply';
import { requestReply, type RequestReplyDeps } from '../../shared/replies/request-reply';
import { ingestItem, type IngestDeps } from '../../shared/tickets/ingest';
import type { CompleteDm as InboundDm, CompletePost as InboundPost } from '../../shared/x/inbound-event';
import { memoryTicketStore, type MemoryTicketStore } from '../support/memory-ticket-store';

const BOT = { xUserId: '1602999888777666555', username: 'AcmeSupport', name: 'Acme Support' };
const JANE = { xUserId: '1357924680', username: 'jane_doe_dev', name: 'Jane Doe' };
const T0 = Date.parse('2026-11-16T14:00:00.000Z');

type Script = Array<'ok' | Error>;

class ScriptedX implements ReplyPoster {
  calls: Array<{ kind: 'post' | 'dm'; text: string; target: string }> = [];
  posted = new Map<string, { text: string; target: string }>();
  script: Script = [];
  private next = 1990000000000009000n;
  private answer(kind: 'post' | 'dm', text: string, target: string) {
    this.calls.push({ kind, text, target });
    const step = this.script.shift() ?? 'ok';
    if (step instanceof Error) throw step;
    const xId = String(++this.next);
    this.posted.set(xId, { text, target });
    return { xId };
  }
  async postReply(input: { text: string; inReplyToXId: string }) {
    return this.answer('post', input.text, input.inReplyToXId);
  }
  async sendDm(input: { participantXUserId: string; text: string }) {
    return this.answer('dm', input.text, input.participantXUserId);
  }
  async findPosted(input: Parameters<ReplyPoster['findPosted']>[0]) {
    const target = input.target.kind === 'post' ? input.target.inReplyToXId : input.target.participantXUserId;
    for (const [xId, p] of this.posted) if (p.target === target && p.text === input.text) return { xId };
    return undefined;
  }
}

let store: MemoryTicketStore;
let x: ScriptedX;
let clock: number;
let enqueued: string[];
let replyDeps: PostReplyDeps;
let requestDeps: RequestReplyDeps;
let ingestDeps: IngestDeps;

const mention: InboundPost = {
  kind: 'post',
  format: 'xaa',
  xId: '1990000000000000001',
  author: JANE,
  text: '@AcmeSupport my order is late',
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
  enqueued = [];
  const now = () => new Date(clock);
  replyDeps = { store, x, bot: { xUserId: BOT.xUserId, username: BOT.username }, now, inFlightGraceMs: 60_000 };
  requestDeps = { store, now, enqueue: async (id) => void enqueued.push(id) };
  ingestDeps = { store, brand: 'acme', botUserId: BOT.xUserId, botUsername: BOT.username, windows: { mentionMergeHours: 24, reopenHours: 168 }, now };
  await ingestItem(mention, ingestDeps);
});

const TICKET = 'mn-1357924680-1';

describe('requesting a reply', () => {
  it('records it queued, targeted at the latest post that summoned the bot, and queues it', async () => {
    const reply = await requestReply(TICKET, { text: 'Sorry! Looking into it.' }, 'key-1', requestDeps);
    expect(reply).toMatchObject({ status: 'queued', ticketId: TICKET });
    expect(enqueued).toEqual([reply.id]);
    expect((await store.getReply(reply.id))!.target).toEqual({ kind: 'post', inReplyToXId: mention.xId });
  });

  it('the same Idempotency-Key returns the same reply; another body with it is a conflict', async () => {
    const first = await requestReply(TICKET, { text: 'Hello' }, 'key-1', requestDeps);
    const again = await requestReply(TICKET, { text: 'Hello' }, 'key-1', requestDeps);
    expect(again).toEqual(first);
    expect(store.replies.size).toBe(1);
    await expect(requestReply(TICKET, { text: 'Other' }, 'key-1', requestDeps)).rejects.toBeInstanceOf(ConflictError);
  });

  it('refuses text over 280 weighted characters with the measured length', async () => {
    const error = await requestReply(TICKET, { text: '😀'.repeat(141) }, undefined, requestDeps).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ status: 422, details: { weightedLength: 282, max: 280 } });
    await expect(requestReply(TICKET, { text: '😀'.repeat(140) }, undefined, requestDeps)).resolves.toMatchObject({ status: 'queued' });
  });

  it('a named message must belong to the ticket', async () => {
    await expect(requestReply(TICKET, { text: 'Hi', inReplyToMessageId: 'msg-42' }, undefined, requestDeps)).rejects.toMatchObject({
      field: 'inReplyToMessageId',
    });
  });
});

describe('posting a reply', () => {
  it('posts once, stores the outbound message and announces reply_posted', async () => {
    const reply = await requestReply(TICKET, { text: 'On it' }, 'k', requestDeps);
    const result = await postReply(reply.id, replyDeps);
    expect(result).toMatchObject({ outcome: 'posted', recovered: false });
    expect(x.calls).toEqual([{ kind: 'post', text: 'On it', target: mention.xId }]);
    const xId = (result as { xId: string }).xId;
    expect(store.xItems.get(xId)).toMatchObject({ kind: 'message', message: { direction: 'outbound', replyId: reply.id } });
    expect(store.tickets.get(TICKET)!.lastChange).toMatchObject({ type: 'ticket.reply_posted', replyId: reply.id });
    expect(await postReply(reply.id, replyDeps)).toMatchObject({ outcome: 'already_settled' });
    expect(x.calls).toHaveLength(1);
  });

  it("429: waits for X's reset through the queue, without calling X meanwhile", async () => {
    const reply = await requestReply(TICKET, { text: 'On it' }, 'k', requestDeps);
    x.script = [new RetryableError('Too Many Requests', T0 + 600_000)];
    expect(await postReply(reply.id, replyDeps)).toMatchObject({ outcome: 'retry', afterSeconds: 600 });
    expect((await store.getReply(reply.id))!.reply.status).toBe('queued');
    clock = T0 + 300_000;
    expect(await postReply(reply.id, replyDeps)).toMatchObject({ outcome: 'retry', afterSeconds: 300 });
    expect(x.calls).toHaveLength(1);
    clock = T0 + 600_000;
    expect(await postReply(reply.id, replyDeps)).toMatchObject({ outcome: 'posted' });
    expect(x.calls).toHaveLength(2);
  });

  it('5xx: backs off, checks X did not keep the post after all, then posts once', async () => {
    const reply = await requestReply(TICKET, { text: 'On it' }, 'k', requestDeps);
    x.script = [new RetryableError('X answered 503')];
    expect(await postReply(reply.id, replyDeps)).toMatchObject({ outcome: 'retry', afterSeconds: 10 });
    expect(await postReply(reply.id, replyDeps)).toMatchObject({ outcome: 'retry' });
    clock += 61_000;
    expect(await postReply(reply.id, replyDeps)).toMatchObject({ outcome: 'posted', recovered: false });
    expect(x.calls).toHaveLength(2);
  });

  it('a 503 for a post X kept anyway is found on X, not posted twice', async () => {
    const reply = await requestReply(TICKET, { text: 'On it' }, 'k', requestDeps);
    const keepThenFail = x.postReply.bind(x);
    x.postReply = async (input) => {
      await keepThenFail(input);
      throw new RetryableError('X answered 503');
    };
    expect(await postReply(reply.id, replyDeps)).toMatchObject({ outcome: 'retry' });
    clock += 61_000;
    expect(await postReply(reply.id, replyDeps)).toMatchObject({ outcome: 'posted', recovered: true });
    expect(x.calls).toHaveLength(1);
  });

  it("a permanent refusal fails the reply with X's reason, once", async () => {
    const reply = await requestReply(TICKET, { text: 'On it' }, 'k', requestDeps);
    x.script = [new PermanentError('You are not allowed to create a Tweet with duplicate content.', 'duplicate_content')];
    expect(await postReply(reply.id, replyDeps)).toMatchObject({ outcome: 'failed', code: 'duplicate_content' });
    expect((await store.getReply(reply.id))!.reply).toMatchObject({
      status: 'failed',
      error: { code: 'duplicate_content', message: 'You are not allowed to create a Tweet with duplicate content.' },
    });
    expect(store.tickets.get(TICKET)!.lastChange.type).toBe('ticket.reply_failed');
    expect(await postReply(reply.id, replyDeps)).toMatchObject({ outcome: 'already_settled' });
    expect(x.calls).toHaveLength(1);
  });

  it('a worker that died after X accepted the post: the next one finds it on X and never posts twice', async () => {
    const reply = await requestReply(TICKET, { text: 'On it' }, 'k', requestDeps);
    const realSettle = store.settleReply;
    store.settleReply = async () => {
      throw new Error('worker killed');
    };
    await expect(postReply(reply.id, replyDeps)).rejects.toThrow('worker killed');
    store.settleReply = realSettle;
    expect((await store.getReply(reply.id))!.reply.status).toBe('posting');
    // Within the grace another worker might still be waiting on X: leave it.
    expect(await postReply(reply.id, replyDeps)).toMatchObject({ outcome: 'retry' });
    clock += 61_000;
    expect(await postReply(reply.id, replyDeps)).toMatchObject({ outcome: 'posted', recovered: true });
    expect(x.calls).toHaveLength(1);
  });

  it('a timed-out call X never completed is posted again after the grace, once', async () => {
    const reply = await requestReply(TICKET, { text: 'On it' }, 'k', requestDeps);
    x.script = [new RetryableError('X request timed out after 10000 ms')];
    x.posted.clear();
    expect(await postReply(reply.id, replyDeps)).toMatchObject({ outcome: 'retry' });
    expect((await store.getReply(reply.id))!.reply.status).toBe('posting');
    clock += 61_000;
    expect(await postReply(reply.id, replyDeps)).toMatchObject({ outcome: 'posted', recovered: false });
    expect(x.calls).toHaveLength(2);
  });

  it('DM tickets answer by DM', async () => {
    const dm: InboundDm = {
      kind: 'dm', format: 'xaa', xId: '1990000000000000100', sender: JANE, recipientXUserId: BOT.xUserId,
      text: 'Order #A-1234', createdAt: new Date(T0).toISOString(), via: 'dm.received', receivedAt: new Date(T0).toISOString(),
      links: [], media: [],
    };
    await ingestItem(dm, ingestDeps);
    const reply = await requestReply('dm-1357924680-1', { text: 'Thanks, found it' }, 'k', requestDeps);
    expect(await postReply(reply.id, replyDeps)).toMatchObject({ outcome: 'posted' });
    expect(x.calls).toEqual([{ kind: 'dm', text: 'Thanks, found it', target: JANE.xUserId }]);
  });
});

describe("the webhook's echo of a posted reply", () => {
  it('after the reply was recorded: a duplicate, not a new message', async () => {
    const reply = await requestReply(TICKET, { text: 'On it' }, 'k', requestDeps);
    const posted = (await postReply(reply.id, replyDeps)) as { xId: string };
    const echo: InboundPost = { ...mention, xId: posted.xId, author: BOT, text: '@jane_doe_dev On it', inReplyToXId: mention.xId, mentionsBot: false };
    expect(await ingestItem(echo, ingestDeps)).toMatchObject({ outcome: 'duplicate' });
    expect(store.tickets.get(TICKET)!.sequence).toBe(2);
  });

  it('before the reply was recorded (worker still waiting on X): it settles the reply', async () => {
    const reply = await requestReply(TICKET, { text: 'On it https://example.com/a' }, 'k', requestDeps);
    const slowX = x.postReply.bind(x);
    let echoResult: unknown;
    x.postReply = async (input) => {
      const answer = await slowX(input);
      const echo: InboundPost = {
        ...mention, xId: answer.xId, author: BOT, text: '@jane_doe_dev On it https://t.co/abc', inReplyToXId: mention.xId, mentionsBot: false,
      };
      echoResult = await ingestItem(echo, ingestDeps);
      return answer;
    };
    expect(await postReply(reply.id, replyDeps)).toMatchObject({ outcome: 'already_settled', status: 'posted' });
    expect(echoResult).toMatchObject({ outcome: 'reply_matched', replyId: reply.id });
    const messages = (await store.getTicketView(TICKET))!.messages;
    expect(messages.filter((m) => m.direction === 'outbound')).toHaveLength(1);
    expect(store.changes.filter((t) => t.lastChange.type === 'ticket.reply_posted')).toHaveLength(1);
  });
});
