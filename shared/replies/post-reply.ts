// Use case: post one requested reply on X exactly once, and tell the helpdesk how it went.
//
// A reply moves queued → posting → posted | failed. `posting` is written (with the attempt number) before X is
// called, so a worker that dies after X accepted the post leaves a trace: the next worker to pick the reply up
// sees `posting`, and instead of posting again asks X whether the post exists (X is the only one who knows), or
// finds that the webhook's echo of the post already settled it. Only a reply X does not have is posted again.
import { PermanentError, RetryableError } from '../errors';
import type { Message, Reply, Ticket } from '../tickets/model';
import { messageIdFor } from '../tickets/model';
import type { StoredReply, TicketStore } from '../tickets/ticket-store';
import { XCHAT_MESSAGE_ID } from '../x/xchat-event';
import type { XChatReplier } from './xchat-reply';
import { targetRefusal } from './preflight';
import { capMicroUsd, spendPeriods, type SpendCounter } from './spend';
import type { ReplyPolicy } from './summoned';

/** What the bridge needs from X to post replies (implemented with twitter-api-v2 in shared/x/x-client.ts). */
export type ReplyPoster = {
  postReply(input: { text: string; inReplyToXId: string; mediaIds?: string[] }): Promise<{ xId: string }>;
  sendDm(input: { participantXUserId: string; text: string; mediaIds?: string[] }): Promise<{ xId: string }>;
  /**
   * Looks on X for a reply the bot already posted (after `since`) to this target with this text: how a crash
   * between X's answer and our record is resolved. Undefined when X has no such post.
   */
  findPosted(input: { target: StoredReply['target']; text: string; since: string }): Promise<{ xId: string } | undefined>;
};

export type PostReplyDeps = {
  store: TicketStore;
  x: ReplyPoster;
  bot: { xUserId: string; username: string };
  now: () => Date;
  /**
   * X_REPLY_POLICY, checked again before posting against the target as stored then (the function always passes it;
   * absent, `any`: model tests of other rules). A deleted target is refused under either.
   */
  policy?: ReplyPolicy;
  /** The brand's X spend: a reply's estimate is counted before its first attempt, refused when it would pass the cap. */
  spend?: {
    counter: SpendCounter;
    monthlyCapUsd?: number;
    /** Told each reply counted, with the month's total after it (the function turns it into metrics). */
    counted?: (spend: { costMicroUsd: number; monthMicroUsd: number; capMicroUsd?: number }) => void;
  };
  /** How long a `posting` reply is left alone: another worker may still be waiting for X's answer. */
  inFlightGraceMs?: number;
  /** Sends a DM reply by XChat when the customer wrote by XChat (shared/replies/xchat-reply.ts); else a plain DM. */
  xchat?: XChatReplier;
  /**
   * Fetches a reply's attachments and uploads them to X (shared/replies/reply-attachments.ts), resolving with X's media
   * ids in order. Throws PermanentError (a file X or the bridge refuses) or RetryableError. Without it, a reply with
   * attachments fails `attachments_unsupported`.
   */
  media?: {
    /** X's media ids, and while X still processes a video or GIF, when to ask again (seconds). */
    upload(attachments: NonNullable<StoredReply['attachments']>, channel: StoredReply['target']['kind']): Promise<MediaUploaded>;
    /** STATUS of uploaded media X was processing: seconds until it should be asked again, undefined once all are ready. */
    pending(mediaIds: string[]): Promise<number | undefined>;
  };
};

export type MediaUploaded = { mediaIds: string[]; checkAfterSecs?: number };

export type PostReplyOutcome =
  | { outcome: 'posted'; replyId: string; ticketId: string; xId: string; recovered: boolean }
  | { outcome: 'failed'; replyId: string; ticketId: string; code: string }
  | { outcome: 'already_settled'; replyId: string; status: Reply['status'] }
  | { outcome: 'missing'; replyId: string }
  | { outcome: 'retry'; replyId: string; afterSeconds: number; reason: string };

const DEFAULT_GRACE_MS = 90_000;
/** Backoff for X's 5xx and network errors, by attempt: 10 s, 30 s, 1.5 min, ... capped at 15 min. */
const transientBackoffSeconds = (attempt: number) => Math.min(900, 10 * 3 ** Math.max(0, attempt - 1));

