// X's two webhook formats → the bridge's inbound events. Pure: no I/O, no zod (this runs in the webhook Lambda,
// whose bundle must stay small), and it never throws: X's payloads, or anything that passed the signature check,
// become events plus a count of what was ignored and why.
//
// Formats, told apart by shape:
// - X Activity API (XAA): `{data: {event_uuid, event_type, filter: {user_id}, tag, payload, includes}}`, v2 posts.
//   X documents one envelope per delivery; an array of envelopes (or `data` as an array) is accepted as well.
// - Account Activity API (AAA): `{for_user_id, tweet_create_events | direct_message_events | ...}`, v1.1 objects.
import type { IgnoreReason, InboundDelete, InboundDm, InboundEvent, InboundPost, NormalisedBody } from './inbound-event';
import { sliceCodePoints, storedText, toWellFormed } from './text';

/** Who the bridge listens for, and when the body arrived (used where X sends no timestamp). */
export type NormaliseContext = { botUserId: string; botUsername: string; receivedAt: string };

type Format = 'xaa' | 'aaa';
type JsonObject = Record<string, unknown>;
/** What one X item becomes: an event to queue, or the reason it was acknowledged and dropped. */
type ItemOutcome = InboundEvent | IgnoreReason;

type Bot = { id: string; username: string; handlePattern: RegExp | undefined };
type Env = { bot: Bot; receivedAt: string; events: InboundEvent[]; ignored: Partial<Record<IgnoreReason, number>> };

/** A mention entity, reduced to what deciding `mentionsBot` needs; `start` is in code points, as X counts. */
type MentionRef = { start: number | undefined; id: string | undefined; username: string | undefined };

const NUMERIC_ID = /^\d{1,20}$/;
// Mentions X adds in front of a reply: only used when X sent no display_text_range to say where they end.
const AUTO_REPLY_PREFIX = /^(?:[@\uFF20][A-Za-z0-9_]{1,15}\s+)+/;

const XAA_POST_TYPES = new Set(['post.mention.create', 'post.reply.create', 'post.quote.create', 'post.create']);
const XAA_DM_TYPES = new Set(['dm.received', 'dm.sent']);
// Maps, not object literals: an event_type such as "constructor" must not find Object.prototype's members.
const XAA_IGNORED_TYPES = new Map<string, IgnoreReason>([
  ['post.repost.create', 'retweet'],
  ['like.create', 'like'],
  ['follow.follow', 'follow'],
  ['follow.unfollow', 'follow'],
  ['dm.indicate_typing', 'typing'],
  ['dm.read', 'read'],
]);

const AAA_IGNORED_ARRAYS = new Map<string, IgnoreReason>([
  ['favorite_events', 'like'],
  ['follow_events', 'follow'],
  ['unfollow_events', 'follow'],
  ['direct_message_indicate_typing_events', 'typing'],
  ['direct_message_mark_read_events', 'read'],
]);
const AAA_HANDLED_ARRAYS = new Set(['tweet_create_events', 'direct_message_events', 'tweet_delete_events']);
// Keys that only describe the body (or the other items in it); every other `*_events` / `*_event` key is an item.
const AAA_METADATA_KEYS = new Set(['for_user_id', 'user_has_blocked', 'is_blocked_by', 'users', 'apps']);

/**
 * Turns one parsed webhook body (either X format) into the inbound events to queue, in the order X listed them, and
 * counts every item it does not queue by reason. Never throws, whatever the input: an item that cannot be read is
 * counted `malformed`, a body that is neither format `unsupported`, and the result always accounts for at least
 * one item. The bot's own posts and DMs are normalised too (the ingest worker matches them to its replies).
 */
export function normaliseWebhookBody(body: unknown, ctx: NormaliseContext): NormalisedBody {
  const env: Env = { bot: botOf(ctx), receivedAt: ctx.receivedAt, events: [], ignored: {} };
  try {
    if (Array.isArray(body)) {
      for (const element of body) normaliseOneBody(element, env);
    } else {
      normaliseOneBody(body, env);
    }
  } catch {
    // Only reachable through a bug here; a webhook must still be acknowledged, so the body is counted instead.
    count(env, 'malformed');
  }
  if (env.events.length === 0 && Object.keys(env.ignored).length === 0) count(env, 'unsupported');
  return { events: env.events, ignored: env.ignored };
}

