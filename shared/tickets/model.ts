// The ticket domain's data: what the bridge stores and what the helpdesk sees. Plain types, no I/O.
import * as z from 'zod/mini';
import { linkSchema, mediaDetailsShape, xProfileSchema } from '../x/inbound-event';
import { lazySchema } from '../lazy-schema';
import { PRIORITIES } from '../rules/brand-rules';

export const ticketStatusSchema = lazySchema(() => z.enum(['open', 'pending', 'solved']));
export type TicketStatus = z.infer<typeof ticketStatusSchema>;

export const channelSchema = lazySchema(() => z.enum(['mention', 'dm']));
export type Channel = z.infer<typeof channelSchema>;

export const ticketEventTypeSchema = lazySchema(() => z.enum([
  'ticket.created',
  'ticket.message_added',
  'ticket.reopened',
  'ticket.status_changed',
  'ticket.reply_posted',
  'ticket.reply_failed',
  'ticket.message_redacted',
  'ticket.message_edited',
]));
export type TicketEventType = z.infer<typeof ticketEventTypeSchema>;

/**
 * A person on X as tickets show them: always named. `unresolved`: X's body did not name them and the read budget
 * allowed no look-up yet, so `name` is a placeholder with their X id (the next look-up completes it); `notFound`: X
 * says the account does not exist (deleted or suspended), so `name` is a placeholder for good.
 */
export const xUserSchema = lazySchema(() => z.object({
  xUserId: z.string(),
  username: z.string(),
  name: z.string(),
  ...xProfileSchema.shape,
  unresolved: z.optional(z.boolean()),
  notFound: z.optional(z.boolean()),
}));
export type XUser = z.infer<typeof xUserSchema>;

/**
 * The last change applied to a ticket. Every change bumps `sequence` and names itself here, in the same write, so
 * the table's stream of ticket items is the outbox of helpdesk events: one change, one event, never lost.
 */
export const ticketChangeSchema = lazySchema(() => z.object({
  type: ticketEventTypeSchema,
  at: z.string(),
  messageXId: z.optional(z.string()),
  replyId: z.optional(z.string()),
  previousStatus: z.optional(ticketStatusSchema),
}));
export type TicketChange = z.infer<typeof ticketChangeSchema>;

export const ticketSchema = lazySchema(() => z.object({
  id: z.string(),
  brand: z.string(),
  status: ticketStatusSchema,
  channel: channelSchema,
  customer: xUserSchema,
  createdAt: z.string(),
  updatedAt: z.string(),
  sequence: z.number().check(z.int(), z.positive()),
  followUpOf: z.optional(z.string()),
  solvedAt: z.optional(z.string()),
  lastChange: ticketChangeSchema,
  /**
   * The X id of the item that opened the ticket. A customer's first ticket is written before its message (see
   * ingest.ts), so a redelivery of that item finds its ticket by this id and stores only the message.
   */
  openingXId: z.optional(z.string()),
  /**
   * `listening` when the ticket was opened by a post one of the brand's listening queries found (shared/x/listen.ts):
   * the customer did not write to the account. Absent when they did (a mention, a reply, a DM).
   */
  source: z.optional(z.enum(['listening'])),
  /** The listening query that found the opening post, as the brand wrote it. */
  listeningQuery: z.optional(z.string()),
  /** What the brand's tag rules (shared/rules/brand-rules.ts) said of the opening message; absent when none matched. */
  tags: z.optional(z.array(z.string())),
  /** What the brand's priority rules said of the opening message; absent when none matched (read as `normal`). */
  priority: z.optional(z.enum(PRIORITIES)),
}));
export type Ticket = z.infer<typeof ticketSchema>;

/**
 * A photo, video, GIF or file on a message. `url` is where X serves it (public for posts; for DM media X's address,
 * which only the account's credentials open). `stored` is the bridge's own copy of media X does not serve publicly:
 * events and the API give a short-lived link to it instead of `url`. `error` says why a copy could not be made.
 */
export const attachmentSchema = lazySchema(() => z.object({
  /** `att-` + X's media key: stable across redeliveries. */
  id: z.string(),
  type: z.enum(['photo', 'video', 'animated_gif', 'file']),
  url: z.string(),
  ...mediaDetailsShape,
}));
export type Attachment = z.infer<typeof attachmentSchema>;

/** The post a quote quotes: text and author when X included them, the bridge had them, or a look-up found them. */
export const quotedPostSchema = lazySchema(() => z.object({
  xId: z.string(),
  text: z.optional(z.string()),
  author: z.optional(z.object({ xUserId: z.string(), username: z.string(), name: z.optional(z.string()) })),
}));
export type QuotedPost = z.infer<typeof quotedPostSchema>;

