// The X Activity API's webhook format → inbound events. One delivery is `{data: {event_uuid, event_type, filter,
// tag, payload, includes}}` (x-api/activity/event-payloads.mdx); post events carry a v2 post as `payload`, with its
// users, quoted posts and media in the optional `includes`; DM events carry v1.1 DM objects (dm-format.ts).
import type { IgnoreReason, InboundDelete, InboundPost, InboundQuoted, InboundRevoke } from './inbound-event';
import {
  count,
  editHistoryOf,
  isObject,
  isoFromIso,
  isoFromMillis,
  languageOf,
  numericId,
  objects,
  rangeStart,
  record,
  withOptional,
  type Env,
  type ItemOutcome,
  type JsonObject,
} from './format-readers';
import { directMessage } from './dm-format';
import { xchatItem } from './xchat-format';
import { expandLinks, mentionsBot, v2Mentions, v2UrlEntities } from './x-entities';
import { v2Media } from './x-media';
import { userFrom } from './x-users';
import { sliceCodePoints } from './text';

const POST_TYPES = new Set(['post.mention.create', 'post.reply.create', 'post.quote.create', 'post.create']);
const DM_TYPES = new Set(['dm.received', 'dm.sent']);
// XChat (end-to-end encrypted DMs): queued still encrypted, opened by ingest (shared/x/xchat-format.ts).
const CHAT_TYPES = new Set(['chat.received', 'chat.sent']);
// Maps, not object literals: an event_type such as "constructor" must not find Object.prototype's members.
const IGNORED_TYPES = new Map<string, IgnoreReason>([
  ['post.repost.create', 'retweet'],
  ['like.create', 'like'],
  ['follow.follow', 'follow'],
  ['follow.unfollow', 'follow'],
  ['dm.indicate_typing', 'typing'],
  ['dm.read', 'read'],
]);

/** Whether a body is an XAA delivery: `data` is an envelope (event_type or payload) or an array of them. */
export function isXaaBody(body: JsonObject): boolean {
  const data = body.data;
  return Array.isArray(data) || (isObject(data) && ('event_type' in data || 'payload' in data));
}

/** Normalises one XAA delivery into `env`. X documents one envelope per delivery; `data` as an array is accepted. */
export function normaliseXaaBody(body: JsonObject, env: Env): void {
  const data = body.data;
  if (Array.isArray(data)) {
    for (const envelope of data) normaliseXaaEvent(envelope, env);
  } else {
    normaliseXaaEvent(data, env);
  }
}

function normaliseXaaEvent(envelope: unknown, env: Env): void {
  if (!isObject(envelope) || typeof envelope.event_type !== 'string') {
    count(env, 'malformed');
    return;
  }
  const eventType = envelope.event_type;
  const payload = envelope.payload;
  // `includes` is optional, and `{}` in X's samples for replies and quotes.
  const includes = isObject(envelope.includes) ? envelope.includes : {};
  const filterUserId = isObject(envelope.filter) ? envelope.filter.user_id : undefined;
  // X delivers every subscription's events to the app's webhook: only the bot's own subscription makes tickets.
  // An envelope without filter.user_id (oauth.revoke has an empty filter) is taken as ours.
  if (filterUserId !== undefined && filterUserId !== env.bot.id) {
    count(env, 'other_account', itemCount(eventType, payload));
    return;
  }
  if (POST_TYPES.has(eventType)) {
    record(env, xaaPost(payload, includes, eventType, env));
  } else if (DM_TYPES.has(eventType)) {
    const dms = isObject(payload) ? payload.direct_message_events : undefined;
    if (!Array.isArray(dms)) {
      count(env, 'malformed');
      return;
    }
    // dm.received carries a `users` map of {data: user}; includes.users is read too, in case X moves it there.
    const users = [isObject(payload) ? payload.users : undefined, includes.users];
    for (const dm of dms) record(env, directMessage(dm, users, 'xaa', eventType, env));
  } else if (CHAT_TYPES.has(eventType)) {
    record(env, xchatItem(payload, eventType, env));
  } else if (eventType === 'post.delete') {
    record(env, xaaDelete(payload, env));
  } else if (eventType === 'oauth.revoke') {
    record(env, xaaRevoke(payload, env));
  } else {
    count(env, IGNORED_TYPES.get(eventType) ?? 'unsupported');
  }
}

function itemCount(eventType: string, payload: unknown): number {
  if (DM_TYPES.has(eventType) && isObject(payload) && Array.isArray(payload.direct_message_events)) {
    return Math.max(1, payload.direct_message_events.length);
  }
  return 1;
}

