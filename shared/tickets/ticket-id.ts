// Ticket ids name the customer, the channel and the customer's n-th ticket on that channel: `mn-1357924680-3`.
// That makes "the customer's latest ticket" a strongly consistent query on one partition, and makes opening the
// next ticket a conditional write on a key two racing workers would both compute, so only one of them wins.
import type { Channel } from './model';

export type TicketKey = { customerXUserId: string; channel: Channel; generation: number };

const PREFIX: Record<Channel, string> = { mention: 'mn', dm: 'dm' };

/** The public ticket id for a key. */
export function formatTicketId(key: TicketKey): string {
  return `${PREFIX[key.channel]}-${key.customerXUserId}-${key.generation}`;
}

/** The key behind a ticket id, or undefined when the string is not a ticket id. */
export function parseTicketId(ticketId: string): TicketKey | undefined {
  const match = /^(mn|dm)-(\d{1,20})-([1-9]\d{0,8})$/.exec(ticketId);
  if (!match) return undefined;
  return {
    channel: match[1] === 'mn' ? 'mention' : 'dm',
    customerXUserId: match[2]!,
    generation: Number(match[3]),
  };
}
