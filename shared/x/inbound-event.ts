// The one internal shape every X webhook item becomes before it is queued. Both X formats (X Activity API and the
// Account Activity API) normalise to this, so the ingest worker never sees X's wire formats.
import * as z from 'zod/mini';
import { XCHAT_MESSAGE_ID, xchatEnvelopeSchema } from './xchat-event';
import { lazySchema } from '../lazy-schema';

const xId = lazySchema(() => z.string().check(z.regex(/^\d{1,20}$/)));

/** What X's user objects say about a person beyond their name: the ticket's `customer` carries it. */
export const xProfileSchema = lazySchema(() => z.object({
  profileImageUrl: z.optional(z.string()),
  /** X's `verified_type`: "blue", "business", "government" or "none". */
  verifiedType: z.optional(z.string()),
  followersCount: z.optional(z.number()),
  protected: z.optional(z.boolean()),
}));
export type XProfile = z.infer<typeof xProfileSchema>;

/**
 * An author or sender as the body described them. `username` and `name` are absent when X sent no user object for
 * them (XAA's `includes: {}` on replies and quotes, a DM `users` map without the sender): ingest looks them up.
 */
export const inboundUserSchema = lazySchema(() => z.object({
  xUserId: xId,
  username: z.optional(z.string()),
  name: z.optional(z.string()),
  profile: z.optional(xProfileSchema),
}));
export type InboundUser = z.infer<typeof inboundUserSchema>;

/**
 * A photo, video or GIF as X listed it (v2 `includes.media` by `attachments.media_keys`, v1.1 `extended_entities.media`,
 * a DM's `message_data.attachment.media`). `url` is the file (for video, the best mp4 variant), `previewUrl` its still.
 * `requiresAuth`: DM media, which X serves only with the account's OAuth credentials, so the bridge keeps a copy.
 */
/**
 * What X says about a media file besides where it is, and what the bridge records of its own copy: shared by the
 * inbound media below and the message's attachments (shared/tickets/model.ts).
 */
export const mediaDetailsShape = lazySchema(() => ({
  previewUrl: z.optional(z.string()),
  altText: z.optional(z.string()),
  width: z.optional(z.number()),
  height: z.optional(z.number()),
  durationMs: z.optional(z.number()),
  contentType: z.optional(z.string()),
  /** The bridge's own copy of media X serves only with the account's credentials. */
  stored: z.optional(z.object({ key: z.string(), contentType: z.string(), bytes: z.number() })),
  /** Why no copy was made, or why X's address is missing. */
  error: z.optional(z.object({ code: z.string(), message: z.string() })),
}));

export const inboundMediaSchema = lazySchema(() => z.object({
  /** X's media key (v2) or `id_str` (v1.1): stable across redeliveries, so the attachment's id derives from it. */
  mediaKey: z.string(),
  type: z.enum(['photo', 'video', 'animated_gif']),
  url: z.optional(z.string()),
  requiresAuth: z.boolean(),
  /** `stored` and `error` are set by ingest, never by the webhook. */
  ...mediaDetailsShape,
}));
export type InboundMedia = z.infer<typeof inboundMediaSchema>;

/** A link as the customer typed it: `url` is X's t.co wrapper, `expandedUrl` what it points at. */
export const linkSchema = lazySchema(() => z.object({ url: z.string(), expandedUrl: z.string(), displayUrl: z.string() }));
export type Link = z.infer<typeof linkSchema>;

/** The post a quote quotes: its id always; its text and author when X included them in the body. */
export const inboundQuotedSchema = lazySchema(() => z.object({
  xId,
  text: z.optional(z.string()),
  author: z.optional(inboundUserSchema),
}));
export type InboundQuoted = z.infer<typeof inboundQuotedSchema>;

const author = inboundUserSchema;

export const inboundPostSchema = lazySchema(() => z.object({
  kind: z.literal('post'),
  format: z.enum(['xaa', 'aaa']),
  xId: z.string().check(z.regex(/^\d{1,20}$/)),
  author,
  /**
   * As the customer wrote it: full text when truncated, HTML entities unescaped, t.co links replaced by the URL typed
   * (`links`), and the t.co link X appends for media removed (`media`).
   */
  text: z.string(),
  links: z.array(linkSchema),
  media: z.array(inboundMediaSchema),
  createdAt: z.string(),
  inReplyToXId: z.optional(z.string()),
  inReplyToUserId: z.optional(z.string()),
  conversationId: z.optional(z.string()),
  quoted: z.optional(inboundQuotedSchema),
  /**
   * X's `edit_history_tweet_ids` (oldest first, this post's own id last; v1.1: `edit_history.initial_tweet_id` then
   * this id) when the post is an edit of an earlier one, that is when it lists more than this post's own id.
   */
  editHistory: z.optional(z.array(xId)),
  /** The bot's @handle appears in the text the author typed (not only X's auto-added reply prefix). */
  mentionsBot: z.boolean(),
  /** X's `lang` (BCP 47, `und` when X could not tell), when the body gave it: the brand's rules can read it. */
  lang: z.optional(z.string().check(z.maxLength(16))),
  /**
   * Set on a post found by one of the brand's listening queries (shared/x/listen.ts): the query, as the brand wrote
   * it. Such a post does not summon the account; its ticket says `source: "listening"`.
   */
  listeningQuery: z.optional(z.string().check(z.maxLength(512))),
  /** Where this arrived from (for example `post.mention.create` or `tweet_create_events`): logs and metrics only. */
  via: z.string(),
  receivedAt: z.string(),
}));
export type InboundPost = z.infer<typeof inboundPostSchema>;

