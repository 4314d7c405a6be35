// The contract's ticket rules (CONTRACT.md §3) as pure functions over plain data: where an inbound X item goes.
// Decisions use the item's own time, not the time it is processed, so a redelivery a day later decides the same.
import type { CompleteDm as InboundDm, CompletePost as InboundPost } from '../x/inbound-event';
import type { Channel, Message, Ticket, TicketChange, TicketStatus } from './model';
import { messageIdFor } from './model';

export type Windows = { mentionMergeHours: number; reopenHours: number };

/** Where an item goes. */
export type Placement =
  /** Add the message to this ticket; `reopen` when it is a follow-up to a solved ticket within the window. */
  | { action: 'join'; ticket: Ticket; reopen: boolean }
  /** Open the author's next ticket on this channel. */
  | { action: 'create'; channel: Channel; followUpOf?: string }
  /** Record the bot's own post or DM in the ticket whose thread it belongs to (no status change). */
  | { action: 'record_outbound'; ticket: Ticket }
  | { action: 'ignore'; reason: 'self' };

/** What the rules need to know about an item's surroundings, read from the store. */
export type Surroundings = {
  /** The ticket holding the post this one replies to (rule 2), when there is one. */
  parentTicket?: Ticket;
  /** The customer's tickets on this channel, newest first (rules 3 and 4). */
  customerTickets: Ticket[];
};

const HOUR_MS = 60 * 60 * 1000;

function hoursBetween(earlier: string, later: string): number {
  return (Date.parse(later) - Date.parse(earlier)) / HOUR_MS;
}

/** Rule 2's window: a follow-up within `reopenHours` of the ticket being solved reopens it. */
export function isWithinReopenWindow(ticket: Ticket, at: string, windows: Windows): boolean {
  const solvedAt = ticket.solvedAt ?? ticket.updatedAt;
  return hoursBetween(solvedAt, at) <= windows.reopenHours;
}

function followUp(ticket: Ticket, at: string, windows: Windows, channel: Channel): Placement {
  if (ticket.status !== 'solved') return { action: 'join', ticket, reopen: false };
  if (isWithinReopenWindow(ticket, at, windows)) return { action: 'join', ticket, reopen: true };
  return { action: 'create', channel, followUpOf: ticket.id };
}

/**
 * Rules 2 and 3 for a customer's public post: a reply to a post already in a ticket joins (or reopens, or follows
 * up) that ticket; any other mention joins the author's unsolved mention ticket updated within the merge window,
 * else opens a new ticket. "Open" here means not solved: a customer writing again on a pending ticket is news.
 */
export function placeInboundPost(post: InboundPost, around: Surroundings, windows: Windows): Placement {
  if (around.parentTicket) return followUp(around.parentTicket, post.createdAt, windows, 'mention');
  if (windows.mentionMergeHours > 0) {
    const mergeable = around.customerTickets
      .filter((t) => t.channel === 'mention' && t.status !== 'solved')
      .filter((t) => hoursBetween(t.updatedAt, post.createdAt) <= windows.mentionMergeHours)
      .sort((a, b) => b.updatedAt.localeCompare(a.updatedAt))[0];
    if (mergeable) return { action: 'join', ticket: mergeable, reopen: false };
  }
  return { action: 'create', channel: 'mention' };
}

/** Rule 4: one DM ticket per customer while it is not solved; after it is solved, rule 2's window applies. */
export function placeInboundDm(dm: InboundDm, around: Surroundings, windows: Windows): Placement {
  const latest = around.customerTickets.find((t) => t.channel === 'dm');
  if (!latest) return { action: 'create', channel: 'dm' };
  return followUp(latest, dm.createdAt, windows, 'dm');
}

/**
 * Rule 5 for the bot's own items (X delivers them too): one posted inside a ticket's thread is recorded there as
 * outbound; anything else is never a ticket. Echoes of the bridge's own replies are caught earlier, by X id.
 * A DM joins the customer's latest DM ticket whatever its status, as a post joins its thread's ticket: were it judged
 * by the status, a redelivery after the ticket was reopened would record a DM its first delivery had ignored.
 */