function xaaPost(payload: unknown, includes: JsonObject, via: string, env: Env): ItemOutcome {
  if (!isObject(payload)) return 'malformed';
  const referenced = objects(payload.referenced_tweets);
  const referencedId = (type: string) => numericId(referenced.find((ref) => ref.type === type)?.id);
  if (referenced.some((ref) => ref.type === 'retweeted')) return 'retweet';

  const xId = numericId(payload.id);
  const authorId = numericId(payload.author_id);
  const content = postContent(payload);
  if (xId === undefined || authorId === undefined || content === undefined) return 'malformed';

  // post.reply.create's sample also names the post replied to in `in_reply_to_tweet_id`.
  const inReplyToXId = referencedId('replied_to') ?? numericId(payload.in_reply_to_tweet_id);
  const isReply = inReplyToXId !== undefined || numericId(payload.in_reply_to_user_id) !== undefined;
  let typedStart = rangeStart(payload.display_text_range);
  if (content.fromNote && typedStart !== undefined && typeof payload.text === 'string') {
    // display_text_range describes `text`; the reply prefix it skips is the same at the head of the long text.
    const prefix = sliceCodePoints(payload.text, 0, typedStart);
    if (!content.rawText.startsWith(prefix)) typedStart = undefined;
  }
  const { text, links } = expandLinks(content.rawText, content.urls);

  const post: InboundPost = {
    kind: 'post',
    format: 'xaa',
    xId,
    author: userFrom(authorId, [includes.users], env.bot),
    text,
    links,
    media: v2Media(payload.attachments, includes.media),
    createdAt: isoFromIso(payload.created_at) ?? env.receivedAt,
    mentionsBot: mentionsBot(content.rawText, typedStart, isReply, v2Mentions(content.mentions), env.bot),
    via,
    receivedAt: env.receivedAt,
  };
  return withOptional(post, {
    inReplyToXId,
    inReplyToUserId: numericId(payload.in_reply_to_user_id),
    conversationId: numericId(payload.conversation_id),
    quoted: quotedOf(referencedId('quoted'), includes, env),
    editHistory: editHistoryOf(xId, payload.edit_history_tweet_ids),
    lang: languageOf(payload.lang),
  });
}

type PostContent = { rawText: string; fromNote: boolean; urls: ReturnType<typeof v2UrlEntities>; mentions: unknown };

/**
 * A v2 post's text as X sent it (escaped), with the entities that index into it. Posts over 280 characters arrive cut
 * short in `text`; the whole post and its entities are in `note_tweet` (x-api/fundamentals/data-dictionary.mdx,
 * note_tweet). The media link X appends is only among the short text's entities (with `media_key`), so those are
 * added, to be found by their url (their offsets are into the short text).
 */
function postContent(post: JsonObject): PostContent | undefined {
  const note = isObject(post.note_tweet) && typeof post.note_tweet.text === 'string' ? post.note_tweet : undefined;
  const entities = isObject(post.entities) ? post.entities : undefined;
  if (note) {
    const noteEntities = isObject(note.entities) ? note.entities : undefined;
    const mediaLinks = v2UrlEntities(entities)
      .filter((entity) => entity.media)
      .map(({ url, media }) => ({ url, media }));
    return { rawText: note.text as string, fromNote: true, urls: [...v2UrlEntities(noteEntities), ...mediaLinks], mentions: noteEntities?.mentions };
  }
  if (typeof post.text !== 'string') return undefined;
  return { rawText: post.text, fromNote: false, urls: v2UrlEntities(entities), mentions: entities?.mentions };
}

/**
 * The quoted post: its id from `referenced_tweets`, and its text (links expanded) and author when `includes.tweets`
 * and `includes.users` carry them (X's sample for post.quote.create has `includes: {}`: then the id alone).
 */
function quotedOf(quotedId: string | undefined, includes: JsonObject, env: Env): InboundQuoted | undefined {
  if (quotedId === undefined) return undefined;
  const tweet = objects(includes.tweets).find((candidate) => numericId(candidate.id) === quotedId);
  const content = tweet ? postContent(tweet) : undefined;
  const authorId = numericId(tweet?.author_id);
  return withOptional<InboundQuoted>(
    { xId: quotedId },
    {
      text: content ? expandLinks(content.rawText, content.urls).text : undefined,
      author: authorId === undefined ? undefined : userFrom(authorId, [includes.users], env.bot),
    },
  );
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

/**
 * `oauth.revoke` (x-api/activity/event-payloads.mdx): `payload: {date_time, user_id, app_id}` with an empty filter, so
 * the payload's user_id says whose access went: only the bot's is the channel's business.
 */
function xaaRevoke(payload: unknown, env: Env): ItemOutcome {
  if (!isObject(payload)) return 'malformed';
  const xId = numericId(payload.user_id);
  if (xId === undefined) return 'malformed';
  if (xId !== env.bot.id) return 'other_account';
  const event: InboundRevoke = {
    kind: 'revoke',
    format: 'xaa',
    xId,
    revokedAt: isoFromIso(payload.date_time) ?? env.receivedAt,
    via: 'oauth.revoke',
    receivedAt: env.receivedAt,
  };
  return event;
}
