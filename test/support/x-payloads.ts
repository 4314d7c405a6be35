// Factories for X webhook bodies in both formats, shaped like the fixtures in test/fixtures/x/: for integration
// tests and the local simulate command. Text is given as the customer typed it; the factories escape it and count
// offsets the way X does (HTML-escaped `&`, `<`, `>`; code points), so a round trip through the normaliser must give
// the text back unchanged.
import { signWebhookBody } from '../../shared/x/signature';

export type XUserRef = { id: string; username: string; name: string };

/** The support bot of the fixtures (@AcmeSupport). */
export const BOT: XUserRef = { id: '1602999888777666555', username: 'AcmeSupport', name: 'Acme Support' };
/** The customer of the fixtures (@jane_doe_dev). */
export const CUSTOMER: XUserRef = { id: '1357924680', username: 'jane_doe_dev', name: 'Jane Doe 🚀' };

const DEFAULT_CREATED_AT = '2026-11-16T14:05:09.000Z';
let nextId = 1n;

/** A fresh post or DM id, unique within the test run and above 2^53 like real ones (numeric `id` loses precision). */
export function nextXId(): string {
  nextId += 1n;
  return (1_995_000_000_000_000_000n + BigInt(Date.now()) * 1000n + nextId).toString();
}

export type PostOptions = {
  id?: string;
  author?: XUserRef;
  /** What the author typed (unescaped). Default: a mention of the bot asking about an order. */
  text?: string;
  createdAt?: Date | string;
  /** Makes the post a reply: X then puts `@username ` of each `replyPrefix` user in front of the typed text. */
  inReplyTo?: { id: string; user?: XUserRef };
  /** Users X auto-mentions in front of a reply (default: the replied-to user). */
  replyPrefix?: XUserRef[];
  conversationId?: string;
  quotedId?: string;
  /** The subscribed account (for_user_id / filter.user_id). Default: the bot. */
  forUserId?: string;
  /** Other accounts that may appear as @mentions in the text (the bot, the author and prefix users are known). */
  knownUsers?: XUserRef[];
};

export type DmOptions = {
  id?: string;
  sender?: XUserRef;
  recipient?: XUserRef;
  text?: string;
  createdAt?: Date | string;
  forUserId?: string;
};

export type DeleteOptions = { id?: string; authorId?: string; deletedAt?: Date | string; forUserId?: string };

/** Account Activity body with one tweet_create_events post (a mention of the bot unless `text` says otherwise). */
export function aaaMention(options: PostOptions = {}): Record<string, unknown> {
  const post = buildPost(options);
  return {
    for_user_id: options.forUserId ?? BOT.id,
    user_has_blocked: 'false',
    tweet_create_events: [aaaTweet(post)],
  };
}

/** Account Activity body with a reply (default: to a post of the bot's, with X's auto-added `@AcmeSupport `). */
export function aaaReply(options: PostOptions & { inReplyTo: { id: string; user?: XUserRef } }): Record<string, unknown> {
  return aaaMention({ text: 'still waiting, any news?', ...options });
}

/** X Activity API `post.mention.create` envelope with a v2 post. */
export function xaaMention(options: PostOptions = {}): Record<string, unknown> {
  return xaaPostEnvelope('post.mention.create', buildPost(options), options.forUserId);
}

/** X Activity API `post.reply.create` envelope: a direct reply to one of the bot's posts. */
export function xaaReply(options: PostOptions & { inReplyTo: { id: string; user?: XUserRef } }): Record<string, unknown> {
  return xaaPostEnvelope('post.reply.create', buildPost({ text: 'still waiting, any news?', ...options }), options.forUserId);
}

/** X Activity API `dm.received` envelope (or `dm.sent` when the bot is the sender). */
export function xaaDm(options: DmOptions = {}): Record<string, unknown> {
  const dm = buildDm(options);
  const eventType = dm.sender.id === (options.forUserId ?? BOT.id) ? 'dm.sent' : 'dm.received';
  return {
    data: {
      event_uuid: nextXId(),
      filter: { user_id: options.forUserId ?? BOT.id },
      event_type: eventType,
      tag: eventType === 'dm.sent' ? 'dm-outbound' : 'dm-inbound',
      payload: {
        direct_message_events: [dmEvent(dm)],
        users: Object.fromEntries([dm.sender, dm.recipient].map((user) => [user.id, { data: v2User(user) }])),
      },
    },
  };
}

/** Account Activity body with one direct_message_events DM and its `users` map. */
export function aaaDm(options: DmOptions = {}): Record<string, unknown> {
  const dm = buildDm(options);
  return {
    for_user_id: options.forUserId ?? BOT.id,
    direct_message_events: [dmEvent(dm)],
    users: Object.fromEntries([dm.sender, dm.recipient].map((user) => [user.id, v1User(user)])),
  };
}

