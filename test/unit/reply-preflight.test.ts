// What X would refuse is refused before anything is posted (CONTRACT.md §5): the text's cashtags and length, and
// under X_REPLY_POLICY=summoned a target X does not let a self-serve app answer; the reply worker checks the target
// again against what is stored when it posts (a delete, or an edit, may have changed it meanwhile).
import { beforeEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../../shared/errors';
import { postReply, type PostReplyDeps, type ReplyPoster } from '../../shared/replies/post-reply';
import { postTextRefusal } from '../../shared/replies/post-text';
import { dmHandoffLink, requestReply, type RequestReplyDeps } from '../../shared/replies/request-reply';
import { accountSummonedBy } from '../../shared/replies/summoned';
import { ingestItem, type IngestDeps } from '../../shared/tickets/ingest';
import type { Message } from '../../shared/tickets/model';
import type { CompletePost } from '../../shared/x/inbound-event';
import { weightedLength } from '../../shared/x/weighted-length';
import { memoryTicketStore, type MemoryTicketStore } from '../support/memory-ticket-store';

const BOT = { xUserId: '1602999888777666555', username: 'AcmeSupport' };
const JANE = { xUserId: '1357924680', username: 'jane_doe_dev', name: 'Jane Doe' };
const T0 = Date.parse('2026-11-16T14:00:00.000Z');
const TICKET = 'mn-1357924680-1';

const post = (over: Partial<CompletePost>): CompletePost => ({
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
  ...over,
});

const message = (over: Partial<Message>): Message => ({
  id: 'msg-1',
  ticketId: TICKET,
  xId: '1',
  direction: 'inbound',
  channel: 'mention',
  text: 'my order is late',
  author: { xUserId: JANE.xUserId, username: JANE.username },
  createdAt: new Date(T0).toISOString(),
  redacted: false,
  ...over,
});

describe('the summoned rule, over the posts ingest stores', () => {
  it('a mention, a reply to the account, a quote of it and its own posts summon; others do not', () => {
    expect(accountSummonedBy(message({ summonsBot: true }), BOT)).toBe(true);
    expect(accountSummonedBy(message({ summonsBot: false }), BOT)).toBe(false);
    // A post quoting one of the account's posts, however it arrived (a listening query finds such posts too).
    expect(accountSummonedBy(message({ summonsBot: false, quoted: { xId: '9', author: { xUserId: BOT.xUserId, username: 'AcmeSupport' } } }), BOT)).toBe(true);
    expect(accountSummonedBy(message({ summonsBot: false, quoted: { xId: '9', author: { xUserId: '42', username: 'other' } } }), BOT)).toBe(false);
    // X lets the account reply under what it wrote: each part of a thread answers the one before.
    expect(accountSummonedBy(message({ direction: 'outbound', author: BOT, summonsBot: false }), BOT)).toBe(true);
    // Stored before summonsBot was kept: the text decides, the handle as a whole word, any case.
    expect(accountSummonedBy(message({ text: 'hey @acmesupport help' }), BOT)).toBe(true);
    expect(accountSummonedBy(message({ text: 'hey @AcmeSupportFan help' }), BOT)).toBe(false);
    expect(accountSummonedBy(message({ text: 'mail support@AcmeSupport.com' }), BOT)).toBe(false);
  });
});

describe('the text X would refuse', () => {
  it('two cashtags are refused, one is fine; a dollar amount is no cashtag', () => {
    expect(postTextRefusal('Both $TSLA and $AAPL are fine')).toMatchObject({ code: 'too_many_cashtags', details: { cashtags: 2, max: 1 } });
    expect(postTextRefusal('Only $TSLA, priced US$5 or $5')).toBeUndefined();
  });

  it('over 280 weighted characters is too_long with the measured length', () => {
    expect(postTextRefusal('字'.repeat(141))).toMatchObject({ code: 'too_long', details: { weightedLength: 282, max: 280 } });
    expect(postTextRefusal('字'.repeat(140))).toBeUndefined();
  });
});

let store: MemoryTicketStore;
let calls: string[];
let enqueued: string[];
let requestDeps: RequestReplyDeps;
let replyDeps: PostReplyDeps;
let ingestDeps: IngestDeps;

const x: ReplyPoster = {
  postReply: async ({ text }) => {
    calls.push(text);
    return { xId: String(1990000000000009000n + BigInt(calls.length)) };
  },
  sendDm: async ({ text }) => {
    calls.push(text);
    return { xId: '1990000000000008001' };
  },
  findPosted: async () => undefined,
};

beforeEach(async () => {
  store = memoryTicketStore();
  calls = [];
  enqueued = [];
  const now = () => new Date(T0);
  requestDeps = { store, now, enqueue: async (id) => void enqueued.push(id), posting: { policy: 'summoned', account: BOT } };
  replyDeps = { store, x, bot: BOT, now, policy: 'summoned' };
  ingestDeps = { store, brand: 'acme', botUserId: BOT.xUserId, botUsername: BOT.username, windows: { mentionMergeHours: 24, reopenHours: 168 }, now };
  await ingestItem(post({}), ingestDeps);
});

/** The customer's follow-up in their own thread, not naming the account: X would refuse a reply under it. */
async function unsummonedFollowUp(): Promise<string> {
  const followUp = post({
    xId: '1990000000000000002',
    text: '@jane_doe_dev also the box was open',
    mentionsBot: false,
    inReplyToXId: '1990000000000000001',
    inReplyToUserId: JANE.xUserId,
    via: 'post.reply.create',
  });
  await ingestItem(followUp, ingestDeps);
  expect(store.xItems.get(followUp.xId)).toMatchObject({ kind: 'message', message: { ticketId: TICKET, summonsBot: false } });
  return `msg-${followUp.xId}`;
}

const refusal = (promise: Promise<unknown>) => promise.then(() => undefined, (e: unknown) => e);

describe('requesting a reply X would refuse', () => {
  it('not_summoned under the summoned policy, with nothing recorded or queued; `any` lets it through', async () => {
    const messageId = await unsummonedFollowUp();
    const error = await refusal(requestReply(TICKET, { text: 'Sorry!', inReplyToMessageId: messageId }, 'k1', requestDeps));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ status: 422, field: 'inReplyToMessageId', details: { code: 'not_summoned' } });
    expect([store.replies.size, enqueued]).toEqual([0, []]);
    // The default target stays the latest post that summoned the account.
    expect(await requestReply(TICKET, { text: 'Sorry!' }, 'k2', requestDeps)).toMatchObject({ status: 'queued' });
    const any = { ...requestDeps, posting: { policy: 'any' as const, account: BOT } };
    expect(await requestReply(TICKET, { text: 'Sorry!', inReplyToMessageId: messageId }, 'k3', any)).toMatchObject({ status: 'queued' });
  });

  it('too_many_cashtags, and a deleted target is target_deleted', async () => {
    expect(await refusal(requestReply(TICKET, { text: '$TSLA or $AAPL?' }, undefined, requestDeps))).toMatchObject({
      status: 422,
      details: { code: 'too_many_cashtags' },
    });
    await ingestItem({ kind: 'delete', format: 'xaa', xId: '1990000000000000001', authorXUserId: JANE.xUserId, deletedAt: new Date(T0).toISOString(), via: 'post.delete', receivedAt: new Date(T0).toISOString() }, ingestDeps);
    expect(await refusal(requestReply(TICKET, { text: 'Hi', inReplyToMessageId: 'msg-1990000000000000001' }, undefined, requestDeps))).toMatchObject({
      status: 422,
      details: { code: 'target_deleted' },
    });
    expect(store.replies.size).toBe(0);
  });

  it("handoff: dm appends X's DM link on its own line, counted within the 280", async () => {
    const link = dmHandoffLink(BOT);
    expect(link).toBe('https://x.com/messages/compose?recipient_id=1602999888777666555');
    const reply = await requestReply(TICKET, { text: 'Send us your order number by DM ', handoff: 'dm' }, undefined, requestDeps);
    expect(reply.text).toBe(`Send us your order number by DM\n${link}`);
    // 256 + newline + the link's 23 is 280: accepted; one more is refused.
    expect(await requestReply(TICKET, { text: 'a'.repeat(256), handoff: 'dm' }, undefined, requestDeps)).toMatchObject({ status: 'queued' });
    expect(weightedLength(`${'a'.repeat(256)}\n${link}`).weightedLength).toBe(280);
    expect(await refusal(requestReply(TICKET, { text: 'a'.repeat(257), handoff: 'dm' }, undefined, requestDeps))).toMatchObject({
      details: { code: 'too_long', weightedLength: 281 },
    });
  });
});

