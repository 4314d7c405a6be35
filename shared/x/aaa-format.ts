// The Account Activity API's webhook format → inbound events. One delivery is `{for_user_id, <kind>_events: [...],
// users?, user_has_blocked?}` with v1.1 objects; X ends this API on 2027-01-01.
import type { IgnoreReason, InboundDelete, InboundPost, InboundQuoted, InboundRevoke } from './inbound-event';
import {
  count,
  editHistoryOf,
  isObject,
  isoFromIso,
  isoFromMillis,
  isoFromTwitterDate,
  isTrue,
  languageOf,
  numericId,
  rangeStart,
  record,
  withOptional,
  type Env,
  type ItemOutcome,
  type JsonObject,
} from './format-readers';
import { directMessage } from './dm-format';
import { expandLinks, mentionsBot, v1Mentions, v1UrlEntities } from './x-entities';
import { v1Media } from './x-media';
import { userOf } from './x-users';

const IGNORED_ARRAYS = new Map<string, IgnoreReason>([
  ['favorite_events', 'like'],
  ['follow_events', 'follow'],
  ['unfollow_events', 'follow'],
  ['direct_message_indicate_typing_events', 'typing'],
  ['direct_message_mark_read_events', 'read'],
]);
const HANDLED_ARRAYS = new Set(['tweet_create_events', 'direct_message_events', 'tweet_delete_events']);
// Keys that only describe the body (or the other items in it); every other `*_events` / `*_event` key is an item.
const METADATA_KEYS = new Set(['for_user_id', 'user_has_blocked', 'is_blocked_by', 'users', 'apps']);

/** Whether a body is an AAA delivery: it names the subscribed account or carries a `*_events` / `*_event` key. */
export function isAaaBody(body: JsonObject): boolean {
  return Object.keys(body).some((key) => key === 'for_user_id' || isItemKey(key));
}

function isItemKey(key: string): boolean {
  return !METADATA_KEYS.has(key) && (key.endsWith('_events') || key.endsWith('_event'));
}