function normaliseOneBody(body: unknown, env: Env): void {
  if (isObject(body) && isXaaEnvelope(body)) {
    const data = body.data;
    if (Array.isArray(data)) {
      for (const envelope of data) normaliseXaaEvent(envelope, env);
    } else {
      normaliseXaaEvent(data, env);
    }
  } else if (isObject(body) && isAaaBody(body)) {
    normaliseAaaBody(body, env);
  } else {
    count(env, 'unsupported');
  }
}

function isXaaEnvelope(body: JsonObject): boolean {
  const data = body.data;
  return Array.isArray(data) || (isObject(data) && ('event_type' in data || 'payload' in data));
}

function isAaaBody(body: JsonObject): boolean {
  return Object.keys(body).some((key) => key === 'for_user_id' || isAaaItemKey(key));
}

function isAaaItemKey(key: string): boolean {
  return !AAA_METADATA_KEYS.has(key) && (key.endsWith('_events') || key.endsWith('_event'));
}

// ---------------------------------------------------------------------------------------------------------------
// X Activity API

function normaliseXaaEvent(envelope: unknown, env: Env): void {
  if (!isObject(envelope) || typeof envelope.event_type !== 'string') {
    count(env, 'malformed');
    return;
  }
  const eventType = envelope.event_type;
  const payload = envelope.payload;
  const includes = isObject(envelope.includes) ? envelope.includes : {};
  const filterUserId = isObject(envelope.filter) ? envelope.filter.user_id : undefined;
  // X delivers every subscription's events to the app's webhook: only the bot's own subscription makes tickets.
  // An envelope without filter.user_id (oauth.revoke has an empty filter) is taken as ours.
  if (filterUserId !== undefined && filterUserId !== env.bot.id) {
    count(env, 'other_account', xaaItemCount(eventType, payload));
    return;
  }
  if (XAA_POST_TYPES.has(eventType)) {
    record(env, xaaPost(payload, includes, eventType, env));
  } else if (XAA_DM_TYPES.has(eventType)) {
    const dms = isObject(payload) ? payload.direct_message_events : undefined;
    if (!Array.isArray(dms)) {
      count(env, 'malformed');
      return;
    }
    // dm.received carries a `users` map of {data: user}; includes.users is read too, in case X moves it there.
    const users = [isObject(payload) ? payload.users : undefined, includes.users];
    for (const dm of dms) record(env, directMessage(dm, users, 'xaa', eventType, env));
  } else if (eventType === 'post.delete') {
    record(env, xaaDelete(payload, env));
  } else {
    count(env, XAA_IGNORED_TYPES.get(eventType) ?? 'unsupported');
  }
}

function xaaItemCount(eventType: string, payload: unknown): number {
  if (XAA_DM_TYPES.has(eventType) && isObject(payload) && Array.isArray(payload.direct_message_events)) {
    return Math.max(1, payload.direct_message_events.length);
  }
  return 1;
}

