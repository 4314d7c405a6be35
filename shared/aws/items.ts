// How the ticket domain's values are laid out as DynamoDB items. One codec, used by the store, by the notify
// function reading the table's stream, and by tests that look at the table directly.
import type { Channel, Message, Reply, Ticket } from '../tickets/model';
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
};

/** True for a stream image or item that is a ticket. */
export function isTicketItem(item: Item): boolean {
  return typeof item.pk === 'string' && item.pk.startsWith('CUST#') && String(item.sk).startsWith('TICKET#');
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