export const messageSchema = lazySchema(() => z.object({
  id: z.string(),
  ticketId: z.string(),
  xId: z.string(),
  direction: z.enum(['inbound', 'outbound']),
  channel: channelSchema,
  text: z.string(),
  author: z.object({
    xUserId: z.string(),
    username: z.string(),
    name: z.optional(z.string()),
    unresolved: z.optional(z.boolean()),
    notFound: z.optional(z.boolean()),
  }),
  createdAt: z.string(),
  inReplyToXId: z.optional(z.string()),
  /**
   * X's `conversation_id`: the id of the post that started the thread (absent on messages stored before it was kept,
   * and on DMs). The reconciler searches the conversations of unsolved tickets by it (shared/x/reconcile.ts).
   */
  conversationId: z.optional(z.string()),
  redacted: z.boolean(),
  /** Absent on messages stored before attachments were kept: read as none. */
  attachments: z.optional(z.array(attachmentSchema)),
  links: z.optional(z.array(linkSchema)),
  quoted: z.optional(quotedPostSchema),
  /**
   * Every version's X id, oldest first, once the customer edited the post. `xId` and `id` stay the first version's
   * (the oldest in X's `edit_history_tweet_ids`, whichever version arrived first); `text`, `links` and `attachments`
   * are the newest version's.
   */
  editHistory: z.optional(z.array(z.string())),
  /**
   * True when the author summoned the bot (mentioned it, replied to it or quoted it): X lets self-serve apps reply
   * only to such posts, so replies target the latest one.
   */
  summonsBot: z.optional(z.boolean()),
  /** The reply this outbound message was posted for, when the bridge posted it. */
  replyId: z.optional(z.string()),
  /** How a DM came: `xchat` for an XChat message (X's end-to-end encrypted DMs); absent for posts and DMs. */
  transport: z.optional(z.enum(['xchat'])),
  /**
   * True when an XChat message arrived that the bridge could not decrypt: `text` is empty (nothing is made up) and
   * `notice` says so and what to do.
   */
  encrypted: z.optional(z.boolean()),
  notice: z.optional(z.string()),
  /**
   * Internal, never shown to the helpdesk: where a reply to an XChat message goes (its conversation) and the
   * conversation key X delivered with it, still wrapped to the account's identity key (shared/replies/xchat-reply.ts).
   */
  xchat: z.optional(z.object({ conversationId: z.string(), keyChangeEvent: z.optional(z.string()) })),
}));
export type Message = z.infer<typeof messageSchema>;

export const replyStatusSchema = lazySchema(() => z.enum(['queued', 'posting', 'posted', 'failed']));
export type ReplyStatus = z.infer<typeof replyStatusSchema>;

export const replySchema = lazySchema(() => z.object({
  id: z.string(),
  ticketId: z.string(),
  status: replyStatusSchema,
  text: z.string(),
  xId: z.optional(z.string()),
  /** A thread (`split: true`): the posts X is sent, in order, each numbered `i/n` and at most 280 weighted characters. */
  parts: z.optional(z.array(z.string())),
  /** A thread: the X ids of the parts posted so far, in order; `xId` is the first's. */
  xIds: z.optional(z.array(z.string())),
  /** What X bills for it, estimated at X's prices when it was requested (US dollars; shared/replies/spend.ts). */
  cost: z.optional(z.number()),
  error: z.optional(z.object({ code: z.string(), message: z.string() })),
  inReplyToMessageId: z.optional(z.string()),
  createdAt: z.string(),
  updatedAt: z.string(),
}));
export type Reply = z.infer<typeof replySchema>;

/**
 * The X id of the version whose content (text, links, attachments) a message holds: the newest version it has seen,
 * which is the last of `editHistory` (see ingest.ts: X ids grow with time, so the history is kept in id order).
 */
export function contentXIdOf(message: Pick<Message, 'xId' | 'editHistory'>): string {
  return message.editHistory?.at(-1) ?? message.xId;
}

/** The message id the helpdesk sees for an X item: stable, derived from the X id. */
export function messageIdFor(xId: string): string {
  return `msg-${xId}`;
}

/** The X id behind a message id, or undefined when it is not one of ours. */
export function xIdFromMessageId(messageId: string): string | undefined {
  const match = /^msg-(\d{1,20})$/.exec(messageId);
  return match?.[1];
}