describe('the reply worker checks the target again', () => {
  it('a target deleted while the reply waited fails it target_deleted, with nothing sent', async () => {
    const reply = await requestReply(TICKET, { text: 'On it' }, 'k', requestDeps);
    await ingestItem({ kind: 'delete', format: 'xaa', xId: '1990000000000000001', authorXUserId: JANE.xUserId, deletedAt: new Date(T0).toISOString(), via: 'post.delete', receivedAt: new Date(T0).toISOString() }, ingestDeps);
    expect(await postReply(reply.id, replyDeps)).toMatchObject({ outcome: 'failed', code: 'target_deleted' });
    expect(calls).toEqual([]);
    expect(store.tickets.get(TICKET)!.lastChange).toMatchObject({ type: 'ticket.reply_failed', replyId: reply.id });
  });

  it('a target that no longer summons the account (as stored now) fails not_summoned; under `any` it is posted', async () => {
    const messageId = await unsummonedFollowUp();
    const any = { ...requestDeps, posting: { policy: 'any' as const, account: BOT } };
    const reply = await requestReply(TICKET, { text: 'On it', inReplyToMessageId: messageId }, 'k', any);
    expect(await postReply(reply.id, replyDeps)).toMatchObject({ outcome: 'failed', code: 'not_summoned' });
    const second = await requestReply(TICKET, { text: 'On it again', inReplyToMessageId: messageId }, 'k2', any);
    expect(await postReply(second.id, { ...replyDeps, policy: 'any' })).toMatchObject({ outcome: 'posted' });
    expect(calls).toEqual(['On it again']);
  });
});
