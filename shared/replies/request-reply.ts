// Use case: the helpdesk asks for a reply. The reply is recorded (queued) before anything is sent, under an id
// derived from the Idempotency-Key, so asking again with the same key finds the same reply and posts nothing new.
import { createHash, randomUUID } from 'node:crypto';
import * as z from 'zod/mini';
import { ConflictError, NotFoundError, ValidationError } from '../errors';
import type { Reply } from '../tickets/model';
import type { StoredReply, TicketStore } from '../tickets/ticket-store';
import { DM_MAX_CHARACTERS, replyTarget } from './reply-target';

export const replyRequestSchema = z
  .strictObject({
    text: z
      .string()
      .check(
        z.maxLength(DM_MAX_CHARACTERS * 2),
        z.refine((t) => t.trim().length > 0, 'must not be empty'),
      )
      .register(z.globalRegistry, {
        description:
          'The reply, posted as is (no handle is prepended). Posts: at most 280 weighted characters as X counts them; DMs: 10,000 characters.',
      }),
    inReplyToMessageId: z
      .optional(z.string().check(z.regex(/^msg-\d{1,20}$/, 'must be a message id like msg-123')))
      .register(z.globalRegistry, {
        description:
          'Mention tickets: the message to reply under. Default: the latest customer post that mentioned, replied to or quoted the brand.',
      }),
  })
  .register(z.globalRegistry, { id: 'ReplyRequest', title: 'Reply request', description: 'A reply to post through the brand account.' });
export type ReplyRequest = z.infer<typeof replyRequestSchema>;

export const idempotencyKeySchema = z
  .string()
  .check(z.minLength(1), z.maxLength(255), z.regex(/^[\x21-\x7e]+$/, 'must be printable ASCII'));

export type RequestReplyDeps = {
  store: TicketStore;
  /** Hands the reply to the posting worker. Must be safe to call twice for one reply. */
  enqueue: (replyId: string) => Promise<void>;
  now: () => Date;
};

const sha256 = (value: string) => createHash('sha256').update(value, 'utf8').digest('base64url');

/**
 * Records and queues a reply. Returns the reply (status `queued` when new, its current state when the key was used
 * before). Throws NotFoundError, ValidationError (400 bad field, 422 too long with the measured length) or
 * ConflictError (the key was used for a different reply).
 */
export async function requestReply(
  ticketId: string,
  request: ReplyRequest,
  idempotencyKey: string | undefined,
  deps: RequestReplyDeps,
): Promise<Reply> {
  const view = await deps.store.getTicketView(ticketId);
  if (!view) throw new NotFoundError(`no ticket ${ticketId}`);
  const text = request.text.normalize('NFC');
  await assertLength(text, view.ticket.channel);

  const fingerprint = sha256(`${text}\n${request.inReplyToMessageId ?? ''}`);
  const replyId = idempotencyKey ? `rp_${sha256(`${ticketId}\n${idempotencyKey}`).slice(0, 26)}` : `rp_${randomUUID()}`;

  const previous = idempotencyKey ? await deps.store.getReply(replyId) : undefined;
  if (previous) return replay(previous, fingerprint, deps);

  const now = deps.now().toISOString();
  const stored: StoredReply = {
    reply: {
      id: replyId,
      ticketId,
      status: 'queued',
      text,
      ...(request.inReplyToMessageId ? { inReplyToMessageId: request.inReplyToMessageId } : {}),
      createdAt: now,
      updatedAt: now,
    },
    target: replyTarget(view.ticket, view.messages, request.inReplyToMessageId),
    requestFingerprint: fingerprint,
    attempts: 0,
  };
  if ((await deps.store.createReply(stored)) === 'reply_exists') {
    // Two requests with one key raced; the other one recorded it first.
    const winner = await deps.store.getReply(replyId);
    if (!winner) throw new ConflictError(`reply ${replyId} is being recorded; try again`);
    return replay(winner, fingerprint, deps);
  }
  await deps.enqueue(replyId);
  return stored.reply;
}

async function replay(previous: StoredReply, fingerprint: string, deps: RequestReplyDeps): Promise<Reply> {
  if (previous.requestFingerprint !== fingerprint) {
    throw new ConflictError('this Idempotency-Key was already used for a different reply');
  }
  // The first request may have died between recording and queueing; queueing again is harmless.
  if (previous.reply.status === 'queued') await deps.enqueue(previous.reply.id);
  return previous.reply;
}

async function assertLength(text: string, channel: 'mention' | 'dm'): Promise<void> {
  if (channel === 'dm') {
    const length = [...text].length;
    if (length > DM_MAX_CHARACTERS) {
      throw new ValidationError(`text is ${length} characters; a DM takes at most ${DM_MAX_CHARACTERS}`, 'text', 422, {
        length,
        max: DM_MAX_CHARACTERS,
      });
    }
    return;
  }
  // X's counter (twitter-text, with its polyfills) is loaded by the first reply, not at a cold start of the API.
  const { weightedLength } = await import('../x/weighted-length');
  const measured = weightedLength(text);
  if (measured.weightedLength > measured.max) {
    throw new ValidationError(
      `text is ${measured.weightedLength} weighted characters; X takes at most ${measured.max}`,
      'text',
      422,
      { weightedLength: measured.weightedLength, max: measured.max },
    );
  }
}
