// Contract §4: the shape of every ticket event, its webhook-id and its sequence.
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import type { Message, Reply, Ticket, TicketChange } from '../../shared/tickets/model';
import {
  contextNeededFor,
  toHelpdeskMessage,
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
          attachments: [],
          links: [],
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

describe('complete messages (contract §4: attachments, links, quotes, edits, names)', () => {
  const photo = {
    id: 'att-3_1900000000000000101',
    type: 'photo' as const,
    url: 'https://pbs.twimg.com/media/FxPhoto.jpg',
    altText: 'A screenshot of the order page',
    width: 1280,
    height: 720,
  };
  const dmFile = {
    id: 'att-1900000000000000102',
    type: 'photo' as const,
    url: 'https://ton.twitter.com/1.1/ton/data/dm/1/2/receipt.jpg',
    contentType: 'image/jpeg',
    stored: { key: 'acme/dm-1357924680-1/att-1900000000000000102', contentType: 'image/jpeg', bytes: 48213 },
  };
  const complete: Message = {
    ...message,
    text: '@AcmeSupport see https://acme.example/orders/A-1234',
    author: { xUserId: '1357924680', username: 'jane_doe', name: 'Jane Doe' },
    attachments: [photo],
    links: [{ url: 'https://t.co/abc', expandedUrl: 'https://acme.example/orders/A-1234', displayUrl: 'acme.example/orders/A…' }],
    quoted: {
      xId: '1899999999999999000',
      text: 'Big sale today!',
      author: { xUserId: '1602999888777666555', username: 'AcmeSupport', name: 'Acme Support' },
    },
    editHistory: ['1900000000000000001', '1900000000000000005'],
  };

  it('ticket.message_edited carries the newest text, the versions oldest first, and the first version\'s ids', () => {
    const { body } = toTicketEvent(ticket({ type: 'ticket.message_edited', messageXId: complete.xId }), { message: complete });
    expect(body).toMatchObject({
      type: 'ticket.message_edited',
      data: {
        message: {
          id: 'msg-1900000000000000001',
          xId: '1900000000000000001',
          text: complete.text,
          editHistory: ['1900000000000000001', '1900000000000000005'],
          author: { xUserId: '1357924680', username: 'jane_doe', name: 'Jane Doe' },
          attachments: [{ id: photo.id, type: 'photo', url: photo.url, altText: photo.altText, width: 1280, height: 720 }],
          links: complete.links,
          quoted: complete.quoted,
        },
      },
    });
    expect(ticketEventSchemas['ticket.message_edited'].safeParse(body).success).toBe(true);
    expect(ticketEventBodySchema.parse(body)).toEqual(body);
  });

  it('a message stored before attachments and links were kept shows both as empty lists', () => {
    const { body } = toTicketEvent(ticket({ type: 'ticket.message_added', messageXId: message.xId }), { message });
    expect(body.data).toMatchObject({ message: { attachments: [], links: [] } });
    expect(body.data).not.toHaveProperty('message.quoted');
    expect(body.data).not.toHaveProperty('message.editHistory');
  });

  it('a stored DM file gets the short-lived link handed in, with its expiry, and never shows its storage key', () => {
    const withFile: Message = { ...complete, channel: 'dm', attachments: [dmFile] };
    const links = new Map([[dmFile.id, { url: 'https://files.example/presigned?sig=1', expiresAt: '2025-03-14T10:26:53.000Z' }]]);
    const { body } = toTicketEvent(ticket({ type: 'ticket.message_added', messageXId: withFile.xId }), { message: withFile, storedLinks: links });
    expect(body.data).toMatchObject({
      message: { attachments: [{ id: dmFile.id, url: 'https://files.example/presigned?sig=1', expiresAt: '2025-03-14T10:26:53.000Z', contentType: 'image/jpeg' }] },
    });
    expect(JSON.stringify(body)).not.toContain(dmFile.stored.key);
    expect(JSON.stringify(body)).not.toContain('ton.twitter.com');
    expect(ticketEventBodySchema.safeParse(body).success).toBe(true);
  });

  it('a stored DM file without a link points at the API route that hands out a fresh one', () => {
    const withFile: Message = { ...complete, channel: 'dm', attachments: [dmFile, photo] };
    const shown = toHelpdeskMessage(withFile);
    expect(shown.attachments).toEqual([
      { id: dmFile.id, type: 'photo', url: `/tickets/mn-1357924680-2/attachments/${dmFile.id}`, contentType: 'image/jpeg' },
      { id: photo.id, type: 'photo', url: photo.url, altText: photo.altText, width: 1280, height: 720 },
    ]);
    expect(shown.attachments[0]).not.toHaveProperty('expiresAt');
  });

  it('a copy the bridge could not make says why', () => {
    const failed = { ...dmFile, stored: undefined, error: { code: 'too_large', message: 'The file is over 5 MB.' } };
    const shown = toHelpdeskMessage({ ...complete, attachments: [failed] });
    expect(shown.attachments[0]).toMatchObject({ url: dmFile.url, error: failed.error });
  });

  it('a redacted message shows no text, links, attachments or quoted text, keeping ids and the versions', () => {
    const links = new Map([[dmFile.id, { url: 'https://files.example/presigned?sig=1', expiresAt: AT }]]);
    const stale: Message = { ...complete, attachments: [photo, dmFile], redacted: true };
    const { body } = toTicketEvent(ticket({ type: 'ticket.message_redacted', messageXId: stale.xId }), { message: stale, storedLinks: links });
    expect(body.data.message).toMatchObject({
      text: '',
      redacted: true,
      attachments: [],
      links: [],
      quoted: { xId: complete.quoted!.xId },
      editHistory: complete.editHistory,
    });
    const text = JSON.stringify(body);
    for (const gone of ['Big sale', 'acme.example', 'pbs.twimg.com', 'presigned', 't.co']) expect(text).not.toContain(gone);
  });

  it('the ticket\'s customer carries their X profile and the placeholder flags', () => {
    const customer = {
      xUserId: '1357924680',
      username: 'jane_doe',
      name: 'Jane Doe',
      profileImageUrl: 'https://pbs.twimg.com/profile_images/1/jane_normal.jpg',
      verifiedType: 'blue',
      followersCount: 312,
      protected: false,
    };
    const { body } = toTicketEvent(ticket({ type: 'ticket.message_added', messageXId: message.xId }, { customer }), { message });
    expect(body.data.ticket.customer).toEqual(customer);
    const placeholder = { xUserId: '1357924680', username: '', name: 'X user 1357924680', unresolved: true };
    const pending = toTicketEvent(ticket({ type: 'ticket.message_added', messageXId: message.xId }, { customer: placeholder }), { message });
    expect(pending.body.data.ticket.customer).toEqual(placeholder);
    expect(ticketEventBodySchema.safeParse(pending.body).success).toBe(true);
  });

  it('documents every field of the message, its attachments, links and quote, and the customer', () => {
    const schema = z.toJSONSchema(ticketEventBodySchema) as { $defs: Record<string, { properties?: Record<string, unknown> }> };
    const undocumented: string[] = [];
    const walk = (path: string, node: unknown) => {
      if (!node || typeof node !== 'object') return;
      const n = node as { properties?: Record<string, { description?: string; $ref?: string }>; items?: unknown; anyOf?: unknown[] };
      for (const [key, child] of Object.entries(n.properties ?? {})) {
        if (!child.description && !child.$ref) undocumented.push(`${path}.${key}`);
        walk(`${path}.${key}`, child);
      }
      if (n.items) walk(`${path}[]`, n.items);
      for (const option of n.anyOf ?? []) walk(path, option);
    };
    for (const name of ['Message', 'Attachment', 'Link', 'QuotedPost', 'Ticket']) walk(name, schema.$defs[name]);
    expect(undocumented).toEqual([]);
    const messageProps = schema.$defs.Message!.properties!;
    expect(Object.keys(messageProps)).toEqual(expect.arrayContaining(['attachments', 'links', 'quoted', 'editHistory']));
  });
});
