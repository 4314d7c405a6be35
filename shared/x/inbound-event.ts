// The one internal shape every X webhook item becomes before it is queued. Both X formats (X Activity API and the
// Account Activity API) normalise to this, so the ingest worker never sees X's wire formats.
import * as z from 'zod/mini';

const author = z.object({
  xUserId: z.string().check(z.regex(/^\d{1,20}$/)),
  username: z.string(),
  name: z.string(),
});

export const inboundPostSchema = z.object({
  kind: z.literal('post'),
  format: z.enum(['xaa', 'aaa']),
  xId: z.string().check(z.regex(/^\d{1,20}$/)),
  author,
  /** As the customer wrote it: full text when truncated, HTML entities unescaped. */
  text: z.string(),
  createdAt: z.string(),
  inReplyToXId: z.optional(z.string()),
  inReplyToUserId: z.optional(z.string()),
  conversationId: z.optional(z.string()),
  quotedXId: z.optional(z.string()),
  /** The bot's @handle appears in the text the author typed (not only X's auto-added reply prefix). */
  mentionsBot: z.boolean(),
  /** Where this arrived from (for example `post.mention.create` or `tweet_create_events`): logs and metrics only. */
  via: z.string(),
  receivedAt: z.string(),
});
export type InboundPost = z.infer<typeof inboundPostSchema>;

export const inboundDmSchema = z.object({
  kind: z.literal('dm'),
  format: z.enum(['xaa', 'aaa']),
  xId: z.string().check(z.regex(/^\d{1,20}$/)),
  sender: author,
  /** The other side: the bot for a customer's DM, the customer for a DM the bot sent. */
  recipientXUserId: z.string().check(z.regex(/^\d{1,20}$/)),
  text: z.string(),
  createdAt: z.string(),
  via: z.string(),
  receivedAt: z.string(),
});
export type InboundDm = z.infer<typeof inboundDmSchema>;

export const inboundDeleteSchema = z.object({
  kind: z.literal('delete'),
  format: z.enum(['xaa', 'aaa']),
  xId: z.string().check(z.regex(/^\d{1,20}$/)),
  authorXUserId: z.string().check(z.regex(/^\d{1,20}$/)),
  deletedAt: z.string(),
  via: z.string(),
  receivedAt: z.string(),
});
export type InboundDelete = z.infer<typeof inboundDeleteSchema>;

export const inboundEventSchema = z.discriminatedUnion('kind', [inboundPostSchema, inboundDmSchema, inboundDeleteSchema]);
export type InboundEvent = z.infer<typeof inboundEventSchema>;

/** Why an item in a webhook body was acknowledged but not queued. Each reason is a metric. */
export type IgnoreReason =
  | 'retweet'
  | 'blocked'
  | 'like'
  | 'follow'
  | 'typing'
  | 'read'
  | 'other_account'
  | 'unsupported'
  | 'malformed';

/** What a webhook body yields: the items to queue, and a count of what was ignored and why. */
export type NormalisedBody = {
  events: InboundEvent[];
  ignored: Partial<Record<IgnoreReason, number>>;
};
