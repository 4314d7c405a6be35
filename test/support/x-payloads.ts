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
  /**
   * The post this one quotes, as X describes it: in `includes.tweets` / `includes.users` (XAA) or `quoted_status`
   * (AAA) when `included` (default true); otherwise only its id, as in X's post.quote.create sample.
   */
  quoted?: { post: PostOptions & { id: string }; included?: boolean };
  /** The subscribed account (for_user_id / filter.user_id). Default: the bot. */
  forUserId?: string;
  /** Other accounts that may appear as @mentions in the text (the bot, the author and prefix users are known). */
  knownUsers?: XUserRef[];
  /**
   * URLs the author typed, each appearing in `text`: X replaces each occurrence with a t.co link and describes it in
   * `entities.urls` (code point offsets on the escaped text).
   */
  links?: string[];
  /** Media attached: X appends one t.co link for all of them to the text. */
  media?: MediaSpec[];
  /** Earlier versions' ids, oldest first, when this post is an edit (`edit_history_tweet_ids`, `edit_history`). */
  editOf?: string[];
  /**
   * XAA `includes`: 'full' (the author, default), 'empty' (`{}`, as X's samples for replies and quotes) or 'missing'.
   */
  includes?: 'full' | 'empty' | 'missing';
};

/** A photo, video or GIF as the factories attach it; `described: false` leaves it out of XAA's includes.media. */
export type MediaSpec = { type: 'photo' | 'video' | 'animated_gif'; altText?: string; described?: boolean };