/** Posts (or settles) one reply. Never posts a reply X already has; never posts a settled reply. */
export async function postReply(replyId: string, deps: PostReplyDeps): Promise<PostReplyOutcome> {
  const stored = await deps.store.getReply(replyId);
  if (!stored) return { outcome: 'missing', replyId };
  const { reply } = stored;
  if (reply.status === 'posted' || reply.status === 'failed') {
    return { outcome: 'already_settled', replyId, status: reply.status };
  }
  const now = deps.now();

  let current: StoredReply = stored;
  if (reply.status === 'posting') {
    const since = Date.parse(stored.postingSince ?? reply.updatedAt);
    const grace = deps.inFlightGraceMs ?? DEFAULT_GRACE_MS;
    if (now.getTime() - since < grace) {
      return retry(replyId, (since + grace - now.getTime()) / 1000, 'another attempt may still be in flight');
    }
    // The last attempt's outcome is unknown (the worker died or timed out): X decides whether it happened. For a
    // thread, that is the part it was posting: the one after those recorded.
    const k = postedParts(reply).length;
    const found = await deps.x.findPosted({ target: partTarget(stored, k), text: partsOf(reply)[k]!, since: reply.createdAt });
    if (found) {
      if (k === partsOf(reply).length - 1) return settlePosted(withPart(stored, found.xId), firstXId(stored, found.xId), true, deps);
      current = withPart(stored, found.xId);
    }
  } else if (stored.notBefore !== undefined && stored.notBefore > now.getTime()) {
    return retry(replyId, (stored.notBefore - now.getTime()) / 1000, "waiting for X's rate limit to reset");
  }

  // The target may have changed while the reply waited (deleted, or edited so it no longer summons the account): what
  // X would refuse is not sent. A thread's later parts answer the account's own posts, which X always allows.
  if (stored.target.kind === 'post' && postedParts(current.reply).length === 0) {
    const refusal = targetRefusal(await deps.store.getXItem(stored.target.inReplyToXId), deps.policy ?? 'any', deps.bot);
    if (refusal) return settleFailed(stored, new PermanentError(refusal.message, refusal.code), deps);
  }

  // The estimate is counted once, before the first attempt (a 429 or a crash later does not count it again; a crash
  // between counting and recording the attempt counts it twice, which errs on the side of the cap).
  if (deps.spend && stored.attempts === 0 && reply.cost !== undefined) {
    const cap = capMicroUsd(deps.spend.monthlyCapUsd);
    const costMicroUsd = Math.round(reply.cost * 1_000_000);
    const month = await deps.spend.counter.reserve({ ...spendPeriods(now), microUsd: costMicroUsd, ...(cap === undefined ? {} : { capMicroUsd: cap }) });
    if (month === undefined) {
      const why = `X_MONTHLY_SPEND_CAP_USD ($${deps.spend.monthlyCapUsd}) was reached while the reply waited; nothing was sent`;
      return settleFailed(stored, new PermanentError(why, 'spend_cap'), deps);
    }
    deps.spend.counted?.({ costMicroUsd, monthMicroUsd: month, ...(cap === undefined ? {} : { capMicroUsd: cap }) });
  }

  let attempt: StoredReply = {
    ...current,
    reply: { ...current.reply, status: 'posting', updatedAt: now.toISOString() },
    postingSince: now.toISOString(),
    attempts: stored.attempts + 1,
  };
  delete attempt.notBefore;
  if ((await deps.store.updateReply(attempt, { status: reply.status, attempts: stored.attempts })) !== 'ok') {
    return retry(replyId, 5, 'another worker took this reply');
  }

  // Attachments are uploaded once: their media ids are written to the `posting` reply before anything is posted, so
  // the attempt after a crash posts with them instead of uploading again. They go on the first post only.
  // A video or GIF X is still processing: the reply goes back to the queue until X's STATUS says it is ready.
  if (attempt.attachments?.length && (!attempt.mediaIds || attempt.mediaProcessing)) {
    if (!deps.media) return settleFailed(attempt, new PermanentError('this bridge posts no attachments', 'attachments_unsupported'), deps);
    let uploaded: MediaUploaded;
    try {
      uploaded = attempt.mediaIds
        ? { mediaIds: attempt.mediaIds, ...optionalSecs(await deps.media.pending(attempt.mediaIds)) }
        : await deps.media.upload(attempt.attachments, attempt.target.kind);
    } catch (error) {
      return handleRefusal(attempt, error, deps);
    }
    const next: StoredReply = { ...attempt, mediaIds: uploaded.mediaIds, attempts: attempt.attempts + 1 };
    delete next.mediaProcessing;
    if (uploaded.checkAfterSecs !== undefined) {
      // Nothing was posted: back to `queued`, waiting as X asked.
      next.mediaProcessing = true;
      next.reply = { ...next.reply, status: 'queued' };
      next.notBefore = deps.now().getTime() + uploaded.checkAfterSecs * 1000;
      delete next.postingSince;
    }
    if ((await deps.store.updateReply(next, { status: 'posting', attempts: attempt.attempts })) !== 'ok') {
      return retry(replyId, 5, 'another worker took this reply');
    }
    if (uploaded.checkAfterSecs !== undefined) return retry(replyId, uploaded.checkAfterSecs, 'X is still processing the attachment');
    attempt = next;
  }

  // One part per round (a reply that is no thread is one part): each is recorded `posting` before it is sent, and
  // recorded with its X id in the same write that marks the next one `posting`.
  for (;;) {
    const parts = partsOf(attempt.reply);
    const k = postedParts(attempt.reply).length;
    let posted: { xId: string };
    try {
      const target = partTarget(attempt, k);
      const media = k === 0 && attempt.mediaIds?.length ? { mediaIds: attempt.mediaIds } : {};
      posted =
        target.kind === 'post'
          ? await deps.x.postReply({ text: parts[k]!, inReplyToXId: target.inReplyToXId, ...media })
          : // A DM with an attachment goes as a plain DM: the XChat path sends text.
            ((media.mediaIds ? undefined : await deps.xchat?.send(attempt)) ??
            (await deps.x.sendDm({ participantXUserId: target.participantXUserId, text: reply.text, ...media })));
    } catch (error) {
      return handleRefusal(attempt, error, deps);
    }
    // X has the post now. If recording it fails, the error propagates and the reply stays `posting`: the next
    // attempt finds the post on X (or its echo settles it) instead of posting it again.
    if (k === parts.length - 1) return settlePosted(withPart(attempt, posted.xId), firstXId(attempt, posted.xId), false, deps);
    const at = deps.now().toISOString();
    const next: StoredReply = {
      ...withPart(attempt, posted.xId),
      postingSince: at,
      attempts: attempt.attempts + 1,
    };
    next.reply.updatedAt = at;
    if ((await deps.store.updateReply(next, { status: 'posting', attempts: attempt.attempts })) !== 'ok') {
      return retry(replyId, 5, 'another worker took this reply');
    }
    attempt = next;
  }
}

