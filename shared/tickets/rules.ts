// The contract's ticket rules (CONTRACT.md §3) as pure functions over plain data: where an inbound X item goes.
// Decisions use the item's own time, not the time it is processed, so a redelivery a day later decides the same.
import type { CompleteDm as InboundDm, CompletePost as InboundPost, InboundMedia, NamedUser } from '../x/inbound-event';
import type { Attachment, Channel, Message, Ticket, TicketChange, TicketStatus, XUser } from './model';
import { messageIdFor } from './model';
import { xchatMessageFields } from '../x/xchat-event';

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

/**
 * The ticket after `message` joins it: the next sequence, the change that names the event. When the ticket's customer
 * is still `unresolved` (no look-up was allowed when it opened) and `author` is that customer, named, the same write
 * completes the customer.
 */
export function ticketWithMessage(ticket: Ticket, message: Message, reopen: boolean, now: string, author?: NamedUser): Ticket {
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
    customer: completedCustomer(ticket.customer, author),
  };
  if (next.status !== 'solved') delete next.solvedAt;
  return next;
}

/** The customer as a ticket shows them: name and the profile fields X gave, or the placeholder flags. */
export function customerFrom(user: NamedUser): XUser {
  return {
    xUserId: user.xUserId,
    username: user.username,
    name: user.name,
    ...user.profile,
    ...(user.unresolved ? { unresolved: true } : {}),
    ...(user.notFound ? { notFound: true } : {}),
  };
}

/** `customer`, completed from `author` when it is an `unresolved` placeholder and `author` is them, named. */
function completedCustomer(customer: XUser, author: NamedUser | undefined): XUser {
  if (!customer.unresolved || !author || author.xUserId !== customer.xUserId || author.unresolved) return customer;
  return customerFrom(author);
}

/**
 * The ticket after an edit replaced one of its messages' content (rule 9): `messageXId` is the message's own X id
 * (its first version's), which is where the event's reader finds it.
 */
export function ticketWithEdit(ticket: Ticket, messageXId: string, now: string, author?: NamedUser): Ticket {
  return {
    ...ticket,
    updatedAt: now,
    sequence: ticket.sequence + 1,
    lastChange: { type: 'ticket.message_edited', at: now, messageXId },
    customer: completedCustomer(ticket.customer, author),
  };
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

/**
 * A message as it is kept once its author deleted it on X (rule 7): ids, times, direction and the edit history's ids
 * stay so the thread still makes sense; what the author wrote (text, links, attachments, the quote) goes.
 */
export function redactedMessage(message: Message): Message {
  const { links: _links, attachments: _attachments, quoted: _quoted, ...kept } = message;
  return { ...kept, text: '', redacted: true };
}

/** The stored message for an inbound post or DM, or for the bot's own item recorded as outbound. */
export function messageFromItem(
  item: InboundPost | InboundDm,
  ticketId: string,
  botUserId: string,
): Message {
  const author = item.kind === 'post' ? item.author : item.sender;
  const direction = author.xUserId === botUserId ? 'outbound' : 'inbound';
  const versions = item.kind === 'post' ? editVersions(item) : [item.xId];
  // An edit is stored under its chain's first version, whichever version arrives first (see ingest.ts).
  const xId = versions[0]!;
  const message: Message = {
    id: messageIdFor(xId),
    ticketId,
    xId,
    direction,
    channel: item.kind === 'post' ? 'mention' : 'dm',
    text: item.text,
    author: {
      xUserId: author.xUserId,
      username: author.username,
      name: author.name,
      ...(author.unresolved ? { unresolved: true } : {}),
      ...(author.notFound ? { notFound: true } : {}),
    },
    createdAt: item.createdAt,
    redacted: false,
    attachments: item.media.map(attachmentFrom),
    links: item.links.map((l) => ({ url: l.url, expandedUrl: l.expandedUrl, displayUrl: l.displayUrl })),
  };
  if (versions.length > 1) message.editHistory = versions;
  if (item.kind === 'dm' && item.xchat) Object.assign(message, xchatMessageFields(item.xchat));
  if (item.kind === 'post') {
    if (item.quoted) {
      const quotedAuthor = item.quoted.author;
      message.quoted = {
        xId: item.quoted.xId,
        ...(item.quoted.text === undefined ? {} : { text: item.quoted.text }),
        // Only a named author: a bare X id says nothing an agent can use.
        ...(quotedAuthor?.username
          ? {
              author: {
                xUserId: quotedAuthor.xUserId,
                username: quotedAuthor.username,
                ...(quotedAuthor.name ? { name: quotedAuthor.name } : {}),
              },
            }
          : {}),
      };
    }
    if (item.inReplyToXId) message.inReplyToXId = item.inReplyToXId;
    if (item.conversationId) message.conversationId = item.conversationId;
    if (direction === 'inbound') {
      // X's post.quote.create fires when someone quotes the bot's post: that engages the bot too.
      message.summonsBot =
        item.mentionsBot || item.inReplyToUserId === botUserId || item.via === 'post.quote.create';
    }
  }
  return message;
}

/**
 * The X ids of an edit chain as far as `post` knows it, oldest first, the post's own id included: X's
 * `edit_history_tweet_ids` (v1.1 names only the first version), in id order. X ids are snowflakes that grow with the
 * time they were made, and every edit is a new post, so id order is X's oldest-first order; keeping histories in that
 * order lets partial ones (v1.1's) merge by union. `[post.xId]` for a post that was never edited.
 */
export function editVersions(post: Pick<InboundPost, 'xId' | 'editHistory'>): string[] {
  return mergeVersions(post.editHistory ?? [], [post.xId]);
}

/** The union of version lists, oldest first (see editVersions). */
export function mergeVersions(...lists: readonly (readonly string[])[]): string[] {
  return [...new Set(lists.flat())].sort(compareXIds);
}

/** Orders X ids by age: numerically, since they are snowflakes (as strings they compare wrongly across lengths). */
export function compareXIds(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** An X media item as a message attachment. */
export function attachmentFrom(media: InboundMedia): Attachment {
  return {
    id: `att-${media.mediaKey}`,
    type: media.type,
    // A video's still is better than nothing when X gave no file address (it always should).
    url: media.url ?? media.previewUrl ?? '',
    ...(media.previewUrl === undefined ? {} : { previewUrl: media.previewUrl }),
    ...(media.altText === undefined ? {} : { altText: media.altText }),
    ...(media.width === undefined ? {} : { width: media.width }),
    ...(media.height === undefined ? {} : { height: media.height }),
    ...(media.durationMs === undefined ? {} : { durationMs: media.durationMs }),
    ...(media.contentType === undefined ? {} : { contentType: media.contentType }),
    ...(media.stored === undefined ? {} : { stored: media.stored }),
    ...(media.error === undefined ? {} : { error: media.error }),
    // X listed the media key but sent no entry for it in includes.media: say so rather than show a blank link.
    ...(media.url === undefined && media.previewUrl === undefined && media.error === undefined && media.stored === undefined
      ? { error: { code: 'not_included', message: 'X named this media without its address; open the post on X to see it.' } }
      : {}),
  };
}