/** Account Activity delete notice (status.id and status.user_id are strings in this event). */
export function aaaDelete(options: DeleteOptions = {}): Record<string, unknown> {
  return {
    for_user_id: options.forUserId ?? BOT.id,
    tweet_delete_events: [
      {
        status: { id: options.id ?? nextXId(), user_id: options.authorId ?? CUSTOMER.id },
        timestamp_ms: String(toDate(options.deletedAt ?? new Date()).getTime()),
      },
    ],
  };
}

/** X Activity API `post.delete` envelope. */
export function xaaDelete(options: DeleteOptions = {}): Record<string, unknown> {
  return {
    data: {
      event_uuid: nextXId(),
      filter: { user_id: options.forUserId ?? BOT.id },
      event_type: 'post.delete',
      tag: 'post-deletes',
      payload: { id: options.id ?? nextXId(), author_id: options.authorId ?? CUSTOMER.id },
    },
  };
}

/**
 * The bytes and headers X would POST for `body`, signed with the consumer secret like X's
 * `x-twitter-webhooks-signature`.
 */
export function signedDelivery(
  body: unknown,
  consumerSecret: string,
): { rawBody: Buffer; headers: Record<string, string> } {
  const rawBody = Buffer.from(JSON.stringify(body), 'utf8');
  return {
    rawBody,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'x-twitter-webhooks-signature': signWebhookBody(consumerSecret, rawBody),
    },
  };
}

/** HTML-escapes text the way X does in post and DM text: `&`, `<` and `>` only. */
export function xEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A date in v1.1's `created_at` form: "Mon Nov 16 14:05:09 +0000 2026". */
export function twitterDate(date: Date | string): string {
  const d = toDate(date);
  const [weekday, day, month, year, time] = d.toUTCString().replace(',', '').split(' ');
  return `${weekday} ${month} ${day} ${time} +0000 ${year}`;
}

// ---------------------------------------------------------------------------------------------------------------

type BuiltPost = {
  id: string;
  author: XUserRef;
  /** Escaped, with the reply prefix, as X sends it. */
  wireText: string;
  displayStart: number;
  createdAt: Date;
  inReplyTo?: { id: string; user: XUserRef };
  conversationId: string;
  quotedId?: string;
  mentions: { user: XUserRef; start: number; end: number }[];
};

function buildPost(options: PostOptions): BuiltPost {
  const id = options.id ?? nextXId();
  const author = options.author ?? CUSTOMER;
  const typed = options.text ?? `@${BOT.username} my order #A-1234 hasn't arrived & the tracking link is dead`;
  const inReplyTo = options.inReplyTo ? { id: options.inReplyTo.id, user: options.inReplyTo.user ?? BOT } : undefined;
  const prefixUsers = inReplyTo ? (options.replyPrefix ?? [inReplyTo.user]) : [];
  const prefix = prefixUsers.map((user) => `@${user.username} `).join('');
  const wireText = prefix + xEscape(typed);
  const known = [BOT, CUSTOMER, author, ...prefixUsers, ...(options.knownUsers ?? [])];
  return {
    id,
    author,
    wireText,
    displayStart: [...prefix].length,
    createdAt: toDate(options.createdAt ?? DEFAULT_CREATED_AT),
    inReplyTo,
    conversationId: options.conversationId ?? inReplyTo?.id ?? id,
    quotedId: options.quotedId,
    mentions: findMentions(wireText, known),
  };
}

function findMentions(text: string, known: XUserRef[]): BuiltPost['mentions'] {
  const mentions: BuiltPost['mentions'] = [];
  for (const match of text.matchAll(/(^|[^A-Za-z0-9_])@([A-Za-z0-9_]{1,15})/g)) {
    const user = known.find((candidate) => candidate.username.toLowerCase() === match[2]?.toLowerCase());
    if (!user || match.index === undefined) continue;
    const atIndex = match.index + (match[1]?.length ?? 0);
    // Offsets in code points, as X counts them.
    const start = [...text.slice(0, atIndex)].length;
    mentions.push({ user, start, end: start + 1 + (match[2]?.length ?? 0) });
  }
  return mentions;
}

function aaaTweet(post: BuiltPost): Record<string, unknown> {
  const length = [...post.wireText].length;
  return {
    created_at: twitterDate(post.createdAt),
    // X's numeric id is past 2^53: JSON.stringify writes the rounded double, as the real payload effectively is.
    id: Number(post.id),
    id_str: post.id,
    text: post.wireText,
    display_text_range: [post.displayStart, length],
    source: '<a href="https://mobile.twitter.com" rel="nofollow">Twitter Web App</a>',
    truncated: false,
    in_reply_to_status_id: post.inReplyTo ? Number(post.inReplyTo.id) : null,
    in_reply_to_status_id_str: post.inReplyTo?.id ?? null,
    in_reply_to_user_id: post.inReplyTo ? Number(post.inReplyTo.user.id) : null,
    in_reply_to_user_id_str: post.inReplyTo?.user.id ?? null,
    in_reply_to_screen_name: post.inReplyTo?.user.username ?? null,
    user: v1User(post.author),
    is_quote_status: post.quotedId !== undefined,
    ...(post.quotedId ? { quoted_status_id: Number(post.quotedId), quoted_status_id_str: post.quotedId } : {}),
    entities: {
      hashtags: [],
      urls: [],
      symbols: [],
      user_mentions: post.mentions.map((mention) => ({
        screen_name: mention.user.username,
        name: mention.user.name,
        id: Number(mention.user.id),
        id_str: mention.user.id,
        indices: [mention.start, mention.end],
      })),
    },
    lang: 'en',
    timestamp_ms: String(post.createdAt.getTime()),
  };
}