export type DmOptions = {
  id?: string;
  sender?: XUserRef;
  recipient?: XUserRef;
  text?: string;
  createdAt?: Date | string;
  forUserId?: string;
  /** URLs the sender typed, each appearing in `text` (see PostOptions.links). */
  links?: string[];
  /** One attachment (X allows one per DM): `message_data.attachment.media`, its t.co link appended to the text. */
  media?: MediaSpec;
  /** Whether the `users` map names the sender (default true). */
  namesSender?: boolean;
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
        users: Object.fromEntries(dmUsers(dm, options).map((user) => [user.id, { data: v2User(user) }])),
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
    users: Object.fromEntries(dmUsers(dm, options).map((user) => [user.id, v1User(user)])),
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

type UrlRef = { url: string; expandedUrl: string; displayUrl: string; start: number; end: number };
type BuiltMedia = MediaSpec & { idStr: string; key: string };

type BuiltPost = {
  id: string;
  author: XUserRef;
  /** Escaped, with the reply prefix, links as t.co and the media link appended, as X sends it. */
  wireText: string;
  displayStart: number;
  /** Where the typed text ends: before the media link, which X leaves out of display_text_range. */
  displayEnd: number;
  createdAt: Date;
  inReplyTo?: { id: string; user: XUserRef };
  conversationId: string;
  quotedId?: string;
  quoted?: { post: BuiltPost; included: boolean };
  mentions: { user: XUserRef; start: number; end: number }[];
  urls: UrlRef[];
  mediaLink?: UrlRef;
  media: BuiltMedia[];
  editOf: string[];
  includes: 'full' | 'empty' | 'missing';
};

/** A t.co link as X makes them: https://t.co/ and ten letters or digits. */
function tco(): string {
  return `https://t.co/${nextXId().slice(-10).replace(/\d/g, (d) => 'AbCdEfGhJk'[Number(d)] ?? 'x')}`;
}

/** X's display_url: the link without its scheme, cut with "…" past 25 characters. */
function displayUrlOf(url: string): string {
  const bare = url.replace(/^https?:\/\/(www\.)?/, '');
  return bare.length > 26 ? `${bare.slice(0, 25)}…` : bare;
}

const cpLength = (text: string) => [...text].length;

/**
 * The typed text as X sends it: escaped, each typed URL replaced by a t.co link, offsets counted in code points of
 * the escaped text from `base` (the reply prefix before it).
 */
function wrapLinks(typed: string, links: string[], base: string): { wire: string; urls: UrlRef[] } {
  let wire = base;
  let rest = typed;
  const urls: UrlRef[] = [];
  for (const expandedUrl of links) {
    const at = rest.indexOf(expandedUrl);
    if (at < 0) throw new Error(`link ${expandedUrl} is not in the text`);
    wire += xEscape(rest.slice(0, at));
    const url = tco();
    const start = cpLength(wire);
    wire += url;
    urls.push({ url, expandedUrl, displayUrl: displayUrlOf(expandedUrl), start, end: start + cpLength(url) });
    rest = rest.slice(at + expandedUrl.length);
  }
  return { wire: wire + xEscape(rest), urls };
}

function buildPost(options: PostOptions): BuiltPost {
  const id = options.id ?? nextXId();
  const author = options.author ?? CUSTOMER;
  const typed = options.text ?? `@${BOT.username} my order #A-1234 hasn't arrived & the tracking link is dead`;
  const inReplyTo = options.inReplyTo ? { id: options.inReplyTo.id, user: options.inReplyTo.user ?? BOT } : undefined;
  const prefixUsers = inReplyTo ? (options.replyPrefix ?? [inReplyTo.user]) : [];
  const prefix = prefixUsers.map((user) => `@${user.username} `).join('');
  const { wire, urls } = wrapLinks(typed, options.links ?? [], prefix);
  const displayEnd = cpLength(wire);
  const media = (options.media ?? []).map((spec) => {
    const idStr = nextXId();
    return { ...spec, idStr, key: `${MEDIA_KEY_KIND[spec.type]}_${idStr}` };
  });
  let wireText = wire;
  let mediaLink: UrlRef | undefined;
  if (media.length > 0) {
    // X appends one link for all the media, after a space, outside display_text_range.
    const url = tco();
    wireText = wire === '' ? url : `${wire} ${url}`;
    const start = cpLength(wireText) - cpLength(url);
    const kind = media[0]?.type === 'photo' ? 'photo' : 'video';
    const expandedUrl = `https://x.com/${author.username}/status/${id}/${kind}/1`;
    mediaLink = { url, expandedUrl, displayUrl: `pic.x.com/${url.slice(-10)}`, start, end: start + cpLength(url) };
  }
  const known = [BOT, CUSTOMER, author, ...prefixUsers, ...(options.knownUsers ?? [])];
  const quotedPost = options.quoted ? buildPost({ createdAt: options.createdAt, ...options.quoted.post }) : undefined;
  return {
    id,
    author,
    wireText,
    displayStart: cpLength(prefix),
    displayEnd,
    createdAt: toDate(options.createdAt ?? DEFAULT_CREATED_AT),
    inReplyTo,
    conversationId: options.conversationId ?? inReplyTo?.id ?? id,
    quotedId: quotedPost?.id ?? options.quotedId,
    ...(quotedPost ? { quoted: { post: quotedPost, included: options.quoted?.included ?? true } } : {}),
    mentions: findMentions(wire, known),
    urls,
    ...(mediaLink ? { mediaLink } : {}),
    media,
    editOf: options.editOf ?? [],
    includes: options.includes ?? 'full',
  };
}

// The kind X puts in front of a media key (see typeFromMediaKey in shared/x/x-media.ts).
const MEDIA_KEY_KIND = { photo: 3, video: 7, animated_gif: 16 } as const;

/** The files X serves for a media item: a photo's jpg, or a video's or GIF's mp4 variants and its still. */
function mediaFiles(media: BuiltMedia) {
  const still = `https://pbs.twimg.com/${media.type === 'photo' ? 'media' : 'ext_tw_video_thumb'}/${media.idStr}.jpg`;
  if (media.type === 'photo') return { still, variants: [] };
  if (media.type === 'animated_gif') {
    return { still, variants: [{ rate: 0, type: 'video/mp4', url: `https://video.twimg.com/tweet_video/${media.idStr}.mp4` }] };
  }
  const base = `https://video.twimg.com/ext_tw_video/${media.idStr}/pu`;
  return {
    still,
    variants: [
      { rate: undefined, type: 'application/x-mpegURL', url: `${base}/pl/playlist.m3u8` },
      { rate: 256_000, type: 'video/mp4', url: `${base}/vid/320x180/low.mp4` },
      { rate: 2_176_000, type: 'video/mp4', url: `${base}/vid/1280x720/high.mp4` },
      { rate: 832_000, type: 'video/mp4', url: `${base}/vid/640x360/mid.mp4` },
    ],
  };
}

/** The file the normaliser should pick for a factory-made media item: the photo, or the highest-rate mp4. */
export function expectedMediaUrl(media: { type: MediaSpec['type']; idStr: string }): string {
  const files = mediaFiles({ ...media, key: '' });
  return media.type === 'photo' ? files.still : (files.variants.filter((v) => v.type === 'video/mp4').sort((a, b) => (b.rate ?? 0) - (a.rate ?? 0))[0]?.url ?? '');
}

function v2MediaObject(media: BuiltMedia): Record<string, unknown> {
  const files = mediaFiles(media);
  return {
    media_key: media.key,
    type: media.type,
    width: 1280,
    height: 720,
    ...(media.type === 'photo' ? { url: files.still } : { preview_image_url: files.still }),
    ...(media.type === 'video' ? { duration_ms: 34_875 } : {}),
    ...(media.altText !== undefined ? { alt_text: media.altText } : {}),
    ...(media.type === 'photo'
      ? {}
      : { variants: files.variants.map((v) => ({ ...(v.rate === undefined ? {} : { bit_rate: v.rate }), content_type: v.type, url: v.url })) }),
  };
}

function v1MediaObject(media: BuiltMedia, link: UrlRef | undefined, dmMediaUrl?: string): Record<string, unknown> {
  const files = mediaFiles(media);
  return {
    id: Number(media.idStr),
    id_str: media.idStr,
    ...(link ? { indices: [link.start, link.end], url: link.url, display_url: link.displayUrl, expanded_url: link.expandedUrl } : {}),
    media_url: (dmMediaUrl ?? files.still).replace('https:', 'http:'),
    media_url_https: dmMediaUrl ?? files.still,
    type: media.type,
    sizes: { large: { w: 1280, h: 720, resize: 'fit' }, thumb: { w: 150, h: 150, resize: 'crop' } },
    original_info: { width: 1280, height: 720 },
    ...(media.altText !== undefined ? { ext_alt_text: media.altText } : {}),
    ...(media.type === 'photo'
      ? {}
      : {
          video_info: {
            aspect_ratio: [16, 9],
            ...(media.type === 'video' ? { duration_millis: 34_875 } : {}),
            variants: files.variants.map((v) => ({ ...(v.rate === undefined ? {} : { bitrate: v.rate }), content_type: v.type, url: v.url })),
          },
        }),
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

// v1.1 (compatibility mode) cuts a post's `text` past 140 characters, v2 past 280: the whole post is then in
// extended_tweet / note_tweet, with its own entities.
const V1_SHORT = 140;
const V2_SHORT = 280;

/** The cut text X sends for a long post: the head of the text and "…", with the entities that fit in it. */
function shortened(post: BuiltPost, limit: number) {
  const head = [...post.wireText].slice(0, limit - 1).join('');
  const fits = <T extends { end: number }>(list: T[]) => list.filter((entity) => entity.end <= limit - 1);
  return { text: `${head}…`, urls: fits(post.urls), mentions: fits(post.mentions) };
}

function v1Entities(post: BuiltPost, urls: UrlRef[], mentions: BuiltPost['mentions'], withMedia: boolean) {
  return {
    hashtags: [],
    urls: urls.map((u) => ({ url: u.url, expanded_url: u.expandedUrl, display_url: u.displayUrl, indices: [u.start, u.end] })),
    symbols: [],
    user_mentions: mentions.map((mention) => ({
      screen_name: mention.user.username,
      name: mention.user.name,
      id: Number(mention.user.id),
      id_str: mention.user.id,
      indices: [mention.start, mention.end],
    })),
    // v1.1's entities.media names the first media item only, as a photo even for a video (its still).
    ...(withMedia && post.media[0] ? { media: [{ ...v1MediaObject(post.media[0], post.mediaLink), type: 'photo' }] } : {}),
  };
}

function aaaTweet(post: BuiltPost): Record<string, unknown> {
  const length = cpLength(post.wireText);
  const long = length > V1_SHORT;
  const short = long ? shortened(post, V1_SHORT) : undefined;
  const extendedEntities = post.media.length > 0 ? { media: post.media.map((m) => v1MediaObject(m, post.mediaLink)) } : undefined;
  const fullEntities = v1Entities(post, post.urls, post.mentions, true);
  const quoted = post.quoted?.included ? post.quoted.post : undefined;
  return {
    created_at: twitterDate(post.createdAt),
    // X's numeric id is past 2^53: JSON.stringify writes the rounded double, as the real payload effectively is.
    id: Number(post.id),
    id_str: post.id,
    text: short ? short.text : post.wireText,
    display_text_range: [post.displayStart, long ? V1_SHORT : post.displayEnd],
    source: '<a href="https://mobile.twitter.com" rel="nofollow">Twitter Web App</a>',
    truncated: long,
    in_reply_to_status_id: post.inReplyTo ? Number(post.inReplyTo.id) : null,
    in_reply_to_status_id_str: post.inReplyTo?.id ?? null,
    in_reply_to_user_id: post.inReplyTo ? Number(post.inReplyTo.user.id) : null,
    in_reply_to_user_id_str: post.inReplyTo?.user.id ?? null,
    in_reply_to_screen_name: post.inReplyTo?.user.username ?? null,
    user: v1User(post.author),
    is_quote_status: post.quotedId !== undefined,
    ...(post.quotedId ? { quoted_status_id: Number(post.quotedId), quoted_status_id_str: post.quotedId } : {}),
    ...(quoted ? { quoted_status: aaaTweet(quoted) } : {}),
    entities: short ? v1Entities(post, short.urls, short.mentions, false) : fullEntities,
    ...(extendedEntities && !long ? { extended_entities: extendedEntities } : {}),
    ...(long
      ? {
          extended_tweet: {
            full_text: post.wireText,
            display_text_range: [post.displayStart, post.displayEnd],
            entities: fullEntities,
            ...(extendedEntities ? { extended_entities: extendedEntities } : {}),
          },
        }
      : {}),
    // x-api/enterprise-gnip-2.0/fundamentals/edit-tweets.mdx: every post carries its edit history, itself when unedited.
    edit_history: { initial_tweet_id: post.editOf[0] ?? post.id, edit_tweet_ids: [...post.editOf, post.id] },
    lang: 'en',
    timestamp_ms: String(post.createdAt.getTime()),
  };
}

function v2UrlEntity(u: UrlRef, mediaKey?: string): Record<string, unknown> {
  return {
    start: u.start,
    end: u.end,
    url: u.url,
    expanded_url: u.expandedUrl,
    display_url: u.displayUrl,
    ...(mediaKey ? { media_key: mediaKey } : {}),
  };
}

function v2Mentions(mentions: BuiltPost['mentions']) {
  return mentions.map((mention) => ({ start: mention.start, end: mention.end, username: mention.user.username, id: mention.user.id }));
}

/** A v2 post object (x-api/fundamentals/data-dictionary.mdx), long posts with note_tweet. */
function v2Post(post: BuiltPost): Record<string, unknown> {
  const referenced = [
    ...(post.inReplyTo ? [{ type: 'replied_to', id: post.inReplyTo.id }] : []),
    ...(post.quotedId ? [{ type: 'quoted', id: post.quotedId }] : []),
  ];
  const long = cpLength(post.wireText) > V2_SHORT;
  const short = long ? shortened(post, V2_SHORT) : undefined;
  // Every media item has its own url entity, all at the one link's place.
  const mediaEntities = post.mediaLink ? post.media.map((m) => v2UrlEntity(post.mediaLink as UrlRef, m.key)) : [];
  const entities = (urls: UrlRef[], mentions: BuiltPost['mentions'], media: Record<string, unknown>[]) => ({
    ...(mentions.length > 0 ? { mentions: v2Mentions(mentions) } : {}),
    ...(urls.length + media.length > 0 ? { urls: [...urls.map((u) => v2UrlEntity(u)), ...media] } : {}),
  });
  return {
    id: post.id,
    text: short ? short.text : post.wireText,
    author_id: post.author.id,
    conversation_id: post.conversationId,
    created_at: post.createdAt.toISOString(),
    lang: 'en',
    reply_settings: 'everyone',
    edit_history_tweet_ids: [...post.editOf, post.id],
    display_text_range: [post.displayStart, long ? V2_SHORT : post.displayEnd],
    ...(post.inReplyTo ? { in_reply_to_user_id: post.inReplyTo.user.id } : {}),
    ...(referenced.length > 0 ? { referenced_tweets: referenced } : {}),
    ...(post.media.length > 0 ? { attachments: { media_keys: post.media.map((m) => m.key) } } : {}),
    // The media link stays with the short text's entities; note_tweet describes the long text only.
    entities: short ? entities(short.urls, short.mentions, mediaEntities) : entities(post.urls, post.mentions, mediaEntities),
    ...(long ? { note_tweet: { text: post.wireText, entities: entities(post.urls, post.mentions, []) } } : {}),
  };
}

function xaaPostEnvelope(eventType: string, post: BuiltPost, forUserId?: string): Record<string, unknown> {
  const quoted = post.quoted?.included ? post.quoted.post : undefined;
  const users = [post.author, ...(quoted && quoted.author.id !== post.author.id ? [quoted.author] : [])];
  const described = post.media.filter((m) => m.described !== false);
  const includes = {
    users: users.map(v2User),
    ...(quoted ? { tweets: [v2Post(quoted)] } : {}),
    ...(described.length > 0 ? { media: described.map(v2MediaObject) } : {}),
  };
  return {
    data: {
      event_uuid: nextXId(),
      filter: { user_id: forUserId ?? BOT.id },
      event_type: eventType,
      tag: 'support',
      payload: v2Post(post),
      ...(post.includes === 'missing' ? {} : { includes: post.includes === 'empty' ? {} : includes }),
    },
  };
}

/** X Activity API `post.quote.create` envelope: a quote of one of the bot's posts. */
export function xaaQuote(options: PostOptions & { quoted: NonNullable<PostOptions['quoted']> }): Record<string, unknown> {
  return xaaPostEnvelope('post.quote.create', buildPost({ text: 'is this still true?', ...options }), options.forUserId);
}

/** Account Activity body with a quote tweet (`quoted_status` when included). */
export function aaaQuote(options: PostOptions & { quoted: NonNullable<PostOptions['quoted']> }): Record<string, unknown> {
  return aaaMention({ text: 'is this still true?', ...options });
}

/** The media ids and keys a factory body carries, in order, for assertions: v2 keys from XAA bodies, v1.1 ids from AAA. */
export function mediaOf(body: Record<string, unknown>): { key: string; idStr: string; type: MediaSpec['type'] }[] {
  const json = JSON.stringify(body);
  return [...json.matchAll(/"media_key":"((\d+)_(\d+))"/g)]
    .map((m) => ({ key: m[1] ?? '', idStr: m[3] ?? '', type: (m[2] === '3' ? 'photo' : m[2] === '7' ? 'video' : 'animated_gif') as MediaSpec['type'] }))
    .filter((m, i, all) => all.findIndex((other) => other.key === m.key) === i);
}

type BuiltDm = {
  id: string;
  sender: XUserRef;
  recipient: XUserRef;
  wireText: string;
  urls: UrlRef[];
  media?: BuiltMedia;
  mediaLink?: UrlRef;
  createdAt: Date;
};

function buildDm(options: DmOptions): BuiltDm {
  const sender = options.sender ?? CUSTOMER;
  const id = options.id ?? nextXId();
  const typed = options.text ?? 'Order #A-1234, email jane@example.com. Thanks!';
  const { wire, urls } = wrapLinks(typed, options.links ?? [], '');
  let wireText = wire;
  let mediaLink: UrlRef | undefined;
  let media: BuiltMedia | undefined;
  if (options.media) {
    const idStr = nextXId();
    media = { ...options.media, idStr, key: idStr };
    const url = tco();
    wireText = wire === '' ? url : `${wire} ${url}`;
    const start = cpLength(wireText) - cpLength(url);
    mediaLink = { url, expandedUrl: `https://x.com/messages/media/${id}`, displayUrl: 'pic.x.com/dm', start, end: start + cpLength(url) };
  }
  return {
    id,
    sender,
    recipient: options.recipient ?? (sender.id === BOT.id ? CUSTOMER : BOT),
    wireText,
    urls,
    ...(media ? { media } : {}),
    ...(mediaLink ? { mediaLink } : {}),
    createdAt: toDate(options.createdAt ?? DEFAULT_CREATED_AT),
  };
}

/** Where X serves a DM's media: ton.twitter.com, which answers only requests signed with the account's credentials. */
export function dmMediaUrl(dmId: string, mediaIdStr: string): string {
  return `https://ton.twitter.com/1.1/ton/data/dm/${dmId}/${mediaIdStr}/photo.jpg`;
}

function dmUsers(dm: BuiltDm, options: DmOptions): XUserRef[] {
  return options.namesSender === false ? [dm.recipient] : [dm.sender, dm.recipient];
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
        text: dm.wireText,
        entities: {
          hashtags: [],
          symbols: [],
          user_mentions: [],
          urls: dm.urls.map((u) => ({ url: u.url, expanded_url: u.expandedUrl, display_url: u.displayUrl, indices: [u.start, u.end] })),
        },
        ...(dm.media
          ? {
              attachment: {
                type: 'media',
                media: v1MediaObject(
                  dm.media,
                  dm.mediaLink,
                  dm.media.type === 'photo' ? dmMediaUrl(dm.id, dm.media.idStr) : undefined,
                ),
              },
            }
          : {}),
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