function xaaPost(payload: unknown, includes: JsonObject, via: string, env: Env): ItemOutcome {
  if (!isObject(payload)) return 'malformed';
  const referenced = Array.isArray(payload.referenced_tweets) ? payload.referenced_tweets.filter(isObject) : [];
  const referencedId = (type: string) => numericId(referenced.find((ref) => ref.type === type)?.id);
  if (referenced.some((ref) => ref.type === 'retweeted')) return 'retweet';

  const xId = numericId(payload.id);
  const authorId = numericId(payload.author_id);
  // Posts over 280 characters arrive cut short in `text`; the whole post is in note_tweet.
  const noteTweet = isObject(payload.note_tweet) && typeof payload.note_tweet.text === 'string' ? payload.note_tweet : undefined;
  const shortText = typeof payload.text === 'string' ? payload.text : undefined;
  const rawText = noteTweet ? (noteTweet.text as string) : shortText;
  if (xId === undefined || authorId === undefined || rawText === undefined) return 'malformed';

  const inReplyToXId = referencedId('replied_to');
  const isReply = inReplyToXId !== undefined || numericId(payload.in_reply_to_user_id) !== undefined;
  let typedStart = rangeStart(payload.display_text_range);
  if (noteTweet && typedStart !== undefined && shortText !== undefined) {
    // display_text_range describes `text`; the reply prefix it skips is the same at the head of the long text.
    const prefix = sliceCodePoints(shortText, 0, typedStart);
    if (!rawText.startsWith(prefix)) typedStart = undefined;
  }
  const entities = noteTweet ? noteTweet.entities : payload.entities;
  const mentions = isObject(entities) ? v2Mentions(entities.mentions) : [];

  const post: InboundPost = {
    kind: 'post',
    format: 'xaa',
    xId,
    author: profileOf(authorId, [includes.users], env.bot),
    text: storedText(rawText),
    createdAt: isoFromIso(payload.created_at) ?? env.receivedAt,
    mentionsBot: mentionsBot(rawText, typedStart, isReply, mentions, env.bot),
    via,
    receivedAt: env.receivedAt,
    links: [],
    media: [],
  };
  return withOptional(post, {
    inReplyToXId,
    inReplyToUserId: numericId(payload.in_reply_to_user_id),
    conversationId: numericId(payload.conversation_id),
  }, quotedOf(referencedId('quoted')));
}

function v2Mentions(value: unknown): MentionRef[] {
  if (!Array.isArray(value)) return [];
  return value.filter(isObject).map((mention) => ({
    start: offset(mention.start),
    id: numericId(mention.id),
    username: typeof mention.username === 'string' ? mention.username : undefined,
  }));
}

function xaaDelete(payload: unknown, env: Env): ItemOutcome {
  if (!isObject(payload)) return 'malformed';
  const xId = numericId(payload.id);
  const authorXUserId = numericId(payload.author_id);
  if (xId === undefined || authorXUserId === undefined) return 'malformed';
  const event: InboundDelete = {
    kind: 'delete',
    format: 'xaa',
    xId,
    authorXUserId,
    // post.delete carries no time of its own.
    deletedAt: isoFromMillis(payload.timestamp_ms) ?? env.receivedAt,
    via: 'post.delete',
    receivedAt: env.receivedAt,
  };
  return event;
}

// ---------------------------------------------------------------------------------------------------------------
// Account Activity API

function normaliseAaaBody(body: JsonObject, env: Env): void {
  const itemKeys = Object.keys(body).filter(isAaaItemKey);
  // X delivers one body per subscribed account, all to the same webhook: only the bot's own make tickets.
  // A body without for_user_id (X omits it only on user_event revokes) is taken as ours.
  if ('for_user_id' in body && body.for_user_id !== env.bot.id) {
    const items = itemKeys.reduce((sum, key) => sum + aaaItemCount(body[key]), 0);
    count(env, 'other_account', Math.max(1, items));
    return;
  }
  // Set when the mentioning account is one the bot blocked; X sends it as a boolean or as the string "true"/"false".
  const blocked = isTrue(body.user_has_blocked) || isTrue(body.is_blocked_by);
  if (itemKeys.length === 0) count(env, 'unsupported');
  for (const key of itemKeys) {
    const items = body[key];
    if (!AAA_HANDLED_ARRAYS.has(key)) {
      count(env, AAA_IGNORED_ARRAYS.get(key) ?? 'unsupported', aaaItemCount(items));
      continue;
    }
    if (!Array.isArray(items)) {
      count(env, 'malformed');
      continue;
    }
    for (const item of items) {
      if (key === 'tweet_create_events') record(env, blocked ? 'blocked' : aaaTweet(item, env));
      else if (key === 'direct_message_events') record(env, directMessage(item, [body.users], 'aaa', key, env));
      else record(env, aaaDelete(item, env));
    }
  }
}

function aaaItemCount(items: unknown): number {
  return Array.isArray(items) ? items.length : 1;
}

