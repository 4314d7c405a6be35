// How the ticket domain's values are laid out as DynamoDB items. One codec, used by the store, by the notify
// function reading the table's stream, and by tests that look at the table directly.
import type { Channel, Message, Reply, Ticket } from '../tickets/model';
import { CHANNEL_STATUS_RANK, channelHealthSchema, type ChannelHealth } from '../channel/channel-health';
import { contentXIdOf, messageSchema, replySchema, ticketSchema } from '../tickets/model';
import { formatTicketId, parseTicketId, type TicketKey } from '../tickets/ticket-id';

export type Item = Record<string, unknown>;

export const keys = {
  ticket: (key: TicketKey) => ({
    pk: `CUST#${key.customerXUserId}`,
    sk: `TICKET#${key.channel}#${String(key.generation).padStart(9, '0')}`,
  }),
  /** The prefix of a customer's tickets on one channel, for "latest ticket" queries. */
  ticketPrefix: (customerXUserId: string, channel: Channel) => ({
    pk: `CUST#${customerXUserId}`,
    skPrefix: `TICKET#${channel}#`,
  }),
  message: (xId: string) => ({ pk: `X#${xId}`, sk: 'X' }),
  reply: (replyId: string) => ({ pk: `REPLY#${replyId}`, sk: 'REPLY' }),
  /**
   * The brand's X channel health: one item, whose stream records are the outbox of `channel.health_changed`. Its own
   * partition: the notify function's event-source filter (in the stack and in the local runner: isNotifyItem) passes
   * it beside the ticket items, and no ticket query or index reaches it.
   */
  channel: (brand: string) => ({ pk: `${CHANNEL_PK_PREFIX}${brand}`, sk: 'CHANNEL' }),
};

const CHANNEL_PK_PREFIX = 'CHANNEL#';

/** True for a stream image or item that is the channel's health. */
export function isChannelItem(item: Item): boolean {
  return typeof item.pk === 'string' && item.pk.startsWith(CHANNEL_PK_PREFIX) && item.sk === 'CHANNEL';
}

/**
 * The channel's item. Flat, unlike the domain value: its one conditional update (dynamoChannelHealthStore) sets
 * `previousStatus` from the status it replaces, which an update can only do to a top-level attribute. `rank` is the
 * status's severity, which the update's condition compares.
 */
export function channelToItem(channel: ChannelHealth): Item {
  return {
    ...keys.channel(channel.brand),
    type: 'channel',
    brand: channel.brand,
    status: channel.status,
    rank: CHANNEL_STATUS_RANK[channel.status],
    reason: channel.reason,
    detail: channel.detail,
    sequence: channel.sequence,
    changedAt: channel.lastChange.at,
    ...(channel.lastChange.previousStatus === undefined ? {} : { previousStatus: channel.lastChange.previousStatus }),
  };
}

export function itemToChannel(item: Item): ChannelHealth {
  return channelHealthSchema.parse({
    brand: item.brand,
    status: item.status,
    reason: item.reason,
    detail: item.detail,
    sequence: item.sequence,
    lastChange: { at: item.changedAt, ...(item.previousStatus === undefined ? {} : { previousStatus: item.previousStatus }) },
  });
}

/** True for a stream image or item that is a ticket. */
export function isTicketItem(item: Item): boolean {
  return typeof item.pk === 'string' && item.pk.startsWith('CUST#') && String(item.sk).startsWith('TICKET#');
}

/**
 * The items whose stream records become helpdesk events: tickets and the channel's health. The notify function's
 * event-source filter, as the stack declares it and the local runner applies it.
 */
export function isNotifyItem(item: Item): boolean {
  return isTicketItem(item) || isChannelItem(item);
}

export function ticketToItem(ticket: Ticket): Item {
  const key = parseTicketId(ticket.id);
  if (!key) throw new Error(`not a ticket id: ${ticket.id}`);
  return {
    ...keys.ticket(key),
    type: 'ticket',
    gsi1pk: `STATUS#${ticket.status}`,
    gsi1sk: `${ticket.createdAt}#${ticket.id}`,
    ...ticket,
  };
}

export function itemToTicket(item: Item): Ticket {
  return ticketSchema.parse(item);
}

/**
 * A new ticket's item, carrying its opening message (`opening`) so that the `ticket.created` event can be built from
 * the stream image alone: the message item is written just after the ticket and may not be there yet. The ticket's
 * next write replaces the item without it.
 */
export function openingTicketToItem(ticket: Ticket, opening: Message): Item {
  return { ...ticketToItem(ticket), opening };
}

/** The opening message a ticket item carries, if it is the item of a new ticket and the copy reads back. */
export function openingMessageOf(item: Item): Message | undefined {
  const parsed = messageSchema.safeParse(item.opening);
  return parsed.success ? parsed.data : undefined;
}

/**
 * A message's item, under its own X id (an edited post's first version's). `contentXId` names the version whose
 * content it holds, so an edit's write can be conditional on the version it read (items written before edits were
 * kept have none: their content is their own X id's).
 */
export function messageToItem(message: Message): Item {
  return {
    ...keys.message(message.xId),
    type: 'message',
    gsi2pk: `TICKET#${message.ticketId}`,
    gsi2sk: `MSG#${message.createdAt}#${message.xId}`,
    contentXId: contentXIdOf(message),
    ...message,
  };
}

/**
 * The item under a later version's X id of an edited post: it names the X id its message is stored under, so a
 * redelivery, a reply to or a delete of that version finds the message. No GSI keys: it is no message of the ticket's.
 */
export function aliasToItem(versionXId: string, message: Message): Item {
  return { ...keys.message(versionXId), type: 'alias', xId: versionXId, messageXId: message.xId, ticketId: message.ticketId };
}

export function itemToMessage(item: Item): Message {
  return messageSchema.parse(item);
}

export function replyToItem(reply: Reply, extra: Item = {}): Item {
  return {
    ...keys.reply(reply.id),
    type: 'reply',
    gsi2pk: `TICKET#${reply.ticketId}`,
    gsi2sk: `REPLY#${reply.createdAt}#${reply.id}`,
    ...extra,
    ...reply,
  };
}

export function itemToReply(item: Item): Reply {
  return replySchema.parse(item);
}

export { formatTicketId, parseTicketId };