export function placeOwnItem(around: Surroundings): Placement {
  if (around.parentTicket) return { action: 'record_outbound', ticket: around.parentTicket };
  const dmTicket = around.customerTickets.find((t) => t.channel === 'dm');
  if (dmTicket) return { action: 'record_outbound', ticket: dmTicket };
  return { action: 'ignore', reason: 'self' };
}

/** The status a ticket takes when a message joins it. */
function statusAfter(ticket: Ticket, direction: Message['direction'], reopen: boolean): TicketStatus {
  if (reopen) return 'open';
  // A customer writing on a ticket that waits for them puts it back in the agents' queue.
  if (direction === 'inbound' && ticket.status === 'pending') return 'open';
  return ticket.status;
}

/** The ticket after `message` joins it: the next sequence, the change that names the event. */
export function ticketWithMessage(ticket: Ticket, message: Message, reopen: boolean, now: string): Ticket {
  const change: TicketChange = {
    type: reopen ? 'ticket.reopened' : 'ticket.message_added',
    at: now,
    messageXId: message.xId,
    ...(reopen || ticket.status !== statusAfter(ticket, message.direction, reopen)
      ? { previousStatus: ticket.status }
      : {}),
  };
  const next: Ticket = {
    ...ticket,
    status: statusAfter(ticket, message.direction, reopen),
    updatedAt: now,
    sequence: ticket.sequence + 1,
    lastChange: change,
  };
  if (next.status !== 'solved') delete next.solvedAt;
  return next;
}

/** A new ticket opened by `message`. */
export function newTicket(input: {
  id: string;
  brand: string;
  channel: Channel;
  customer: Ticket['customer'];
  message: Message;
  followUpOf?: string;
  now: string;
}): Ticket {
  return {
    id: input.id,
    brand: input.brand,
    status: 'open',
    channel: input.channel,
    customer: input.customer,
    createdAt: input.now,
    updatedAt: input.now,
    sequence: 1,
    ...(input.followUpOf ? { followUpOf: input.followUpOf } : {}),
    lastChange: { type: 'ticket.created', at: input.now, messageXId: input.message.xId },
    openingXId: input.message.xId,
  };
}

/** The ticket after a helpdesk status change; undefined when the status is unchanged (no event, no write). */
export function ticketWithStatus(ticket: Ticket, status: TicketStatus, now: string): Ticket | undefined {
  if (ticket.status === status) return undefined;
  const next: Ticket = {
    ...ticket,
    status,
    updatedAt: now,
    sequence: ticket.sequence + 1,
    lastChange: { type: 'ticket.status_changed', at: now, previousStatus: ticket.status },
  };
  if (status === 'solved') next.solvedAt = now;
  else delete next.solvedAt;
  return next;
}

/** The ticket after one of its messages was deleted on X and redacted here (rule 7). */
export function ticketWithRedaction(ticket: Ticket, messageXId: string, now: string): Ticket {
  return {
    ...ticket,
    updatedAt: now,
    sequence: ticket.sequence + 1,
    lastChange: { type: 'ticket.message_redacted', at: now, messageXId },
  };
}

/** The stored message for an inbound post or DM, or for the bot's own item recorded as outbound. */
export function messageFromItem(
  item: InboundPost | InboundDm,
  ticketId: string,
  botUserId: string,
): Message {
  const author = item.kind === 'post' ? item.author : item.sender;
  const direction = author.xUserId === botUserId ? 'outbound' : 'inbound';
  const message: Message = {
    id: messageIdFor(item.xId),
    ticketId,
    xId: item.xId,
    direction,
    channel: item.kind === 'post' ? 'mention' : 'dm',
    text: item.text,
    author: { xUserId: author.xUserId, username: author.username },
    createdAt: item.createdAt,
    redacted: false,
  };
  if (item.kind === 'post') {
    if (item.inReplyToXId) message.inReplyToXId = item.inReplyToXId;
    if (direction === 'inbound') {
      // X's post.quote.create fires when someone quotes the bot's post: that engages the bot too.
      message.summonsBot =
        item.mentionsBot || item.inReplyToUserId === botUserId || item.via === 'post.quote.create';
    }
  }
  return message;
}
