// X's user objects → the author or sender of an inbound item. X sends them in several places and two vintages:
// - XAA `includes.users`: a plain array of v2 users for post.mention.create, an array of `{data: user}` for
//   post.delete, and `{}` (no users at all) in the samples for post.reply.create and post.quote.create
//   (x-api/activity/event-payloads.mdx);
// - a DM `users` map keyed by user id, of `{data: v2 user}` (XAA dm.received / dm.sent) or of v1.1 users (AAA);
// - v1.1 `user` on a tweet object (AAA).
// v2 users: username, name, profile_image_url, verified_type, public_metrics.followers_count, protected.
// v1.1 users: screen_name, name, profile_image_url_https, followers_count, protected.
import type { InboundUser, XProfile } from './inbound-event';
import { boolean, isObject, numericId, offset, text, unwrapData, type Bot, type JsonObject } from './format-readers';

/**
 * The person with id `userId` as the first of `sources` that has a user object for them describes them. Without one,
 * `username` and `name` are absent (ingest looks them up), except for the bot, whose username comes from config.
 */
export function userFrom(userId: string, sources: unknown[], bot: Bot): InboundUser {
  let user: JsonObject | undefined;
  for (const source of sources) {
    user = findUser(source, userId);
    if (user) break;
  }
  return user ? userOf(userId, user, bot) : botOrUnnamed(userId, bot);
}

/** A user object X sent inline (v1.1 `user`, XAA `{data: user}`) as an inbound user; unnamed when it is not one. */
export function userOf(userId: string, user: unknown, bot: Bot): InboundUser {
  const object = unwrapData(user);
  if (!object) return botOrUnnamed(userId, bot);
  const username = text(object.username) ?? text(object.screen_name) ?? (userId === bot.id ? nonEmpty(bot.username) : undefined);
  const result: InboundUser = { xUserId: userId };
  if (username !== undefined) result.username = username;
  const name = text(object.name) ?? username;
  if (name !== undefined) result.name = name;
  const profile = profileOf(object);
  if (profile) result.profile = profile;
  return result;
}

function botOrUnnamed(userId: string, bot: Bot): InboundUser {
  const username = userId === bot.id ? nonEmpty(bot.username) : undefined;
  return username === undefined ? { xUserId: userId } : { xUserId: userId, username, name: username };
}

function nonEmpty(value: string): string | undefined {
  return value === '' ? undefined : value;
}

function profileOf(user: JsonObject): XProfile | undefined {
  const metrics = isObject(user.public_metrics) ? user.public_metrics : undefined;
  const profile: XProfile = {};
  const image = text(user.profile_image_url) ?? text(user.profile_image_url_https);
  if (image !== undefined) profile.profileImageUrl = image;
  const verifiedType = text(user.verified_type);
  if (verifiedType !== undefined) profile.verifiedType = verifiedType;
  const followers = offset(metrics?.followers_count) ?? offset(user.followers_count);
  if (followers !== undefined) profile.followersCount = followers;
  const isProtected = boolean(user.protected);
  if (isProtected !== undefined) profile.protected = isProtected;
  return Object.keys(profile).length > 0 ? profile : undefined;
}

/** A user object by id in an array (plain or `{data}`-wrapped entries) or in a map keyed by id. */
function findUser(source: unknown, userId: string): JsonObject | undefined {
  if (Array.isArray(source)) {
    for (const entry of source) {
      const user = unwrapData(entry);
      if (user && (numericId(user.id) === userId || numericId(user.id_str) === userId)) return user;
    }
    return undefined;
  }
  if (isObject(source) && Object.hasOwn(source, userId)) return unwrapData(source[userId]);
  return undefined;
}