/** What X is sent: the thread's parts (numbered), or the reply's text as one post or DM. */
function partsOf(reply: Reply): string[] {
  return reply.parts ?? [reply.text];
}

/** The X ids of the parts of a thread posted so far, in order. */
function postedParts(reply: Reply): string[] {
  return reply.xIds ?? [];
}

/** Where part `k` goes: the first under the reply's target, each next one under the part before it. */
function partTarget(stored: StoredReply, k: number): StoredReply['target'] {
  return k === 0 ? stored.target : { kind: 'post', inReplyToXId: postedParts(stored.reply)[k - 1]! };
}

/** The reply with one more part posted (threads only: a single post's X id is recorded when it is settled). */
function withPart(stored: StoredReply, xId: string): StoredReply {
  if (!stored.reply.parts) return stored;
  const xIds = [...postedParts(stored.reply), xId];
  return { ...stored, reply: { ...stored.reply, xIds, xId: xIds[0]! } };
}

/** The reply's X id once posted: a thread's first part. */
function firstXId(stored: StoredReply, lastXId: string): string {
  return postedParts(stored.reply)[0] ?? lastXId;
}

/** X did not post the reply: fail it for good, or put it back in the queue with the wait X asked for. */
async function handleRefusal(attempt: StoredReply, error: unknown, deps: PostReplyDeps): Promise<PostReplyOutcome> {
  if (error instanceof PermanentError) {
    const posted = postedParts(attempt.reply);
    if (posted.length === 0) return settleFailed(attempt, error, deps);
    const of = partsOf(attempt.reply).length;
    // A part X refuses stops the thread; the reply's xIds are the parts X has.
    const why = `${error.message} (X refused part ${posted.length + 1} of ${of}; parts 1 to ${posted.length} are posted: ${posted.join(', ')})`;
    return settleFailed(attempt, new PermanentError(why, error.code), deps);
  }
  const notBefore = error instanceof RetryableError ? error.notBefore : undefined;
  const now = deps.now().getTime();
  const wait = notBefore !== undefined ? Math.max(1, (notBefore - now) / 1000) : transientBackoffSeconds(attempt.attempts);
  // Only a 429 says for sure that X did not post. A 5xx, a timeout or a dropped connection can come after X kept
  // the post, so those leave the reply `posting`: the next attempt, after the grace, asks X before posting again.
  const surelyNotPosted = notBefore !== undefined;
  if (surelyNotPosted) {
    const back: StoredReply = {
      ...attempt,
      reply: { ...attempt.reply, status: 'queued', updatedAt: new Date(now).toISOString() },
      ...(notBefore !== undefined ? { notBefore } : {}),
    };
    delete back.postingSince;
    await deps.store.updateReply(back, { status: 'posting', attempts: attempt.attempts });
  }
  return retry(attempt.reply.id, wait, (error as Error).message);
}