function aaaTweet(item: unknown, env: Env): ItemOutcome {
  if (!isObject(item)) return 'malformed';
  if (isObject(item.retweeted_status)) return 'retweet';
  // Ids only from the *_str fields: the numeric ones are above 2^53 and JSON.parse has already rounded them.
  const xId = numericId(item.id_str);
  const user = isObject(item.user) ? item.user : undefined;
  const authorId = numericId(user?.id_str);
  // A long post arrives with truncated: true and a cut `text`; the whole post, its entities and its display range
  // are in extended_tweet (X sends extended_tweet only for such posts, so it is used whenever it is there).
  const extended = isObject(item.extended_tweet) && typeof item.extended_tweet.full_text === 'string' ? item.extended_tweet : undefined;
  const source = extended ?? item;
  const rawText = extended
    ? (extended.full_text as string)
    : typeof item.text === 'string'
      ? item.text
      : typeof item.full_text === 'string'
        ? item.full_text
        : undefined;
  if (xId === undefined || authorId === undefined || rawText === undefined) return 'malformed';

  const inReplyToXId = numericId(item.in_reply_to_status_id_str);
  const inReplyToUserId = numericId(item.in_reply_to_user_id_str);
  const entities = isObject(source.entities) ? source.entities : isObject(item.entities) ? item.entities : {};
  const mentions = v1Mentions(entities.user_mentions);
  const username = stringOr(user?.screen_name, authorId === env.bot.id ? env.bot.username : '');

  const post: InboundPost = {
    kind: 'post',
    format: 'aaa',
    xId,
    author: { xUserId: authorId, username, name: stringOr(user?.name, username) },
    text: storedText(rawText),
    createdAt: isoFromTwitterDate(item.created_at) ?? isoFromMillis(item.timestamp_ms) ?? env.receivedAt,
    mentionsBot: mentionsBot(
      rawText,
      // The reply prefix is the same at the head of full_text, so the short text's range start still holds.
      rangeStart(source.display_text_range) ?? rangeStart(item.display_text_range),
      inReplyToXId !== undefined || inReplyToUserId !== undefined,
      mentions,
      env.bot,
    ),
    via: 'tweet_create_events',
    receivedAt: env.receivedAt,
    links: [],
    media: [],
  };
  const quoted = isObject(item.quoted_status) ? item.quoted_status : undefined;
  return withOptional(post, {
    inReplyToXId,
    inReplyToUserId,
  }, quotedOf(numericId(item.quoted_status_id_str) ?? numericId(quoted?.id_str)));
}

function v1Mentions(value: unknown): MentionRef[] {
  if (!Array.isArray(value)) return [];
  return value.filter(isObject).map((mention) => ({
    start: Array.isArray(mention.indices) ? offset(mention.indices[0]) : undefined,
    id: numericId(mention.id_str),
    username: typeof mention.screen_name === 'string' ? mention.screen_name : undefined,
  }));
}

function aaaDelete(item: unknown, env: Env): ItemOutcome {
  if (!isObject(item) || !isObject(item.status)) return 'malformed';
  const status = item.status;
  // Unlike tweet objects, the delete notice's status.id and status.user_id are strings; a number would be lossy.
  const xId = numericId(status.id_str) ?? numericId(status.id);
  const authorXUserId = numericId(status.user_id_str) ?? numericId(status.user_id);
  if (xId === undefined || authorXUserId === undefined) return 'malformed';
  const event: InboundDelete = {
    kind: 'delete',
    format: 'aaa',
    xId,
    authorXUserId,
    deletedAt: isoFromMillis(item.timestamp_ms) ?? env.receivedAt,
    via: 'tweet_delete_events',
    receivedAt: env.receivedAt,
  };
  return event;
}

// ---------------------------------------------------------------------------------------------------------------
// Shared by both formats

