// Use cases behind the helpdesk API: reading tickets and changing their status. Input is validated here with the
// schemas that also document the API; a status change is a ticket change like any other, so it emits its event
// through the same stream.
import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import type { AttachmentLink, AttachmentStore } from '../attachments/attachment-store';
import { NotFoundError, RetryableError, ValidationError } from '../errors';
import type { Message, Reply, Ticket } from './model';
import { ticketStatusSchema } from './model';
import { described, helpdeskMessageSchema, helpdeskReplySchema, helpdeskTicketSchema } from '../helpdesk/events';
import { lazySchema } from '../lazy-schema';
import { ticketWithStatus } from './rules';
import type { TicketPage, TicketStore } from './ticket-store';

// API errors quote zod's message for the field at fault: English, not zod/mini's bare "Invalid input" (see config.ts).
z.config(en());

export const listTicketsQuerySchema = lazySchema(() => z.object({
  status: z.optional(ticketStatusSchema).register(z.globalRegistry, { description: 'Only tickets with this status.' }),
  limit: z
    ._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(100)), 50)
    .register(z.globalRegistry, { description: 'Tickets per page, 1 to 100.' }),
  cursor: z
    .optional(z.string().check(z.minLength(1), z.maxLength(512)))
    .register(z.globalRegistry, { description: '`nextCursor` from the previous page.' }),
}));
export type ListTicketsQuery = z.infer<typeof listTicketsQuerySchema>;

export const statusChangeSchema = lazySchema(() =>
  z
  .strictObject({ status: described(ticketStatusSchema, 'The new status.') })
  .register(z.globalRegistry, {
    id: 'StatusChange',
    title: 'Status change',
    description: 'Sets a ticket\'s status; emits ticket.status_changed.',
  }));

/** Every error the API answers: `{"error": {"code", "message", ...details}}`. */
export const apiErrorSchema = lazySchema(() =>
  z
  .object({
    error: z.looseObject({
      code: z.string().register(z.globalRegistry, {
        description:
          'bad_request, unauthorized, not_found, conflict, payload_too_large, unprocessable, unavailable, internal; a reply ' +
          'X would refuse is 422 with what to change: too_long, too_many_cashtags, not_summoned, target_deleted',
      }),
      message: z.string().register(z.globalRegistry, { description: 'What went wrong, for a person.' }),
      field: z.optional(z.string()).register(z.globalRegistry, { description: 'The request field at fault, when there is one.' }),
      weightedLength: z.optional(z.number().check(z.int())).register(z.globalRegistry, {
        description: 'On 422 for a post: the text\'s length as X counts it.',
      }),
      max: z.optional(z.number().check(z.int())).register(z.globalRegistry, { description: 'On 422: the most X accepts.' }),
      cashtags: z.optional(z.number().check(z.int())).register(z.globalRegistry, {
        description: 'On 422 too_many_cashtags: how many cashtags the text has (X takes one per post).',
      }),
    }),
  })
  .register(z.globalRegistry, { id: 'Error', title: 'Error', description: 'An error answer.' }));

export const ticketPageSchema = lazySchema(() =>
  z
  .object({
    tickets: z.array(helpdeskTicketSchema),
    nextCursor: z.nullable(z.string()).register(z.globalRegistry, {
      description: 'Pass as `cursor` for the next page; null on the last page.',
    }),
  })
  .register(z.globalRegistry, { id: 'TicketPage', title: 'Ticket page', description: 'Tickets, newest first.' }));

export const ticketViewSchema = lazySchema(() =>
  z
  .object({
    ticket: helpdeskTicketSchema,
    messages: z.array(helpdeskMessageSchema).register(z.globalRegistry, { description: 'Oldest first.' }),
    replies: z.array(helpdeskReplySchema).register(z.globalRegistry, { description: 'Oldest first.' }),
  })
  .register(z.globalRegistry, {
    id: 'TicketView',
    title: 'Ticket view',
    description: 'A ticket with its messages and replies.',
  }));

export const ticketResultSchema = lazySchema(() =>
  z
  .object({ ticket: helpdeskTicketSchema })
  .register(z.globalRegistry, { id: 'TicketResult', title: 'Ticket result', description: 'The ticket after the change.' }));

export const replyAcceptedSchema = lazySchema(() => z.object({ reply: helpdeskReplySchema }).register(z.globalRegistry, {
  id: 'ReplyAccepted',
  title: 'Reply accepted',
  description: 'The recorded reply; watch for ticket.reply_posted or ticket.reply_failed.',
}));

export const attachmentLinkSchema = lazySchema(() =>
  z
  .object({
    url: z.string().register(z.globalRegistry, { description: 'A short-lived link to the file; the `Location` of this answer.' }),
    expiresAt: z.string().register(z.globalRegistry, {
      description: 'When the link stops working (at most an hour from now); ask again for a fresh one.',
      format: 'date-time',
    }),
  })
  .register(z.globalRegistry, {
    id: 'AttachmentLink',
    title: 'Attachment link',
    description: 'Where the stored file is, for clients that do not follow the redirect.',
  }));

/**
 * Builds every schema of this file in the order it declares them (see buildHelpdeskEventSchemas in shared/helpdesk/events.ts):
 * the contract lists named schemas in the order they were built.
 */
export function buildApiSchemas(): void {
  for (const schema of [
    listTicketsQuerySchema,
    statusChangeSchema,
    apiErrorSchema,
    ticketPageSchema,
    ticketViewSchema,
    ticketResultSchema,
    replyAcceptedSchema,
    attachmentLinkSchema,
  ]) {
    void schema._zod;
  }
}

/** Parses input with a schema, or throws ValidationError naming the first bad field. */
export function parseInput<T extends z.ZodMiniType>(schema: T, input: unknown, where = 'body'): z.infer<T> {
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

/**
 * A fresh short-lived link to a message's stored attachment (a DM's media the bridge copied). NotFoundError when the
 * ticket does not exist, no message of it has the attachment, the message was redacted (its copies are deleted with
 * it), or the bridge holds no copy (media X serves publicly, or one it could not keep: the message says why).
 */
export async function attachmentLink(
  store: TicketStore,
  attachments: Pick<AttachmentStore, 'link'>,
  ticketId: string,
  attachmentId: string,
): Promise<AttachmentLink> {
  const view = await store.getTicketView(ticketId);
  if (!view) throw new NotFoundError(`no ticket ${ticketId}`);
  for (const message of view.messages) {
    const attachment = message.attachments?.find((a) => a.id === attachmentId);
    if (!attachment) continue;
    if (message.redacted) break;
    if (!attachment.stored) {
      const why = attachment.error ? `: ${attachment.error.message}` : '; open its url instead';
      throw new NotFoundError(`the bridge keeps no copy of attachment ${attachmentId}${why}`);
    }
    return attachments.link(attachment.stored.key);
  }
  throw new NotFoundError(`no attachment ${attachmentId} on ticket ${ticketId}`);
}
