// What a user of the bridge sees, checked against the rules of the contract: one message per X id, one event per
// ticket change (one webhook-id per sequence number, the same body on every attempt).
import type { ReceivedEvent } from '../../support/helpdesk-receiver';

export type TableItem = Record<string, unknown>;

/** Tickets and messages from a table scan. */
export function tableView(items: TableItem[]) {
  const tickets = items.filter((i) => i.type === 'ticket') as { id: string; sequence: number; status: string; customer: { xUserId: string } }[];
  const messages = items.filter((i) => i.type === 'message') as { xId: string; ticketId: string; direction: string; redacted: boolean; text: string }[];
  return { tickets, messages };
}

/**
 * Problems with the events a helpdesk received for these tickets: every change delivered (webhook-ids evt_<id>_1 to
 * evt_<id>_<sequence>, each with a 2xx), nothing else, and every attempt of one webhook-id with the same body.
 * `maxDeliveriesPerId` bounds how often one id may be delivered with a 2xx (1 unless a crash may repeat it).
 */
export function eventProblems(
  tickets: { id: string; sequence: number }[],
  events: ReceivedEvent[],
  options: { maxDeliveriesPerId?: number } = {},
): string[] {
  const problems: string[] = [];
  const ids = new Set(tickets.map((t) => t.id));
  const mine = events.filter((e) => ids.has(e.json.data.ticket?.id ?? ''));
  for (const ticket of tickets) {
    for (let sequence = 1; sequence <= ticket.sequence; sequence++) {
      const id = `evt_${ticket.id}_${sequence}`;
      const attempts = mine.filter((e) => e.webhookId === id);
      const delivered = attempts.filter((e) => e.status >= 200 && e.status < 300);
      if (delivered.length === 0) problems.push(`${id} never delivered (${attempts.length} attempts)`);
      if (delivered.length > (options.maxDeliveriesPerId ?? 1)) problems.push(`${id} delivered ${delivered.length} times`);
      const bodies = [...new Set(attempts.map((e) => e.body))];
      if (bodies.length > 1) problems.push(`${id} was sent with different bodies: ${bodies.join(' | ')}`);
      if (attempts.some((e) => e.json.data.ticket?.sequence !== sequence)) problems.push(`${id} carries another sequence`);
    }
  }
  for (const event of mine) {
    const ticket = tickets.find((t) => t.id === event.json.data.ticket?.id)!;
    if ((event.json.data.ticket?.sequence ?? 0) > ticket.sequence) problems.push(`${event.webhookId} is beyond the ticket's sequence ${ticket.sequence}`);
  }
  return problems;
}