export const inboundDmSchema = lazySchema(() => z.object({
  kind: z.literal('dm'),
  format: z.enum(['xaa', 'aaa']),
  /** The DM event's id; for an XChat message, the UUID its sender's SDK minted (shared/x/xchat-event.ts). */
  xId: z.string().check(z.regex(new RegExp(`^(?:\\d{1,20}|${XCHAT_MESSAGE_ID.source.slice(1, -1)})$`))),
  sender: author,
  /** The other side: the bot for a customer's DM, the customer for a DM the bot sent. */
  recipientXUserId: z.string().check(z.regex(/^\d{1,20}$/)),
  text: z.string(),
  links: z.array(linkSchema),
  media: z.array(inboundMediaSchema),
  createdAt: z.string(),
  via: z.string(),
  receivedAt: z.string(),
  /** An XChat message (`chat.received` / `chat.sent`): its encrypted fields; `text` is empty until ingest opens it. */
  xchat: z.optional(xchatEnvelopeSchema),
}));
export type InboundDm = z.infer<typeof inboundDmSchema>;

export const inboundDeleteSchema = lazySchema(() => z.object({
  kind: z.literal('delete'),
  format: z.enum(['xaa', 'aaa']),
  xId: z.string().check(z.regex(/^\d{1,20}$/)),
  authorXUserId: z.string().check(z.regex(/^\d{1,20}$/)),
  deletedAt: z.string(),
  via: z.string(),
  receivedAt: z.string(),
}));
export type InboundDelete = z.infer<typeof inboundDeleteSchema>;

/**
 * The brand account withdrew the app's access on X (XAA `oauth.revoke`, AAA `user_event.revoke`): X sends the bot no
 * more events and refuses its calls until the account authorises the app again. It makes no ticket: ingest sets the
 * channel's health to `down` (shared/channel/channel-health.ts).
 */
export const inboundRevokeSchema = lazySchema(() => z.object({
  kind: z.literal('revoke'),
  format: z.enum(['xaa', 'aaa']),
  /**
   * The account that revoked: the bot's (a revoke by another account the app serves is not queued). Named `xId`
   * like every item's X id, the id of what the item is about, so the queue, the logs and the batch read treat it alike.
   */
  xId,
  revokedAt: z.string(),
  via: z.string(),
  receivedAt: z.string(),
}));
export type InboundRevoke = z.infer<typeof inboundRevokeSchema>;

export const inboundEventSchema = lazySchema(() => z.discriminatedUnion('kind', [inboundPostSchema, inboundDmSchema, inboundDeleteSchema, inboundRevokeSchema]));
export type InboundEvent = z.infer<typeof inboundEventSchema>;

/**
 * A person as ingest hands them to the ticket rules: always named. See `xUserSchema` in shared/tickets/model.ts for
 * `unresolved` and `notFound`.
 */
export type NamedUser = {
  xUserId: string;
  username: string;
  name: string;
  profile?: XProfile;
  unresolved?: boolean;
  notFound?: boolean;
};

/**
 * An inbound item once ingest completed it (shared/x/complete-items.ts): every author named, DM media copied. This is
 * what the ticket rules take.
 */
export type CompletePost = Omit<InboundPost, 'author'> & { author: NamedUser };
export type CompleteDm = Omit<InboundDm, 'sender'> & { sender: NamedUser };
export type CompleteEvent = CompletePost | CompleteDm | InboundDelete | InboundRevoke;

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
  | 'malformed'
  | 'replay_status';

/**
 * X's word on a replay job the ops `replay` started (`{replay_job_status: {job_id, job_state, ...}}`, delivered to the
 * webhook when the job ends: ../NOTES "Replay"). Nothing to ticket; ops need to know whether the hours came back.
 */
export type ReplayJobNotice = { jobId: string; state: string; description: string; webhookId?: string };

/** What a webhook body yields: the items to queue, a count of what was ignored and why, and replay jobs' ends. */
export type NormalisedBody = {
  events: InboundEvent[];
  ignored: Partial<Record<IgnoreReason, number>>;
  replayJobs?: ReplayJobNotice[];
};

