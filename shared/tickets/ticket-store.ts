// The ticket store port: what the use cases need from storage, in the domain's words. DynamoDB implements it
// (shared/aws/dynamo-ticket-store.ts); every write states how a retry or a race is recognised.
import type { Channel, Message, Reply, Ticket, TicketStatus } from './model';

/**
 * What the store holds under an X id: a message, or the tombstone of a post deleted before it was ingested (or dropped
 * by the brand's rules: `droppedBy` names the rule). An edited
 * post's message is stored under its first version's id; every later version's id reads as that message too.
 */
export type StoredXItem = { kind: 'message'; message: Message } | { kind: 'tombstone'; xId: string; droppedBy?: string };

/**
 * A reply with what posting it needs, resolved when it was requested: where it goes on X, and the idempotency key's
 * fingerprint so a reused key with another body is told apart from a retry.
 */
export type StoredReply = {
  reply: Reply;
  target: { kind: 'post'; inReplyToXId: string } | { kind: 'dm'; participantXUserId: string };
  requestFingerprint: string;
  /** When the current posting attempt began (status `posting`): a crash mid-post is recognised by it. */
  postingSince?: string;
  /** Earliest time X's rate limit lets the next attempt go (epoch ms). */
  notBefore?: number;
  attempts: number;
  /** The files to post with the reply (fetched and uploaded to X by the reply worker: shared/replies/reply-attachments.ts). */
  attachments?: { url: string; altText?: string }[];
  /** X's media ids of the uploaded attachments, recorded before the post is sent so a retry does not upload again. */
  mediaIds?: string[];
  /** X was still processing an uploaded video or GIF when last asked (its STATUS is asked before posting). */
  mediaProcessing?: boolean;
};

/** The outcome of a conditional write. `ticket_changed`: someone else changed the ticket first; read and decide again. */
export type WriteOutcome = 'ok' | 'message_exists' | 'ticket_changed';

export type TicketPage = { tickets: Ticket[]; nextCursor?: string };

export type TicketStore = {
  /** The item stored under an X id (strongly consistent), if any. */
  getXItem(xId: string): Promise<StoredXItem | undefined>;
  /** The items stored under several X ids at once (strongly consistent, one request per 100); absent ids are left out. */
  getXItems(xIds: string[]): Promise<Map<string, StoredXItem>>;
  getTicket(ticketId: string): Promise<Ticket | undefined>;
  /** A customer's tickets on one channel, newest first (strongly consistent). */
  customerTickets(customerXUserId: string, channel: Channel, limit: number): Promise<Ticket[]>;
  /**
   * Writes a new ticket and its first message atomically, with `aliases` (an edited post's later versions' X ids,
   * none of which may hold a tombstone) pointing at it. `ticket_exists`: another item opened this customer's ticket
   * with the same number first. `message_exists`: the message is already stored (a redelivery). `ticket_changed`:
   * another transaction was writing the same items; decide again.
   */
  createTicket(ticket: Ticket, message: Message, aliases?: string[]): Promise<WriteOutcome | 'ticket_exists'>;
  /**
   * For a customer's first ticket (see ingest.ts, isFirstContact), half the capacity of `createTicket`:
   * writes a new ticket, with a copy of its opening message for the `ticket.created` event, if its key is free.
   * `ticket_exists`: another item opened this customer's ticket with the same number first; `already_open`: this
   * very item did (a concurrent delivery, or a worker that died before storing the message). The message itself is
   * stored next, by `putMessage`: two single-item writes cost half a transaction, and the ticket written first is what
   * lets a redelivery finish the job (rule: `openingXId`).
   */
  openTicket(ticket: Ticket, opening: Message): Promise<'ok' | 'ticket_exists' | 'already_open'>;
  /** Stores a message under its X id if none is there yet; `message_exists` otherwise. */
  putMessage(message: Message): Promise<'ok' | 'message_exists'>;
  /**
   * Adds a message (and its `aliases`, as createTicket) and writes the ticket's next state atomically, if the ticket
   * is still at `expectedSequence`.
   */
  addMessage(ticket: Ticket, expectedSequence: number, message: Message, aliases?: string[]): Promise<WriteOutcome>;
  /**
   * Writes an edited post's message in its next state, with aliases for the versions it adds and, when the edit is
   * news to the helpdesk, the ticket's next state (if still at `expectedSequence`), all atomically. With
   * `expectedContentXId`, the message must be stored, unredacted, showing that version; without, its key must be
   * free. `message_exists`: the message or an alias's id was not as expected (another version or a delete came
   * first); `ticket_changed`: read and decide again.
   */
  editMessage(write: {
    message: Message;
    expectedContentXId?: string;
    aliases: string[];
    ticket?: Ticket;
    expectedSequence?: number;
  }): Promise<WriteOutcome>;
  /**
   * Redacts a stored message (its text, links, attachments and quote go; see rules.ts redactedMessage) and writes the ticket's next state atomically. With `unstored`, the message was
   * never stored (its ticket was opened, then its delete came first): it is stored already redacted, if its X id holds
   * nothing or a tombstone; `message_exists` otherwise.
   */
  redactMessage(ticket: Ticket, expectedSequence: number, xId: string, at: string, unstored?: Message): Promise<WriteOutcome>;
  /**
   * Remembers that a post was deleted before it arrived, so a late delivery is never stored. With `droppedBy`, the
   * item was not deleted but dropped by that rule of the brand's (shared/rules/brand-rules.ts): a redelivery is a
   * duplicate, not a new decision.
   */
  putTombstone(xId: string, authorXUserId: string, at: string, droppedBy?: string): Promise<WriteOutcome>;
  /** Writes a ticket's next state if it is still at `expectedSequence` (status changes, reply outcomes). */
  updateTicket(ticket: Ticket, expectedSequence: number): Promise<WriteOutcome>;
  /** Records a requested reply if its id is new; `reply_exists` when it is a retry of an earlier request. */
  createReply(stored: StoredReply): Promise<'ok' | 'reply_exists'>;
  getReply(replyId: string): Promise<StoredReply | undefined>;
  /** Writes a reply's next state if it is still in `expectedStatus` (and, when given, at `expectedAttempts`). */
  updateReply(stored: StoredReply, expected: { status: Reply['status']; attempts: number }): Promise<'ok' | 'reply_changed'>;
  /**
   * Settles a reply for good, atomically with the ticket change that announces it (and, when posted, the outbound
   * message under its X id, so the webhook's echo of the post is recognised as ours).
   */
  settleReply(
    stored: StoredReply,
    expected: { status: Reply['status']; attempts: number },
    ticket: Ticket,
    expectedSequence: number,
    outbound?: Message,
  ): Promise<'ok' | 'reply_changed' | 'ticket_changed' | 'message_exists'>;
  /** Tickets newest first, optionally of one status; `cursor` continues a previous page. */
  listTickets(query: { status?: TicketStatus; limit: number; cursor?: string }): Promise<TicketPage>;
  /** A ticket with its messages and replies in time order. */
  getTicketView(ticketId: string): Promise<{ ticket: Ticket; messages: Message[]; replies: Reply[] } | undefined>;
};