/** Normalises one AAA delivery into `env`, item by item in X's order. */
export function normaliseAaaBody(body: JsonObject, env: Env): void {
  const itemKeys = Object.keys(body).filter(isItemKey);
  // X delivers one body per subscribed account, all to the same webhook: only the bot's own make tickets.
  // A body without for_user_id (X omits it only on user_event revokes) is taken as ours.
  if ('for_user_id' in body && body.for_user_id !== env.bot.id) {
    const items = itemKeys.reduce((sum, key) => sum + itemCount(body[key]), 0);
    count(env, 'other_account', Math.max(1, items));
    return;
  }
  // Set when the mentioning account is one the bot blocked; X sends it as a boolean or as the string "true"/"false".
  const blocked = isTrue(body.user_has_blocked) || isTrue(body.is_blocked_by);
  if (itemKeys.length === 0) count(env, 'unsupported');
  for (const key of itemKeys) {
    const items = body[key];
    if (key === 'user_event' && isObject(items) && 'revoke' in items) {
      record(env, aaaRevoke(items.revoke, env));
      continue;
    }
    if (!HANDLED_ARRAYS.has(key)) {
      count(env, IGNORED_ARRAYS.get(key) ?? 'unsupported', itemCount(items));
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

function itemCount(items: unknown): number {
  return Array.isArray(items) ? items.length : 1;
}

function aaaTweet(item: unknown, env: Env): ItemOutcome {
  if (!isObject(item)) return 'malformed';
  if (isObject(item.retweeted_status)) return 'retweet';
  // Ids only from the *_str fields: the numeric ones are above 2^53 and JSON.parse has already rounded them.
  const xId = numericId(item.id_str);
  const authorId = numericId(isObject(item.user) ? item.user.id_str : undefined);
  const content = tweetContent(item);
  if (xId === undefined || authorId === undefined || content === undefined) return 'malformed';

  const inReplyToXId = numericId(item.in_reply_to_status_id_str);
  const inReplyToUserId = numericId(item.in_reply_to_user_id_str);
  const { text, links } = expandLinks(content.rawText, content.urls);
  const post: InboundPost = {
    kind: 'post',
    format: 'aaa',
    xId,
    author: userOf(authorId, item.user, env.bot),
    text,
    links,
    media: v1Media(content.source.extended_entities ?? item.extended_entities, content.entities),
    createdAt: isoFromTwitterDate(item.created_at) ?? isoFromMillis(item.timestamp_ms) ?? env.receivedAt,
    mentionsBot: mentionsBot(
      content.rawText,
      // The reply prefix is the same at the head of full_text, so the short text's range start still holds.
      rangeStart(content.source.display_text_range) ?? rangeStart(item.display_text_range),
      inReplyToXId !== undefined || inReplyToUserId !== undefined,
      v1Mentions(content.entities.user_mentions),
      env.bot,
    ),
    via: 'tweet_create_events',
    receivedAt: env.receivedAt,
  };
  return withOptional(post, {
    inReplyToXId,
    inReplyToUserId,
    quoted: quotedOf(item, env),
    editHistory: isObject(item.edit_history) ? editHistoryOf(xId, editTweetIds(item.edit_history)) : undefined,
    lang: languageOf(item.lang),
  });
}

type TweetContent = { rawText: string; source: JsonObject; entities: JsonObject; urls: ReturnType<typeof v1UrlEntities> };

/**
 * A v1.1 tweet's text as X sent it (escaped) and the entities that index into it. A long post arrives with
 * `truncated: true` and a cut `text`; the whole post, its entities, extended_entities and display range are in
 * `extended_tweet` (X sends extended_tweet only for such posts, so it is used whenever it is there). The media link
 * is the `url` of the media objects (entities.media / extended_entities.media), kept out of entities.urls.
 */
function tweetContent(tweet: JsonObject): TweetContent | undefined {
  const extended = isObject(tweet.extended_tweet) && typeof tweet.extended_tweet.full_text === 'string' ? tweet.extended_tweet : undefined;
  const source = extended ?? tweet;
  const rawText = extended
    ? (extended.full_text as string)
    : typeof tweet.text === 'string'
      ? tweet.text
      : typeof tweet.full_text === 'string'
        ? tweet.full_text
        : undefined;
  if (rawText === undefined) return undefined;
  const entities = isObject(source.entities) ? source.entities : isObject(tweet.entities) ? tweet.entities : {};
  const extendedEntities = isObject(source.extended_entities) ? source.extended_entities : {};
  return { rawText, source, entities, urls: v1UrlEntities(entities.urls, [entities.media, extendedEntities.media]) };
}

/** The quoted post from `quoted_status` (its whole text when truncated, links expanded; its `user`), else its id. */
function quotedOf(item: JsonObject, env: Env): InboundQuoted | undefined {
  const quoted = isObject(item.quoted_status) ? item.quoted_status : undefined;
  const xId = numericId(item.quoted_status_id_str) ?? numericId(quoted?.id_str);
  if (xId === undefined) return undefined;
  const content = quoted ? tweetContent(quoted) : undefined;
  const authorId = numericId(isObject(quoted?.user) ? quoted.user.id_str : undefined);
  return withOptional<InboundQuoted>(
    { xId },
    {
      text: content ? expandLinks(content.rawText, content.urls).text : undefined,
      author: authorId === undefined ? undefined : userOf(authorId, quoted?.user, env.bot),
    },
  );
}

/**
 * v1.1 `edit_history` ({initial_tweet_id, edit_tweet_ids}, x-api/enterprise-gnip-2.0/fundamentals/edit-tweets.mdx):
 * the version ids, oldest first, or the initial one alone when X sent only that.
 */
function editTweetIds(history: JsonObject): unknown[] {
  if (Array.isArray(history.edit_tweet_ids) && history.edit_tweet_ids.length > 0) return history.edit_tweet_ids;
  return [history.initial_tweet_id];
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

/**
 * `user_event: {revoke: {date_time, target: {app_id}, source: {user_id}}}`: the account `source.user_id` withdrew the
 * app's access. X sends it without for_user_id, so the source says whose it is: only the bot's is the channel's business.
 */
function aaaRevoke(revoke: unknown, env: Env): ItemOutcome {
  if (!isObject(revoke) || !isObject(revoke.source)) return 'malformed';
  const xId = numericId(revoke.source.user_id);
  if (xId === undefined) return 'malformed';
  if (xId !== env.bot.id) return 'other_account';
  const event: InboundRevoke = {
    kind: 'revoke',
    format: 'aaa',
    xId,
    revokedAt: isoFromIso(revoke.date_time) ?? env.receivedAt,
    via: 'user_event',
    receivedAt: env.receivedAt,
  };
  return event;
}