function xaaPostEnvelope(eventType: string, post: BuiltPost, forUserId?: string): Record<string, unknown> {
  const referenced = [
    ...(post.inReplyTo ? [{ type: 'replied_to', id: post.inReplyTo.id }] : []),
    ...(post.quotedId ? [{ type: 'quoted', id: post.quotedId }] : []),
  ];
  return {
    data: {
      event_uuid: nextXId(),
      filter: { user_id: forUserId ?? BOT.id },
      event_type: eventType,
      tag: 'support',
      payload: {
        id: post.id,
        text: post.wireText,
        author_id: post.author.id,
        conversation_id: post.conversationId,
        created_at: post.createdAt.toISOString(),
        lang: 'en',
        reply_settings: 'everyone',
        edit_history_tweet_ids: [post.id],
        display_text_range: [post.displayStart, [...post.wireText].length],
        ...(post.inReplyTo ? { in_reply_to_user_id: post.inReplyTo.user.id } : {}),
        ...(referenced.length > 0 ? { referenced_tweets: referenced } : {}),
        entities: {
          mentions: post.mentions.map((mention) => ({
            start: mention.start,
            end: mention.end,
            username: mention.user.username,
            id: mention.user.id,
          })),
        },
      },
      includes: { users: [v2User(post.author)] },
    },
  };
}

type BuiltDm = { id: string; sender: XUserRef; recipient: XUserRef; text: string; createdAt: Date };

function buildDm(options: DmOptions): BuiltDm {
  const sender = options.sender ?? CUSTOMER;
  return {
    id: options.id ?? nextXId(),
    sender,
    recipient: options.recipient ?? (sender.id === BOT.id ? CUSTOMER : BOT),
    text: options.text ?? 'Order #A-1234, email jane@example.com. Thanks!',
    createdAt: toDate(options.createdAt ?? DEFAULT_CREATED_AT),
  };
}

function dmEvent(dm: BuiltDm): Record<string, unknown> {
  return {
    type: 'message_create',
    id: dm.id,
    created_timestamp: String(dm.createdAt.getTime()),
    message_create: {
      target: { recipient_id: dm.recipient.id },
      sender_id: dm.sender.id,
      message_data: {
        text: xEscape(dm.text),
        entities: { hashtags: [], symbols: [], user_mentions: [], urls: [] },
      },
    },
  };
}

// The same person in both vintages, so both formats give the same profile (x-api/fundamentals/data-dictionary.mdx,
// user object; v1.1: followers_count and profile_image_url_https at the top level).
const FOLLOWERS = 312;

function profileImage(user: XUserRef): string {
  return `https://pbs.twimg.com/profile_images/${user.id}/avatar_normal.jpg`;
}

function v2User(user: XUserRef): Record<string, unknown> {
  return {
    id: user.id,
    name: user.name,
    username: user.username,
    protected: false,
    verified: false,
    verified_type: 'none',
    profile_image_url: profileImage(user),
    public_metrics: { followers_count: FOLLOWERS, following_count: 10, tweet_count: 100, listed_count: 0 },
  };
}

function v1User(user: XUserRef): Record<string, unknown> {
  return {
    id: Number(user.id),
    id_str: user.id,
    name: user.name,
    screen_name: user.username,
    protected: false,
    verified: false,
    verified_type: 'none',
    followers_count: FOLLOWERS,
    profile_image_url_https: profileImage(user),
  };
}

function toDate(value: Date | string): Date {
  return value instanceof Date ? value : new Date(value);
}

/**
 * One Account Activity body carrying the items of several single-item bodies (X batches a burst of events of one
 * kind per account into one delivery): the `*_events` arrays are concatenated, `users` maps merged.
 */
export function aaaBatch(bodies: Record<string, unknown>[]): Record<string, unknown> {
  const batch: Record<string, unknown> = { for_user_id: bodies[0]?.for_user_id ?? BOT.id };
  for (const body of bodies) {
    for (const [key, value] of Object.entries(body)) {
      if (Array.isArray(value)) batch[key] = [...((batch[key] as unknown[] | undefined) ?? []), ...value];
      else if (key === 'users') batch.users = { ...(batch.users as object | undefined), ...(value as object) };
      else if (!(key in batch)) batch[key] = value;
    }
  }
  return batch;
}

/** One X Activity API delivery carrying several envelopes' events (`data` as an array, which the bridge accepts). */
export function xaaBatch(bodies: Record<string, unknown>[]): Record<string, unknown> {
  return { data: bodies.map((body) => body.data) };
}
