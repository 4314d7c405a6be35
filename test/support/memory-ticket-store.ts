// An in-memory TicketStore with the same conditional-write semantics as the DynamoDB adapter, for unit and property
// tests of the use cases. Integration tests run the real adapter against DynamoDB Local.
import { contentXIdOf, type Message, type Ticket } from '../../shared/tickets/model';
import { redactedMessage } from '../../shared/tickets/rules';
import { parseTicketId } from '../../shared/tickets/ticket-id';
import { clearedChannel, raisedChannel, type ChannelHealth, type ChannelHealthStore } from '../../shared/channel/channel-health';
import type { StoredReply, StoredXItem, TicketStore } from '../../shared/tickets/ticket-store';

const clone = <T>(value: T): T => structuredClone(value);

export type MemoryTicketStore = TicketStore & {
  tickets: Map<string, Ticket>;
  xItems: Map<string, StoredXItem>;
  /** An edited post's later versions' X ids, each to the X id its message is stored under. */
  aliases: Map<string, string>;
  replies: Map<string, StoredReply>;
  /** Every ticket state ever written, in order: what the table stream would carry. */
  changes: Ticket[];
};

/** A fresh empty store. */
export function memoryTicketStore(): MemoryTicketStore {
  const tickets = new Map<string, Ticket>();
  const xItems = new Map<string, StoredXItem>();
  const aliases = new Map<string, string>();
  const replies = new Map<string, StoredReply>();
  const changes: Ticket[] = [];
  const writeTicket = (t: Ticket) => {
    tickets.set(t.id, clone(t));
    changes.push(clone(t));
  };
  const ticketAt = (id: string, seq: number) => tickets.get(id)?.sequence === seq;
  // One key space, as in the table: an X id holds a message, a tombstone or an alias, never two of them.
  const taken = (xId: string) => xItems.has(xId) || aliases.has(xId);
  const read = (xId: string) => xItems.get(aliases.get(xId) ?? xId);
  // An alias may be written over itself (a retry) but never over a message or a tombstone.
  const aliasesFree = (ids: string[] = []) => ids.every((id) => !xItems.has(id));
  const writeMessage = (message: Message, ids: string[] = []) => {
    xItems.set(message.xId, { kind: 'message', message: clone(message) });
    for (const id of ids) aliases.set(id, message.xId);
  };

  return {
    tickets,
    xItems,
    aliases,
    replies,
    changes,
    async getXItem(xId) {
      return clone(read(xId));
    },
    async getXItems(ids) {
      return new Map(ids.flatMap((id) => (read(id) ? [[id, clone(read(id)!)] as const] : [])));
    },
    async getTicket(id) {
      return clone(tickets.get(id));
    },
    async customerTickets(customer, channel, limit) {
      return [...tickets.values()]
        .filter((t) => t.customer.xUserId === customer && t.channel === channel)
        .sort((a, b) => (parseTicketId(b.id)?.generation ?? 0) - (parseTicketId(a.id)?.generation ?? 0))
        .slice(0, limit)
        .map(clone);
    },
    async createTicket(ticket, message, ids) {
      if (taken(message.xId) || !aliasesFree(ids)) return 'message_exists';
      if (tickets.has(ticket.id)) return 'ticket_exists';
      writeTicket(ticket);
      writeMessage(message, ids);
      return 'ok';
    },
    async openTicket(ticket, opening) {
      const existing = tickets.get(ticket.id);
      if (existing) return existing.openingXId === opening.xId ? 'already_open' : 'ticket_exists';
      writeTicket(ticket);
      return 'ok';
    },
    async putMessage(message) {
      if (taken(message.xId)) return 'message_exists';
      writeMessage(message);
      return 'ok';
    },
    async addMessage(ticket, expected, message, ids) {
      if (taken(message.xId) || !aliasesFree(ids)) return 'message_exists';
      if (!ticketAt(ticket.id, expected)) return 'ticket_changed';
      writeTicket(ticket);
      writeMessage(message, ids);
      return 'ok';
    },
    async editMessage({ message, expectedContentXId, aliases: ids, ticket, expectedSequence }) {
      const current = xItems.get(message.xId);
      const asExpected =
        expectedContentXId === undefined
          ? !taken(message.xId)
          : current?.kind === 'message' && !current.message.redacted && contentXIdOf(current.message) === expectedContentXId;
      if (!asExpected || !aliasesFree(ids)) return 'message_exists';
      if (ticket && !ticketAt(ticket.id, expectedSequence ?? -1)) return 'ticket_changed';
      if (ticket) writeTicket(ticket);
      writeMessage(message, ids);
      return 'ok';
    },
    async redactMessage(ticket, expected, xId, _at, unstored) {
      // Unstored: its X id must hold nothing or a tombstone. Stored: it must be there and not yet redacted.
      const free = xItems.get(xId)?.kind !== 'message' && !aliases.has(xId);
      const item = unstored ? (free ? { kind: 'message' as const, message: unstored } : undefined) : xItems.get(xId);
      if (item?.kind !== 'message' || (!unstored && item.message.redacted)) return 'message_exists';
      if (!ticketAt(ticket.id, expected)) return 'ticket_changed';
      writeTicket(ticket);
      xItems.set(xId, { kind: 'message', message: redactedMessage(item.message) });
      return 'ok';
    },
    async putTombstone(xId, _author, _at, droppedBy) {
      if (taken(xId)) return 'message_exists';
      xItems.set(xId, { kind: 'tombstone', xId, ...(droppedBy === undefined ? {} : { droppedBy }) });
      return 'ok';
    },
    async updateTicket(ticket, expected) {
      if (!ticketAt(ticket.id, expected)) return 'ticket_changed';
      writeTicket(ticket);
      return 'ok';
    },
    async listTickets({ status, limit }) {
      const all = [...tickets.values()]
        .filter((t) => !status || t.status === status)
        .sort((a, b) => `${b.createdAt}#${b.id}`.localeCompare(`${a.createdAt}#${a.id}`));
      return { tickets: all.slice(0, limit).map(clone) };
    },
    async getTicketView(id) {
      const ticket = tickets.get(id);
      if (!ticket) return undefined;
      const messages = [...xItems.values()]
        .flatMap((i) => (i.kind === 'message' && i.message.ticketId === id ? [clone(i.message)] : []))
        .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
      const rs = [...replies.values()].filter((r) => r.reply.ticketId === id).map((r) => clone(r.reply));
      return { ticket: clone(ticket), messages, replies: rs };
    },
    async createReply(stored) {
      if (replies.has(stored.reply.id)) return 'reply_exists';
      replies.set(stored.reply.id, clone(stored));
      return 'ok';
    },
    async getReply(id) {
      return clone(replies.get(id));
    },
    async updateReply(stored, expected) {
      const current = replies.get(stored.reply.id);
      if (current?.reply.status !== expected.status || current.attempts !== expected.attempts) return 'reply_changed';
      replies.set(stored.reply.id, clone(stored));
      return 'ok';
    },
    async settleReply(stored, expected, ticket, expectedSequence, outbound?: Message) {
      const current = replies.get(stored.reply.id);
      // DynamoDB reports every failed condition of the transaction and the adapter names the last item's first:
      // the outbound message, then the reply, then the ticket. Same priority here.
      if (outbound && taken(outbound.xId)) return 'message_exists';
      if (current?.reply.status !== expected.status || current.attempts !== expected.attempts) return 'reply_changed';
      if (!ticketAt(ticket.id, expectedSequence)) return 'ticket_changed';
      writeTicket(ticket);
      replies.set(stored.reply.id, clone(stored));
      if (outbound) xItems.set(outbound.xId, { kind: 'message', message: clone(outbound) });
      return 'ok';
    },
  };
}

/**
 * The channel health store in memory, with the DynamoDB adapter's rule (shared/channel/channel-health.ts: raisedChannel,
 * clearedChannel): a write that would change nothing is refused. `changes` lists every state written, in order: what
 * the table's stream would hand to notify.
 */
export function memoryChannelHealthStore(brand: string): ChannelHealthStore & { changes: ChannelHealth[] } {
  let current: ChannelHealth | undefined;
  const changes: ChannelHealth[] = [];
  const write = (next: ChannelHealth | undefined): 'changed' | 'unchanged' => {
    if (!next) return 'unchanged';
    current = next;
    changes.push(structuredClone(next));
    return 'changed';
  };
  return {
    changes,
    getChannel: async () => (current ? structuredClone(current) : undefined),
    raise: async (condition, at) => write(raisedChannel(current, condition, brand, at)),
    clear: async (clearing, detail, at) => write(clearedChannel(current, clearing, detail, at)),
  };
}