/** A v1.1-style `message_create` DM event (AAA direct_message_events, and XAA dm.received / dm.sent). */
function directMessage(item: unknown, userMaps: unknown[], format: Format, via: string, env: Env): ItemOutcome {
  if (!isObject(item)) return 'malformed';
  // Only message_create carries a message; X has used this array for other DM event kinds before.
  if (item.type !== undefined && item.type !== 'message_create') return 'unsupported';
  const create = item.message_create;
  if (!isObject(create)) return 'malformed';
  const xId = numericId(item.id);
  const senderId = numericId(create.sender_id);
  const recipientId = numericId(isObject(create.target) ? create.target.recipient_id : undefined);
  const messageData = isObject(create.message_data) ? create.message_data : undefined;
  // A DM with only an attachment may come without text, which is still a message.
  const text = messageData?.text ?? '';
  if (!messageData || xId === undefined || senderId === undefined || recipientId === undefined || typeof text !== 'string') {
    return 'malformed';
  }
  // The same DM is delivered once per subscribed participant: one the bot is not part of is someone else's.
  if (senderId !== env.bot.id && recipientId !== env.bot.id) return 'other_account';
  const dm: InboundDm = {
    kind: 'dm',
    format,
    xId,
    sender: profileOf(senderId, userMaps, env.bot),
    recipientXUserId: recipientId,
    text: storedText(text),
    links: [],
    media: [],
    createdAt: isoFromMillis(item.created_timestamp) ?? env.receivedAt,
    via,
    receivedAt: env.receivedAt,
  };
  return dm;
}

/**
 * Whether the author named the bot in the part of the post they typed. X puts the handles of everyone in a thread in
 * front of a reply; display_text_range[0] (code points, counted on the still-escaped text) is where the typed part
 * starts, so a mention entity counts only from there. A reply without a display range is treated as starting after
 * its leading run of @handles; a post that is not a reply has no such prefix. The typed part is also scanned for
 * `@handle` (case-insensitive), in case the entities are missing or their offsets are off.
 */
function mentionsBot(
  rawText: string,
  displayStart: number | undefined,
  isReply: boolean,
  mentions: MentionRef[],
  bot: Bot,
): boolean {
  const typedStart = displayStart ?? (isReply ? (AUTO_REPLY_PREFIX.exec(rawText)?.[0].length ?? 0) : 0);
  const botHandle = bot.username.toLowerCase();
  const entityHit = mentions.some(
    (mention) =>
      mention.start !== undefined &&
      mention.start >= typedStart &&
      (mention.id === bot.id || (botHandle !== '' && mention.username?.toLowerCase() === botHandle)),
  );
  if (entityHit) return true;
  return bot.handlePattern !== undefined && bot.handlePattern.test(sliceCodePoints(rawText, typedStart));
}

/**
 * The author or sender as the ticket shows them, from X's user objects: XAA includes.users (an array) or a DM
 * `users` map, whose values are either the user (AAA: screen_name) or `{data: user}` (XAA: username). When X sent no
 * user object, the username is empty (the bot's own from config) rather than losing the message.
 */
function profileOf(userId: string, sources: unknown[], bot: Bot): InboundPost['author'] {
  let user: JsonObject | undefined;
  for (const source of sources) {
    user = findUser(source, userId);
    if (user) break;
  }
  const fallback = userId === bot.id ? bot.username : '';
  const username = stringOr(user?.username, stringOr(user?.screen_name, fallback));
  return { xUserId: userId, username, name: stringOr(user?.name, username) };
}

function findUser(source: unknown, userId: string): JsonObject | undefined {
  const unwrap = (value: unknown) => (isObject(value) && isObject(value.data) ? value.data : isObject(value) ? value : undefined);
  if (Array.isArray(source)) {
    for (const entry of source) {
      const user = unwrap(entry);
      if (user && (user.id === userId || user.id_str === userId)) return user;
    }
    return undefined;
  }
  if (isObject(source) && Object.hasOwn(source, userId)) return unwrap(source[userId]);
  return undefined;
}

