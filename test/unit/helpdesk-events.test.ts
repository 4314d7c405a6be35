// Contract §4: the shape of every ticket event, its webhook-id and its sequence.
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import type { Message, Reply, Ticket, TicketChange } from '../../shared/tickets/model';
import {
  contextNeededFor,
  ticketEventBodySchema,
  ticketEventSchemas,
  toTicketEvent,
  webhookIdFor,
} from '../../shared/helpdesk/events';

const AT = '2025-03-14T09:26:53.589Z';

function ticket(change: Partial<TicketChange> & Pick<TicketChange, 'type'>, overrides: Partial<Ticket> = {}): Ticket {
  return {
    id: 'mn-1357924680-2',
    brand: 'acme',
    status: 'open',
    channel: 'mention',
    customer: { xUserId: '1357924680', username: 'jane_doe', name: 'Jane Doe' },
    createdAt: '2025-03-14T09:00:00.000Z',
    updatedAt: AT,
    sequence: 4,
    followUpOf: 'mn-1357924680-1',
    lastChange: { at: AT, ...change },
    ...overrides,
  };
}

const message: Message = {
  id: 'msg-1900000000000000001',
  ticketId: 'mn-1357924680-2',
  xId: '1900000000000000001',
  direction: 'inbound',
  channel: 'mention',
  text: '@AcmeSupport my order never arrived & I\'m upset',
  author: { xUserId: '1357924680', username: 'jane_doe' },
  createdAt: '2025-03-14T09:26:50.000Z',
  inReplyToXId: '1899999999999999999',
  redacted: false,
  summonsBot: true,
};

const reply: Reply = {
  id: 'rpl_01HQ',
  ticketId: 'mn-1357924680-2',
  status: 'posted',
  text: 'Sorry to hear that! Could you DM us your order number?',
  xId: '1900000000000000002',
  inReplyToMessageId: message.id,
  createdAt: '2025-03-14T09:30:00.000Z',
  updatedAt: '2025-03-14T09:30:02.000Z',
};

describe('toTicketEvent', () => {
  it.each(['ticket.created', 'ticket.message_added', 'ticket.reopened'] as const)('%s carries the message', (type) => {
    const { webhookId, body } = toTicketEvent(ticket({ type, messageXId: message.xId }), { message });
    expect(webhookId).toBe('evt_mn-1357924680-2_4');
    expect(body).toEqual({
      type,
      timestamp: AT,
      data: {
        ticket: {
          id: 'mn-1357924680-2',
          brand: 'acme',
          status: 'open',
          channel: 'mention',
          customer: { xUserId: '1357924680', username: 'jane_doe', name: 'Jane Doe' },
          createdAt: '2025-03-14T09:00:00.000Z',
          updatedAt: AT,
          sequence: 4,
          followUpOf: 'mn-1357924680-1',
        },
        message: {
          id: 'msg-1900000000000000001',
          ticketId: 'mn-1357924680-2',
          xId: '1900000000000000001',
          direction: 'inbound',
          channel: 'mention',
          text: '@AcmeSupport my order never arrived & I\'m upset',
          author: { xUserId: '1357924680', username: 'jane_doe' },
          createdAt: '2025-03-14T09:26:50.000Z',
          inReplyToXId: '1899999999999999999',
          redacted: false,
        },
      },
    });
    expect(ticketEventBodySchema.parse(body)).toEqual(body);
    expect(ticketEventSchemas[type].safeParse(body).success).toBe(true);
  });

  it('never shows the bridge\'s bookkeeping to the helpdesk', () => {
    const { body } = toTicketEvent(ticket({ type: 'ticket.created', messageXId: message.xId }), { message });
    const text = JSON.stringify(body);
    expect(text).not.toContain('lastChange');
    expect(text).not.toContain('summonsBot');
  });

  it('ticket.message_redacted carries the message without its text', () => {
    const redacted = { ...message, text: '', redacted: true };
    const { body } = toTicketEvent(ticket({ type: 'ticket.message_redacted', messageXId: message.xId }), { message: redacted });
    expect(body.type).toBe('ticket.message_redacted');
    expect(body.data).toMatchObject({ message: { id: message.id, xId: message.xId, text: '', redacted: true } });
    expect(ticketEventBodySchema.safeParse(body).success).toBe(true);
  });

  it('a redacted message never leaks a stale text', () => {
    const stale = { ...message, redacted: true };
    const { body } = toTicketEvent(ticket({ type: 'ticket.message_redacted', messageXId: message.xId }), { message: stale });
    expect(body.data).toMatchObject({ message: { text: '', redacted: true } });
  });

  it('ticket.status_changed carries the previous status next to the ticket', () => {
    const { body } = toTicketEvent(ticket({ type: 'ticket.status_changed', previousStatus: 'open' }, { status: 'solved', solvedAt: AT }));
    expect(body).toMatchObject({ type: 'ticket.status_changed', data: { previousStatus: 'open', ticket: { status: 'solved', solvedAt: AT } } });
    expect(body.data).not.toHaveProperty('message');
    expect(ticketEventBodySchema.safeParse(body).success).toBe(true);
  });

  it('ticket.reply_posted carries the reply with its X id', () => {
    const { body } = toTicketEvent(ticket({ type: 'ticket.reply_posted', replyId: reply.id }), { reply });
    expect(body).toMatchObject({ type: 'ticket.reply_posted', data: { reply: { id: reply.id, status: 'posted', xId: reply.xId } } });
    expect(ticketEventBodySchema.safeParse(body).success).toBe(true);
  });

  it('ticket.reply_failed carries X\'s reason in words an agent can act on', () => {
    const failed: Reply = {
      ...reply,
      status: 'failed',
      xId: undefined,
      error: { code: 'duplicate_content', message: 'X refused a reply identical to a recent one. Reword it and send again.' },
    };
    const { body } = toTicketEvent(ticket({ type: 'ticket.reply_failed', replyId: reply.id }), { reply: failed });
    expect(body.data).toMatchObject({ reply: { status: 'failed', error: failed.error } });
    expect(body.data).not.toHaveProperty('reply.xId');
    expect(ticketEventSchemas['ticket.reply_failed'].safeParse(body).success).toBe(true);
  });

  it('ticket.reply_failed without a stored reason still tells the agent what to do', () => {
    const failed: Reply = { ...reply, status: 'failed', xId: undefined };
    const { body } = toTicketEvent(ticket({ type: 'ticket.reply_failed', replyId: reply.id }), { reply: failed });
    expect(body.data).toMatchObject({ reply: { error: { code: 'unknown', message: expect.stringMatching(/X refused/) } } });
  });

  it('the webhook-id is the ticket and sequence: stable across re-reads, new for every change', () => {
    const t = ticket({ type: 'ticket.message_added', messageXId: message.xId });
    const first = toTicketEvent(t, { message });
    const again = toTicketEvent(structuredClone(t), { message: structuredClone(message) });
    expect(again.webhookId).toBe(first.webhookId);
    expect(JSON.stringify(again.body)).toBe(JSON.stringify(first.body));
    const next = toTicketEvent({ ...t, sequence: 5 }, { message });
    expect(next.webhookId).toBe('evt_mn-1357924680-2_5');
    expect(next.body.data.ticket.sequence).toBe(5);
    expect(webhookIdFor('dm-42-1', 1)).toBe('evt_dm-42-1_1');
  });

  it('the timestamp is when the change happened, not when the event is built', () => {
    const { body } = toTicketEvent(ticket({ type: 'ticket.status_changed', previousStatus: 'pending', at: '2025-01-01T00:00:00.000Z' }));
    expect(body.timestamp).toBe('2025-01-01T00:00:00.000Z');
  });

  it('refuses to build an event without what its type carries', () => {
    expect(() => toTicketEvent(ticket({ type: 'ticket.created', messageXId: message.xId }))).toThrow(/needs its message/);
    expect(() => toTicketEvent(ticket({ type: 'ticket.reply_posted', replyId: reply.id }))).toThrow(/needs its reply/);
    expect(() => toTicketEvent(ticket({ type: 'ticket.status_changed' }))).toThrow(/previousStatus/);
  });
});

