// The v1.1 `message_create` DM event → an inbound DM. Both formats carry this same object: the Account Activity API in
// `direct_message_events`, and the X Activity API inside dm.received / dm.sent payloads
// (x-api/activity/event-payloads.mdx), each with a `users` map beside it.
import type { InboundDm } from './inbound-event';
import { isObject, isoFromMillis, numericId, type Env, type Format, type ItemOutcome } from './format-readers';
import { dmMedia } from './x-media';
import { expandLinks, v1UrlEntities } from './x-entities';
import { userFrom } from './x-users';

/**
 * One `message_create` event as an inbound DM: sender named from `userMaps` (the first that has them), links
 * expanded from `message_data.entities.urls`, the attachment's media listed (requiresAuth) and its t.co link dropped
 * from the text. `other_account` when the bot is neither sender nor recipient; `unsupported` for other DM event kinds.
 */
export function directMessage(item: unknown, userMaps: unknown[], format: Format, via: string, env: Env): ItemOutcome {
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
  const rawText = messageData?.text ?? '';
  if (!messageData || xId === undefined || senderId === undefined || recipientId === undefined || typeof rawText !== 'string') {
    return 'malformed';
  }
  // The same DM is delivered once per subscribed participant: one the bot is not part of is someone else's.
  if (senderId !== env.bot.id && recipientId !== env.bot.id) return 'other_account';

  const entities = isObject(messageData.entities) ? messageData.entities : {};
  const attachment = messageData.attachment;
  // The attachment's own `url` (with `indices`) is the t.co link X put in the text for it.
  const attachmentMedia = isObject(attachment) && isObject(attachment.media) ? [[attachment.media]] : [];
  const { text, links } = expandLinks(rawText, v1UrlEntities(entities.urls, attachmentMedia));
  const dm: InboundDm = {
    kind: 'dm',
    format,
    xId,
    sender: userFrom(senderId, userMaps, env.bot),
    recipientXUserId: recipientId,
    text,
    links,
    media: dmMedia(attachment),
    createdAt: isoFromMillis(item.created_timestamp) ?? env.receivedAt,
    via,
    receivedAt: env.receivedAt,
  };
  return dm;
}