function botOf(ctx: NormaliseContext): Bot {
  const username = typeof ctx.botUsername === 'string' ? ctx.botUsername.replace(/^[@\uFF20]/, '') : '';
  const escaped = username.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  // An @handle is not part of a longer word, e-mail address or handle: `x@AcmeSupport` and `@AcmeSupport_eu` don't count.
  const handlePattern =
    username === '' ? undefined : new RegExp(`(?:^|[^A-Za-z0-9_@\\uFF20])[@\\uFF20]${escaped}(?![A-Za-z0-9_@\\uFF20])`, 'i');
  return { id: String(ctx.botUserId), username, handlePattern };
}

// ---------------------------------------------------------------------------------------------------------------
// Small readers: each returns undefined for anything that is not what X documents.

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function numericId(value: unknown): string | undefined {
  return typeof value === 'string' && NUMERIC_ID.test(value) ? value : undefined;
}

function stringOr(value: unknown, fallback: string): string {
  return typeof value === 'string' && value !== '' ? toWellFormed(value) : fallback;
}

function isTrue(value: unknown): boolean {
  return value === true || (typeof value === 'string' && value.trim().toLowerCase() === 'true');
}

function offset(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

function rangeStart(range: unknown): number | undefined {
  return Array.isArray(range) ? offset(range[0]) : undefined;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const TWITTER_DATE = /^[A-Z][a-z]{2} ([A-Z][a-z]{2}) (\d{2}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2}) (\d{4})$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})$/;

/** v1.1's `created_at` ("Mon Nov 16 14:05:09 +0000 2026") as ISO 8601, parsed by hand rather than by Date.parse. */
function isoFromTwitterDate(value: unknown): string | undefined {
  const match = typeof value === 'string' ? TWITTER_DATE.exec(value) : null;
  if (!match) return undefined;
  const [, monthName, day, hour, minute, second, sign, offsetHours, offsetMinutes, year] = match;
  const month = MONTHS.indexOf(monthName ?? '');
  if (month < 0 || Number(hour) > 23 || Number(minute) > 59 || Number(second) > 60) return undefined;
  const local = Date.UTC(Number(year), month, Number(day), Number(hour), Number(minute), Number(second));
  if (new Date(local).getUTCDate() !== Number(day)) return undefined;
  const offsetMs = (Number(offsetHours) * 60 + Number(offsetMinutes)) * 60_000;
  return isoFromEpoch(sign === '-' ? local + offsetMs : local - offsetMs);
}

/** v2's ISO 8601 `created_at`, re-rendered so both formats give the same string for the same instant. */
function isoFromIso(value: unknown): string | undefined {
  return typeof value === 'string' && ISO_DATE.test(value) ? isoFromEpoch(Date.parse(value)) : undefined;
}

/** `timestamp_ms` / `created_timestamp`: epoch milliseconds, as a string (usually) or a number. */
function isoFromMillis(value: unknown): string | undefined {
  if (typeof value === 'string' && /^\d{1,16}$/.test(value)) return isoFromEpoch(Number(value));
  if (typeof value === 'number' && Number.isSafeInteger(value)) return isoFromEpoch(value);
  return undefined;
}

const YEAR_10000 = 253_402_300_800_000;

function isoFromEpoch(ms: number): string | undefined {
  // Before 1970 or after 9999 is no X timestamp, and toISOString would switch to the ±YYYYYY form.
  return Number.isFinite(ms) && ms >= 0 && ms < YEAR_10000 ? new Date(ms).toISOString() : undefined;
}

// ---------------------------------------------------------------------------------------------------------------

function record(env: Env, outcome: ItemOutcome): void {
  if (typeof outcome === 'string') count(env, outcome);
  else env.events.push(outcome);
}

function count(env: Env, reason: IgnoreReason, items = 1): void {
  // An empty array of likes is no like: only counts above zero are reported.
  if (items > 0) env.ignored[reason] = (env.ignored[reason] ?? 0) + items;
}

function withOptional<T extends object>(base: T, optional: Record<string, string | undefined>, extra: object = {}): T {
  const result = { ...base, ...extra } as Record<string, unknown>;
  for (const [key, value] of Object.entries(optional)) if (value !== undefined) result[key] = value;
  return result as T;
}

function quotedOf(xId: string | undefined): { quoted?: { xId: string } } {
  return xId === undefined ? {} : { quoted: { xId } };
}