describe('contextNeededFor', () => {
  it('names the message or reply to read for each type', () => {
    expect(contextNeededFor({ type: 'ticket.created', at: AT, messageXId: '1' })).toEqual({ messageXId: '1' });
    expect(contextNeededFor({ type: 'ticket.message_redacted', at: AT, messageXId: '2' })).toEqual({ messageXId: '2' });
    expect(contextNeededFor({ type: 'ticket.reply_failed', at: AT, replyId: 'r' })).toEqual({ replyId: 'r' });
    expect(contextNeededFor({ type: 'ticket.status_changed', at: AT, previousStatus: 'open' })).toEqual({});
    expect(() => contextNeededFor({ type: 'ticket.reopened', at: AT })).toThrow(/messageXId/);
  });
});

describe('published JSON Schema', () => {
  it('has one documented definition per event type, open to added fields', () => {
    const schema = z.toJSONSchema(ticketEventBodySchema) as { $defs: Record<string, Record<string, unknown>> };
    const defs = schema.$defs;
    expect(Object.keys(defs)).toEqual(
      expect.arrayContaining([
        'TicketEvent',
        'TicketCreatedEvent',
        'TicketMessageAddedEvent',
        'TicketReopenedEvent',
        'TicketStatusChangedEvent',
        'TicketReplyPostedEvent',
        'TicketReplyFailedEvent',
        'TicketMessageRedactedEvent',
        'Ticket',
        'Message',
        'Reply',
      ]),
    );
    for (const [name, def] of Object.entries(defs)) {
      expect(def.description, name).toEqual(expect.any(String));
      // "More fields are welcome" (contract §4): a strict consumer must not break when one is added.
      expect(def.additionalProperties, name).not.toBe(false);
    }
    const ticketProps = defs.Ticket!.properties as Record<string, { description?: string }>;
    expect(Object.keys(ticketProps)).toEqual(
      expect.arrayContaining(['id', 'brand', 'status', 'channel', 'customer', 'createdAt', 'updatedAt', 'sequence', 'followUpOf']),
    );
    expect(ticketProps).not.toHaveProperty('lastChange');
    expect(defs.Ticket!.required).not.toContain('followUpOf');
  });
});

describe('status moved by a message', () => {
  it('ticket.reopened and ticket.message_added say which status the message moved the ticket from', () => {
    const reopened = toTicketEvent(ticket({ type: 'ticket.reopened', messageXId: message.xId, previousStatus: 'solved' }), { message });
    expect(reopened.body.data).toMatchObject({ previousStatus: 'solved', ticket: { status: 'open' } });
    expect(ticketEventBodySchema.safeParse(reopened.body).success).toBe(true);
    const added = toTicketEvent(ticket({ type: 'ticket.message_added', messageXId: message.xId }), { message });
    expect(added.body.data).not.toHaveProperty('previousStatus');
  });
});