const optionalSecs = (secs: number | undefined) => (secs === undefined ? {} : { checkAfterSecs: secs });

function retry(replyId: string, afterSeconds: number, reason: string): PostReplyOutcome {
  return { outcome: 'retry', replyId, afterSeconds: Math.max(1, Math.ceil(afterSeconds)), reason };
}

/** The outbound message the posted reply becomes in its ticket, under the X id the webhook's echo will carry. */
export function outboundMessageFor(stored: StoredReply, ticket: Ticket, xId: string, bot: PostReplyDeps['bot'], at: string): Message {
  return {
    id: messageIdFor(xId),
    ticketId: ticket.id,
    xId,
    direction: 'outbound',
    channel: ticket.channel,
    text: stored.reply.text,
    author: { xUserId: bot.xUserId, username: bot.username },
    createdAt: at,
    ...(stored.target.kind === 'post' ? { inReplyToXId: stored.target.inReplyToXId } : {}),
    redacted: false,
    replyId: stored.reply.id,
    // An XChat message's id is the UUID its SDK minted: the helpdesk sees which way the reply went.
    ...(XCHAT_MESSAGE_ID.test(xId) ? { transport: 'xchat' as const } : {}),
  };
}

/**
 * Records a posted reply: the reply, its outbound message and the ticket change (`ticket.reply_posted`) in one
 * write. Exported for the ingest worker, which settles a reply from the webhook's echo when that arrives first.
 */
export async function settlePosted(
  stored: StoredReply,
  xId: string,
  recovered: boolean,
  deps: Pick<PostReplyDeps, 'store' | 'bot' | 'now'>,
): Promise<PostReplyOutcome> {
  const { reply } = stored;
  for (let round = 0; round < 6; round++) {
    const ticket = await deps.store.getTicket(reply.ticketId);
    if (!ticket) throw new RetryableError(`ticket ${reply.ticketId} of reply ${reply.id} not found`);
    const at = deps.now().toISOString();
    const settled: StoredReply = { ...stored, reply: { ...reply, status: 'posted', xId, updatedAt: at } };
    delete settled.postingSince;
    delete settled.notBefore;
    const next = changed(ticket, 'ticket.reply_posted', reply.id, at);
    const outbound = outboundMessageFor(stored, ticket, xId, deps.bot, at);
    let result = await deps.store.settleReply(settled, { status: reply.status, attempts: stored.attempts }, next, ticket.sequence, outbound);
    // The echo was already stored as a message: settle without it.
    if (result === 'message_exists') {
      result = await deps.store.settleReply(settled, { status: reply.status, attempts: stored.attempts }, next, ticket.sequence);
    }
    if (result === 'ok') return { outcome: 'posted', replyId: reply.id, ticketId: ticket.id, xId, recovered };
    if (result === 'reply_changed') {
      const now = await deps.store.getReply(reply.id);
      return { outcome: 'already_settled', replyId: reply.id, status: now?.reply.status ?? 'posted' };
    }
  }
  throw new RetryableError(`ticket ${reply.ticketId} kept changing while settling reply ${reply.id}`);
}

async function settleFailed(stored: StoredReply, error: PermanentError, deps: Pick<PostReplyDeps, 'store' | 'now'>): Promise<PostReplyOutcome> {
  const { reply } = stored;
  for (let round = 0; round < 6; round++) {
    const ticket = await deps.store.getTicket(reply.ticketId);
    if (!ticket) throw new RetryableError(`ticket ${reply.ticketId} of reply ${reply.id} not found`);
    const at = deps.now().toISOString();
    const settled: StoredReply = {
      ...stored,
      reply: { ...reply, status: 'failed', error: { code: error.code, message: error.message }, updatedAt: at },
    };
    delete settled.postingSince;
    const next = changed(ticket, 'ticket.reply_failed', reply.id, at);
    const result = await deps.store.settleReply(settled, { status: reply.status, attempts: stored.attempts }, next, ticket.sequence);
    if (result === 'ok') return { outcome: 'failed', replyId: reply.id, ticketId: ticket.id, code: error.code };
    if (result === 'reply_changed') return { outcome: 'already_settled', replyId: reply.id, status: 'failed' };
  }
  throw new RetryableError(`ticket ${reply.ticketId} kept changing while settling reply ${reply.id}`);
}

function changed(ticket: Ticket, type: 'ticket.reply_posted' | 'ticket.reply_failed', replyId: string, at: string): Ticket {
  return { ...ticket, updatedAt: at, sequence: ticket.sequence + 1, lastChange: { type, at, replyId } };
}
