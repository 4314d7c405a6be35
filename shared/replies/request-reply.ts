// Use case: the helpdesk asks for a reply. The reply is recorded (queued) before anything is sent, under an id
// derived from the Idempotency-Key, so asking again with the same key finds the same reply and posts nothing new.
import { createHash, randomUUID } from 'node:crypto';
import * as z from 'zod/mini';
import { ConflictError, NotFoundError, ValidationError } from '../errors';
import type { Reply } from '../tickets/model';
import type { StoredReply, TicketStore } from '../tickets/ticket-store';
import { composeReplyText } from './handoff';
import { DM_MAX_CHARACTERS, replyTarget } from './reply-target';
import { targetRefusal, type Refusal } from './preflight';
import { capMicroUsd, replyCostMicroUsd, spendPeriods, usd, type SpendCounter, type XPrices } from './spend';
import { accountSummonedBy, type Account, type ReplyPolicy } from './summoned';

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
    split: z.optional(z.boolean()).register(z.globalRegistry, {
      description:
        'Mention tickets: `true` posts a text over 280 weighted characters as a thread (at most 25 parts), cut between ' +
        'words, each part numbered `1/3` and at most 280 with its number, each under the one before. Without it such ' +
        'a text is 422 too_long, with the number of `parts` it would take.',
    }),
    handoff: z.optional(z.enum(['dm'])).register(z.globalRegistry, {
      description:
        'Mention tickets: `dm` appends X\'s link that opens a DM with the brand account (x.com/messages/compose), on a ' +
        'line of its own; it counts 23 toward the 280 like any link.',
    }),
    attachments: z
      .optional(
        z.array(z.strictObject({ url: z.string().check(z.maxLength(2048)), altText: z.optional(z.string().check(z.maxLength(4000))) })).check(z.maxLength(16)),
      )
      .register(z.globalRegistry, {
        description:
          'Files posted with the reply, each fetched by the bridge from its https `url` (JPEG, PNG, WEBP, GIF or MP4, ' +
          'typed by its bytes; no private address) and uploaded to X with `altText` (at most 1,000 characters). As X ' +
          'allows: up to 4 photos, or 1 GIF or video, on a post (a thread\'s first part); one on a DM. Refused 422 ' +
          'too_many_attachments, attachment_not_allowed or alt_text_too_long, naming the field.',
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
  /**
   * X_REPLY_POLICY and the brand account (who must be summoned; whom the DM hand-off opens a conversation with). The
   * functions always pass them; absent (model tests of other rules), nothing is checked against X's reply rule.
   */
  posting?: { policy: ReplyPolicy; account: Account };
  /** The brand's X spend: each reply's estimate is recorded on it, and with a cap a reply that would pass it is refused. */
  spend?: { counter: SpendCounter; monthlyCapUsd?: number; prices?: XPrices };
  /** X_REPLY_MEDIA_ALLOW_LOOPBACK: attachment URLs may be http on loopback (tests, `npm start`; never the stack). */
  media?: { allowLoopback: boolean };
};

export { dmHandoffLink } from './handoff';

const sha256 = (value: string) => createHash('sha256').update(value, 'utf8').digest('base64url');

/**
 * Records and queues a reply. Returns the reply (status `queued` when new, its current state when the key was used
 * before). Throws NotFoundError, ValidationError (400 bad field; 422 with the `code` of what X would refuse: too_long
 * with the measured length, too_many_cashtags, not_summoned, target_deleted) or ConflictError (the key was used for a different reply).
 */
export async function requestReply(
  ticketId: string,
  request: ReplyRequest,
  idempotencyKey: string | undefined,
  deps: RequestReplyDeps,
): Promise<Reply> {
  const view = await deps.store.getTicketView(ticketId);
  if (!view) throw new NotFoundError(`no ticket ${ticketId}`);
  if (request.handoff && (view.ticket.channel === 'dm' || !deps.posting)) {
    throw new ValidationError('handoff: a DM ticket is already a DM conversation', 'handoff');
  }
  const text = deps.posting ? composeReplyText(request.text, request.handoff, deps.posting.account) : request.text.normalize('NFC');
  const checked = await checkText(text, view.ticket.channel, request.split === true);
  const parts = checked?.parts;
  const attachments = request.attachments?.length ? request.attachments : undefined;
  if (attachments) await checkAttachments(attachments, view.ticket.channel, deps.media?.allowLoopback === true);

  const fingerprint = sha256(
    `${text}\n${request.inReplyToMessageId ?? ''}${request.split ? '\nsplit' : ''}${attachments ? `\n${JSON.stringify(attachments)}` : ''}`,
  );
  const replyId = idempotencyKey ? `rp_${sha256(`${ticketId}\n${idempotencyKey}`).slice(0, 26)}` : `rp_${randomUUID()}`;

  const previous = idempotencyKey ? await deps.store.getReply(replyId) : undefined;
  if (previous) return replay(previous, fingerprint, deps);

  const target = replyTarget(view.ticket, view.messages, request.inReplyToMessageId);
  if (target.kind === 'post' && deps.posting) {
    const message = view.messages.find((m) => m.xId === target.inReplyToXId);
    refuse(targetRefusal(message && { kind: 'message', message }, deps.posting.policy, deps.posting.account));
  }

  const targetMessage = target.kind === 'post' ? view.messages.find((m) => m.xId === target.inReplyToXId) : undefined;
  const cost =
    target.kind === 'dm' || !checked
      ? replyCostMicroUsd({ kind: 'dm' }, deps.spend?.prices)
      : replyCostMicroUsd(
          {
            kind: 'post',
            posts: checked.links.map((link, i) => ({
              link,
              // The first post answers the target; a thread's later parts answer the account's own posts.
              summoned: i === 0 && targetMessage !== undefined && !!deps.posting && accountSummonedBy(targetMessage, deps.posting.account),
            })),
          },
          deps.spend?.prices,
        );
  await assertWithinCap(cost, deps);

  const now = deps.now().toISOString();
  const stored: StoredReply = {
    reply: {
      id: replyId,
      ticketId,
      status: 'queued',
      text,
      ...(parts ? { parts } : {}),
      ...(deps.spend ? { cost: usd(cost) } : {}),
      ...(request.inReplyToMessageId ? { inReplyToMessageId: request.inReplyToMessageId } : {}),
      createdAt: now,
      updatedAt: now,
    },
    target,
    requestFingerprint: fingerprint,
    attempts: 0,
    ...(attachments ? { attachments: attachments.map((a) => ({ url: a.url, ...(a.altText ? { altText: a.altText } : {}) })) } : {}),
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

/**
 * Refuses what X would refuse in the text. For a post: its thread parts when it is one, and which posts carry a link
 * (X bills those apart). Undefined for a DM.
 */
async function checkText(
  text: string,
  channel: 'mention' | 'dm',
  split: boolean,
): Promise<{ parts?: string[]; links: boolean[] } | undefined> {
  if (channel === 'dm') {
    const length = [...text].length;
    if (length > DM_MAX_CHARACTERS) {
      throw new ValidationError(`text is ${length} characters; a DM takes at most ${DM_MAX_CHARACTERS}`, 'text', 422, {
        code: 'too_long',
        length,
        max: DM_MAX_CHARACTERS,
      });
    }
    return undefined;
  }
  // X's counter (twitter-text, with its polyfills) is loaded by the first reply, not at a cold start of the API.
  const { linksIn, planPost } = await import('./post-text');
  const plan = planPost(text, split);
  if ('refusal' in plan) refuse(plan.refusal);
  const parts = 'parts' in plan ? plan.parts : undefined;
  return { ...(parts ? { parts } : {}), links: linksIn(parts ?? [text]) };
}

/**
 * Refuses, 422 with a code naming the field, attachments X would refuse or the bridge will not fetch: more than 4 on a
 * post or more than one on a DM (x-api/media/quickstart/best-practices.mdx; X's DM endpoint: "only 1 attachment is
 * supported"), alt text over X's 1,000 characters, a URL that is not https or names a private address. Whether a file
 * is a GIF or video (then alone) is known only from its bytes: the worker checks that (too_many_attachments).
 */
async function checkAttachments(attachments: NonNullable<ReplyRequest['attachments']>, channel: 'mention' | 'dm', allowLoopback: boolean): Promise<void> {
  const max = channel === 'dm' ? 1 : 4;
  if (attachments.length > max) {
    throw new ValidationError(`a ${channel === 'dm' ? 'DM' : 'post'} carries at most ${max} attachment${max > 1 ? 's' : ''}`, 'attachments', 422, {
      code: 'too_many_attachments',
      count: attachments.length,
      max,
    });
  }
  // The SSRF guard is loaded by the first reply with attachments, not at a cold start of the API.
  const { allowedUrl, ReplyMediaError } = await import('./reply-media');
  for (const [i, attachment] of attachments.entries()) {
    if (attachment.altText !== undefined && [...attachment.altText].length > 1000) {
      throw new ValidationError('alt text is at most 1,000 characters on X', `attachments[${i}].altText`, 422, { code: 'alt_text_too_long', max: 1000 });
    }
    try {
      allowedUrl(attachment.url, allowLoopback);
    } catch (error) {
      if (!(error instanceof ReplyMediaError)) throw error;
      throw new ValidationError(error.message, `attachments[${i}].url`, 422, { code: 'attachment_not_allowed' });
    }
  }
}

/** With X_MONTHLY_SPEND_CAP_USD: a reply that would take the month past it is 422 spend_cap, before anything is queued. */
async function assertWithinCap(costMicroUsd: number, deps: RequestReplyDeps): Promise<void> {
  const cap = capMicroUsd(deps.spend?.monthlyCapUsd);
  if (!deps.spend || cap === undefined) return;
  const spent = await deps.spend.counter.month(spendPeriods(deps.now()).month);
  if (spent + costMicroUsd > cap) {
    throw new ValidationError(
      `this reply (about $${usd(costMicroUsd)} at X's prices) would take this month's X spend ($${usd(spent)}) past ` +
        `X_MONTHLY_SPEND_CAP_USD ($${usd(cap)})`,
      'text',
      422,
      { code: 'spend_cap', costUsd: usd(costMicroUsd), spentUsd: usd(spent), capUsd: usd(cap) },
    );
  }
}

/** A refusal found before queueing: 422 with its code, the field at fault and what was measured. */
function refuse(refusal: Refusal | undefined): void {
  if (refusal) throw new ValidationError(refusal.message, refusal.field, 422, { code: refusal.code, ...refusal.details });
}
