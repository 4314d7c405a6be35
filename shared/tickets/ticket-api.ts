// Use cases behind the helpdesk API: reading tickets and changing their status. Input is validated here with the
// schemas that also document the API; a status change is a ticket change like any other, so it emits its event
// through the same stream.
import * as z from 'zod';
import { NotFoundError, RetryableError, ValidationError } from '../errors';
import type { Message, Reply, Ticket } from './model';
import { ticketStatusSchema } from './model';
import { helpdeskMessageSchema, helpdeskReplySchema, helpdeskTicketSchema } from '../helpdesk/events';
import { ticketWithStatus } from './rules';
import type { TicketPage, TicketStore } from './ticket-store';

export const listTicketsQuerySchema = z.object({
  status: ticketStatusSchema.optional().describe('Only tickets with this status.'),
  limit: z.coerce.number().int().min(1).max(100).default(50).describe('Tickets per page, 1 to 100.'),
  cursor: z.string().min(1).max(512).optional().describe('`nextCursor` from the previous page.'),
});
export type ListTicketsQuery = z.infer<typeof listTicketsQuerySchema>;

export const statusChangeSchema = z
  .strictObject({ status: ticketStatusSchema.describe('The new status.') })
  .meta({ id: 'StatusChange', title: 'Status change', description: 'Sets a ticket\'s status; emits ticket.status_changed.' });

/** Every error the API answers: `{"error": {"code", "message", ...details}}`. */
export const apiErrorSchema = z
  .object({
    error: z.looseObject({
      code: z.string().describe('bad_request, unauthorized, not_found, conflict, payload_too_large, unprocessable, unavailable, internal'),
      message: z.string().describe('What went wrong, for a person.'),
      field: z.string().optional().describe('The request field at fault, when there is one.'),
      weightedLength: z.number().int().optional().describe('On 422 for a post: the text\'s length as X counts it.'),
      max: z.number().int().optional().describe('On 422: the most X accepts.'),
    }),
  })
  .meta({ id: 'Error', title: 'Error', description: 'An error answer.' });

export const ticketPageSchema = z
  .object({
    tickets: z.array(helpdeskTicketSchema),
    nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last page.'),
  })
  .meta({ id: 'TicketPage', title: 'Ticket page', description: 'Tickets, newest first.' });

export const ticketViewSchema = z
  .object({
    ticket: helpdeskTicketSchema,
    messages: z.array(helpdeskMessageSchema).describe('Oldest first.'),
    replies: z.array(helpdeskReplySchema).describe('Oldest first.'),
  })
  .meta({ id: 'TicketView', title: 'Ticket view', description: 'A ticket with its messages and replies.' });

export const ticketResultSchema = z
  .object({ ticket: helpdeskTicketSchema })
  .meta({ id: 'TicketResult', title: 'Ticket result', description: 'The ticket after the change.' });

export const replyAcceptedSchema = z
  .object({ reply: helpdeskReplySchema })
  .meta({ id: 'ReplyAccepted', title: 'Reply accepted', description: 'The recorded reply; watch for ticket.reply_posted or ticket.reply_failed.' });

/** Parses input with a schema, or throws ValidationError naming the first bad field. */
export function parseInput<T extends z.ZodType>(schema: T, input: unknown, where = 'body'): z.infer<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue?.path.length ? issue.path.join('.') : where;
  throw new ValidationError(`${field}: ${issue?.message ?? 'is invalid'}`, field);
}

/** A page of tickets, newest first. */
export function listTickets(store: TicketStore, query: ListTicketsQuery): Promise<TicketPage> {
  return store.listTickets(query);
}

/** A ticket with its messages and replies; NotFoundError when there is none. */
export async function getTicketView(
  store: TicketStore,
  ticketId: string,
): Promise<{ ticket: Ticket; messages: Message[]; replies: Reply[] }> {
  const view = await store.getTicketView(ticketId);
  if (!view) throw new NotFoundError(`no ticket ${ticketId}`);
  return view;
}

/**
 * Sets a ticket's status. Setting the status it already has changes nothing and emits nothing; a concurrent change
 * is re-read and the status applied on top of it.
 */
export async function changeStatus(
  store: TicketStore,
  ticketId: string,
  status: Ticket['status'],
  now: () => Date,
): Promise<Ticket> {
  for (let round = 0; round < 6; round++) {
    const ticket = await store.getTicket(ticketId);
    if (!ticket) throw new NotFoundError(`no ticket ${ticketId}`);
    const next = ticketWithStatus(ticket, status, now().toISOString());
    if (!next) return ticket;
    if ((await store.updateTicket(next, ticket.sequence)) === 'ok') return next;
  }
  throw new RetryableError(`ticket ${ticketId} kept changing; try again`);
}
