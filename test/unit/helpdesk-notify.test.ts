// The notify use case with fake ports: what reaches the helpdesk, what waits on the retry queue, and which stream
// records Lambda is told to replay.
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { ticketChanges } from '../../functions/notify/handler';
import { ticketToItem, messageToItem } from '../../shared/aws/items';
import type { OutgoingMessage } from '../../shared/aws/sqs-queue';
import type { DeliveryResult } from '../../shared/helpdesk/delivery';
import type { TicketEvent } from '../../shared/helpdesk/events';
import {
  notifyTicketChanges,
  retryMessagesForChanges,
  retryTicketEvents,
  type NotifyDeps,
  type RetryMessage,
  type RetryReceive,
  type StreamTicketChange,
} from '../../shared/helpdesk/notify';
import type { Message, Ticket, TicketChange } from '../../shared/tickets/model';

const T0 = Date.parse('2025-03-14T09:00:00.000Z');

function ticket(id: string, sequence: number, change: Partial<TicketChange> = {}): Ticket {
  const customer = id.split('-')[1]!;
  return {
    id,
    brand: 'acme',
    status: 'open',
    channel: id.startsWith('dm') ? 'dm' : 'mention',
    customer: { xUserId: customer, username: `user${customer}`, name: 'A Customer' },
    createdAt: new Date(T0).toISOString(),
    updatedAt: new Date(T0 + sequence * 1000).toISOString(),
    sequence,
    lastChange: { type: 'ticket.message_added', at: new Date(T0 + sequence * 1000).toISOString(), messageXId: `${sequence}00`, ...change },
  };
}

function message(xId: string, ticketId: string): Message {
  return {
    id: `msg-${xId}`,
    ticketId,
    xId,
    direction: 'inbound',
    channel: 'mention',
    text: `secret customer words ${xId}`,
    author: { xUserId: '1', username: 'someone' },
    createdAt: new Date(T0).toISOString(),
    redacted: false,
  };
}

/**
 * Fake ports: a helpdesk that answers from a script, a recording queue, a reader over a map (`gone`: X ids with no
 * message any more), a settable clock. Every attempt is kept as the bytes the helpdesk would have received.
 */
function fakes(script: (event: TicketEvent) => DeliveryResult | Promise<DeliveryResult> = () => ({ ok: true, status: 204 })) {
  const delivered: TicketEvent[] = [];
  const attempts: TicketEvent[] = [];
  const sentBytes: string[] = [];
  const sent: Omit<OutgoingMessage, 'id'>[] = [];
  const delays: { receiptHandle: string; seconds: number }[] = [];
  const messages = new Map<string, Message>();
  const gone = new Set<string>();
  let clock = T0;
  let sendFails = false;
  const deps: NotifyDeps = {
    reader: {
      getMessage: async (xId) => messages.get(xId) ?? message(xId, 'any'),
      getReply: async () => undefined,
      currentMessage: async (xId) => (gone.has(xId) ? undefined : (messages.get(xId) ?? message(xId, 'any'))),
    },
    retryQueue: {
      async send(m) {
        if (sendFails) throw new Error('SQS is down');
        sent.push(m);
      },
      async delay(receiptHandle, seconds) {
        delays.push({ receiptHandle, seconds });
      },
    },
    async deliver(helpdeskEvent) {
      // These tests hand notify ticket changes only (channel changes have their own tests below).
      const event = helpdeskEvent as TicketEvent;
      attempts.push(event);
      sentBytes.push(JSON.stringify(event.body));
      const result = await script(event);
      if (result.ok) delivered.push(event);
      return result;
    },
    now: () => new Date(clock),
    retryDelaySeconds: (n) => n * 10 - 3,
    maxRetries: 3,
  };
  return {
    deps,
    delivered,
    attempts,
    sentBytes,
    sent,
    delays,
    messages,
    gone,
    advance: (ms: number) => (clock += ms),
    failSends: () => (sendFails = true),
  };
}

const change = (t: Ticket, recordId = `${t.id}:${t.sequence}`): StreamTicketChange => ({ recordId, ticket: t });

describe('notifyTicketChanges (the table stream)', () => {
  it('delivers each change as its event, with the message it names', async () => {
    const f = fakes();
    f.messages.set('100', message('100', 'mn-1-1'));
    const result = await notifyTicketChanges([change(ticket('mn-1-1', 1, { type: 'ticket.created', messageXId: '100' }))], f.deps);
    expect(result.failedRecordIds).toEqual([]);
    expect(f.delivered.map((e) => e.webhookId)).toEqual(['evt_mn-1-1_1']);
    expect(f.delivered[0]!.body).toMatchObject({ type: 'ticket.created', data: { message: { xId: '100', ticketId: 'mn-1-1' } } });
    expect(f.sent).toEqual([]);
  });

  it('queues a failed event, frozen, for its first retry within 10 s', async () => {
    const f = fakes(() => ({ ok: false, status: 503, reason: 'HTTP 503' }));
    const result = await notifyTicketChanges([change(ticket('mn-1-1', 3))], { ...f.deps, retryDelaySeconds: undefined });
    expect(result.failedRecordIds).toEqual([]);
    expect(f.sent).toHaveLength(1);
    expect(f.sent[0]!.delaySeconds).toBeGreaterThan(0);
    expect(f.sent[0]!.delaySeconds).toBeLessThanOrEqual(10);
    const queued = JSON.parse(f.sent[0]!.body) as RetryMessage;
    expect(queued).toEqual({
      webhookId: 'evt_mn-1-1_3',
      body: { ...f.attempts[0]!.body, data: { ...f.attempts[0]!.body.data, message: { ...message('300', 'any'), id: 'msg-300', text: '', attachments: [], links: [] } } },
      attempt: 1,
      firstAttemptAt: new Date(T0).toISOString(),
      textOf: '300',
    });
  });

  it('queues the event without its message text, keeping the body\'s shape and key order', async () => {
    const f = fakes(() => ({ ok: false, status: 503, reason: 'HTTP 503' }));
    f.messages.set('100', message('100', 'mn-1-1'));
    await notifyTicketChanges([change(ticket('mn-1-1', 1, { type: 'ticket.created', messageXId: '100' }))], f.deps);
    expect(f.sentBytes[0]).toContain('secret customer words 100');
    expect(f.sent[0]!.body).not.toContain('secret customer words');
    const queued = JSON.parse(f.sent[0]!.body) as RetryMessage;
    expect(queued.textOf).toBe('100');
    // Only the text's value differs from what the helpdesk was sent: same keys, same order.
    expect(JSON.stringify(queued.body)).toBe(f.sentBytes[0]!.replace('"secret customer words 100"', '""'));
  });

  it('queues no link or quoted words either, and puts them back from the table at the retry', async () => {
    const f = fakes(() => ({ ok: false, status: 503, reason: 'HTTP 503' }));
    const linked: Message = {
      ...message('100', 'mn-1-1'),
      links: [{ url: 'https://t.co/abc', expandedUrl: 'https://shop.example/orders/secret-A-1234', displayUrl: 'shop.example/orders/…' }],
      quoted: { xId: '90', text: 'secret quoted words', author: { xUserId: '2', username: 'quoted_author' } },
    };
    f.messages.set('100', linked);
    await notifyTicketChanges([change(ticket('mn-1-1', 1, { type: 'ticket.created', messageXId: '100' }))], f.deps);
    expect(f.sentBytes[0]).toContain('secret-A-1234');
    expect(f.sentBytes[0]).toContain('secret quoted words');
    const queued = f.sent[0]!.body;
    expect(queued).not.toContain('secret-A-1234');
    expect(queued).not.toContain('secret quoted words');
    expect(queued).not.toContain('quoted_author');
    const retried = fakes();
    retried.messages.set('100', linked);
    await retryTicketEvents([{ messageId: 'm-1', receiptHandle: 'r-1', body: queued, receiveCount: 1 }], retried.deps);
    expect(retried.sentBytes[0]).toBe(f.sentBytes[0]);
  });

  it('delivers one ticket\'s events in sequence order, and different tickets concurrently', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const f = fakes(async () => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 20));
      inFlight--;
      return { ok: true, status: 204 };
    });
    await notifyTicketChanges(
      [ticket('mn-1-1', 2), ticket('mn-2-1', 1), ticket('mn-1-1', 1), ticket('mn-2-1', 2), ticket('mn-1-1', 3)].map((t) => change(t)),
      f.deps,
    );
    const order = (id: string) => f.delivered.filter((e) => e.body.data.ticket.id === id).map((e) => e.body.data.ticket.sequence);
    expect(order('mn-1-1')).toEqual([1, 2, 3]);
    expect(order('mn-2-1')).toEqual([1, 2]);
    expect(maxInFlight).toBe(2);
  });

  it('after one failure, the ticket\'s later events queue behind it without waiting out another timeout', async () => {
    const f = fakes((e) => (e.webhookId === 'evt_mn-1-1_1' ? { ok: false, reason: 'timeout after 10000 ms' } : { ok: true, status: 204 }));
    await notifyTicketChanges([change(ticket('mn-1-1', 1)), change(ticket('mn-1-1', 2)), change(ticket('mn-2-1', 1))], f.deps);
    expect(f.attempts.map((e) => e.webhookId).sort()).toEqual(['evt_mn-1-1_1', 'evt_mn-2-1_1']);
    expect(f.sent.map((m) => (JSON.parse(m.body) as RetryMessage).webhookId)).toEqual(['evt_mn-1-1_1', 'evt_mn-1-1_2']);
    expect(f.sent.map((m) => (JSON.parse(m.body) as RetryMessage).attempt)).toEqual([1, 0]);
  });

  it('a record whose event cannot be built is replayed, and nothing after it is sent twice', async () => {
    const f = fakes();
    f.deps.reader.getMessage = async (xId) => (xId === 'missing' ? undefined : message(xId, 'x'));
    const records = [
      change(ticket('mn-1-1', 1), 'r1'),
      change(ticket('mn-2-1', 1, { messageXId: 'missing' }), 'r2'),
      change(ticket('mn-3-1', 1), 'r3'),
    ];
    const result = await notifyTicketChanges(records, f.deps);
    expect(result.failedRecordIds).toEqual(['r2']);
    expect(f.delivered.map((e) => e.webhookId)).toEqual(['evt_mn-1-1_1']);
  });

  it('an unreadable ticket item is replayed too', async () => {
    const f = fakes();
    const result = await notifyTicketChanges([{ recordId: 'r1', unreadable: 'sequence: expected number' }], f.deps);
    expect(result.failedRecordIds).toEqual(['r1']);
  });

  it('when the retry queue refuses, the record is replayed rather than the event lost', async () => {
    const f = fakes(() => ({ ok: false, status: 500, reason: 'HTTP 500' }));
    f.failSends();
    const result = await notifyTicketChanges([change(ticket('mn-1-1', 1), 'r1'), change(ticket('mn-1-1', 2), 'r2')], f.deps);
    expect(result.failedRecordIds).toEqual(['r1']);
    expect(f.attempts).toHaveLength(1);
  });

  it('a write that did not move the sequence sends nothing', async () => {
    const f = fakes();
    await notifyTicketChanges([{ recordId: 'r1', ticket: ticket('mn-1-1', 4), previousSequence: 4 }], f.deps);
    expect(f.attempts).toEqual([]);
  });

  it('a slow helpdesk cannot run the batch into the function timeout: late events go to the queue untried', async () => {
    const f = fakes(() => {
      f.advance(9_000);
      return { ok: true, status: 204 };
    });
    await notifyTicketChanges([1, 2, 3, 4].map((n) => change(ticket('mn-1-1', n))), { ...f.deps, streamBudgetMs: 15_000 });
    expect(f.delivered.map((e) => e.body.data.ticket.sequence)).toEqual([1, 2]);
    expect(f.sent.map((m) => (JSON.parse(m.body) as RetryMessage).webhookId)).toEqual(['evt_mn-1-1_3', 'evt_mn-1-1_4']);
  });
});

describe('retryTicketEvents (the notify-retry queue)', () => {
  // Key order different from a fresh build, to prove the queued bytes are what is sent.
  const queuedBody = '{"type":"ticket.status_changed","timestamp":"2025-03-14T09:00:01.000Z","data":{"previousStatus":"open","ticket":{"sequence":7,"id":"mn-1-1","brand":"acme","status":"solved","channel":"mention","customer":{"xUserId":"1","username":"u","name":"U"},"createdAt":"2025-03-14T09:00:00.000Z","updatedAt":"2025-03-14T09:00:01.000Z","extra":true}}}';
  const receive = (receiveCount: number, messageId = 'm1') => ({
    messageId,
    receiptHandle: `rh-${messageId}-${receiveCount}`,
    receiveCount,
    body: `{"webhookId":"evt_mn-1-1_7","body":${queuedBody},"attempt":1,"firstAttemptAt":"2025-03-14T09:00:02.000Z"}`,
  });

  it('delivers the frozen body with its original webhook-id', async () => {
    const f = fakes();
    const result = await retryTicketEvents([receive(1)], f.deps);
    expect(result.failedMessageIds).toEqual([]);
    expect(f.delivered[0]!.webhookId).toBe('evt_mn-1-1_7');
    expect(JSON.stringify(f.delivered[0]!.body)).toBe(queuedBody);
    expect(f.delays).toEqual([]);
  });

  it('on failure, hides the message until the next retry is due and leaves it on the queue', async () => {
    const f = fakes(() => ({ ok: false, status: 503, reason: 'HTTP 503' }));
    const result = await retryTicketEvents([receive(1), receive(2, 'm2')], f.deps);
    expect(result.failedMessageIds).toEqual(['m1', 'm2']);
    // Receive n is retry n; the next one is retry n + 1.
    expect(f.delays).toEqual([
      { receiptHandle: 'rh-m1-1', seconds: 17 },
      { receiptHandle: 'rh-m2-2', seconds: 27 },
    ]);
  });

  it('after the last retry, lets the message go at once so SQS parks it in the dead-letter queue', async () => {
    const f = fakes(() => ({ ok: false, reason: 'network error: ECONNREFUSED' }));
    const result = await retryTicketEvents([receive(3)], f.deps);
    expect(result.failedMessageIds).toEqual(['m1']);
    expect(f.delays).toEqual([{ receiptHandle: 'rh-m1-3', seconds: 0 }]);
  });

  /** The retry message the stream path queued for one failed ticket.created of message 100, and its first bytes. */
  async function queuedCreated() {
    const first = fakes(() => ({ ok: false, status: 503, reason: 'HTTP 503' }));
    first.messages.set('100', { ...message('100', 'mn-1-1'), inReplyToXId: '99' });
    await notifyTicketChanges([change(ticket('mn-1-1', 1, { type: 'ticket.created', messageXId: '100' }))], first.deps);
    const retry = (receiveCount: number, messageId = 'm1'): RetryReceive => ({
      messageId,
      receiptHandle: `rh-${messageId}-${receiveCount}`,
      receiveCount,
      body: first.sent[0]!.body,
    });
    return { firstBytes: first.sentBytes[0]!, stored: first.messages.get('100')!, retry };
  }

  it('an unchanged message: the retry puts its text back and sends the first attempt\'s bytes', async () => {
    const { firstBytes, stored, retry } = await queuedCreated();
    const f = fakes();
    f.messages.set('100', stored);
    const result = await retryTicketEvents([retry(1)], f.deps);
    expect(result.failedMessageIds).toEqual([]);
    expect(f.delivered[0]!.webhookId).toBe('evt_mn-1-1_1');
    expect(f.sentBytes).toEqual([firstBytes]);
  });

  it('a message deleted on X since it was queued: the retry goes out with empty text and redacted true', async () => {
    const { firstBytes, stored, retry } = await queuedCreated();
    const f = fakes();
    f.messages.set('100', { ...stored, text: '', redacted: true });
    await retryTicketEvents([retry(2)], f.deps);
    expect(f.delivered[0]!.webhookId).toBe('evt_mn-1-1_1');
    expect(f.delivered[0]!.body.data).toMatchObject({ message: { xId: '100', text: '', redacted: true } });
    expect(f.sentBytes[0]).not.toContain('secret customer words');
    // Everything else is as first sent, in the same order.
    const expected = firstBytes.replace('"secret customer words 100"', '""').replace('"redacted":false', '"redacted":true');
    expect(f.sentBytes[0]).toBe(expected);
  });

  it('a message that is no longer there counts as redacted', async () => {
    const { retry } = await queuedCreated();
    const f = fakes();
    f.gone.add('100');
    await retryTicketEvents([retry(1)], f.deps);
    expect(f.delivered[0]!.body.data).toMatchObject({ message: { xId: '100', text: '', redacted: true } });
  });

  it('a message whose redaction cannot be checked is not sent: the attempt fails and waits for the next retry', async () => {
    const { retry } = await queuedCreated();
    const f = fakes();
    f.deps.reader.currentMessage = async () => {
      throw new Error('ProvisionedThroughputExceededException');
    };
    const result = await retryTicketEvents([retry(1)], f.deps);
    expect(result.failedMessageIds).toEqual(['m1']);
    expect(f.attempts).toEqual([]);
    expect(f.delays).toEqual([{ receiptHandle: 'rh-m1-1', seconds: 17 }]);
  });

  it('a message queued with its text (before text was taken out) is replaced by a copy without it, due at once', async () => {
    const { stored } = await queuedCreated();
    const f = fakes();
    f.messages.set('100', { ...stored, text: '', redacted: true });
    const withText = {
      webhookId: 'evt_mn-1-1_4',
      body: { type: 'ticket.message_added', timestamp: 'x', data: { ticket: { id: 'mn-1-1', sequence: 4 }, message: { xId: '100', text: 'secret customer words 100', redacted: false } } },
      attempt: 1,
      firstAttemptAt: '2025-03-14T09:00:02.000Z',
    };
    const old: RetryReceive = { messageId: 'm1', receiptHandle: 'rh-m1-3', receiveCount: 3, body: JSON.stringify(withText) };
    const result = await retryTicketEvents([old], f.deps);
    // The old message is done (SQS deletes it); the copy carries the event on, with the attempts already made.
    expect(result.failedMessageIds).toEqual([]);
    expect(f.attempts).toEqual([]);
    expect(f.sent).toHaveLength(1);
    expect(f.sent[0]!.delaySeconds).toBe(0);
    expect(f.sent[0]!.body).not.toContain('secret customer words');
    expect(JSON.parse(f.sent[0]!.body)).toEqual({
      ...withText,
      body: { ...withText.body, data: { ...withText.body.data, message: { xId: '100', text: '', redacted: false } } },
      attempt: 3,
      textOf: '100',
    });

    // The copy's first receive is the attempt the old one would have made: text and redaction as they are now.
    await retryTicketEvents([{ messageId: 'm2', receiptHandle: 'rh-m2-1', receiveCount: 1, body: f.sent[0]!.body }], f.deps);
    expect(f.delivered[0]!.body.data).toMatchObject({ message: { text: '', redacted: true } });
  });

  it('when the copy cannot be queued, a message queued with its text is tried as it is, its text read from the table', async () => {
    const f = fakes();
    f.failSends();
    f.messages.set('100', { ...message('100', 'mn-1-1'), text: '', redacted: true });
    const withText = {
      webhookId: 'evt_mn-1-1_4',
      body: { type: 'ticket.message_added', timestamp: 'x', data: { ticket: { id: 'mn-1-1', sequence: 4 }, message: { xId: '100', text: 'secret customer words 100', redacted: false } } },
      attempt: 1,
      firstAttemptAt: '2025-03-14T09:00:02.000Z',
    };
    const result = await retryTicketEvents([{ messageId: 'm1', receiptHandle: 'rh', receiveCount: 1, body: JSON.stringify(withText) }], f.deps);
    expect(result.failedMessageIds).toEqual([]);
    expect(f.sentBytes).toEqual([JSON.stringify({ ...withText.body, data: { ...withText.body.data, message: { xId: '100', text: '', redacted: true } } })]);
  });

  it('a message that is not a queued event is left for the dead-letter queue, not sent', async () => {
    const f = fakes();
    const result = await retryTicketEvents(
      [{ ...receive(1), body: 'not json' }, { ...receive(1, 'm2'), body: '{"webhookId":"x"}' }],
      f.deps,
    );
    expect(result.failedMessageIds).toEqual(['m1', 'm2']);
    expect(f.attempts).toEqual([]);
  });
});

describe('retryMessagesForChanges (rebuilding a stream batch Lambda gave up on)', () => {
  it('builds each change\'s event as the stream path does, queued untried and without text, one per webhook-id', async () => {
    const f = fakes();
    const opening = message('100', 'mn-1-1');
    const created = { ...change(ticket('mn-1-1', 1, { type: 'ticket.created', messageXId: '100' }), 'r1'), opening };
    const { messages, failed } = await retryMessagesForChanges(
      [created, change(ticket('mn-1-1', 2), 'r2'), change(ticket('mn-1-1', 2), 'r3'), { recordId: 'r4', ticket: ticket('mn-2-1', 5), previousSequence: 5 }],
      { reader: f.deps.reader, firstAttemptAt: '2025-03-14T09:00:00Z' },
    );
    expect(failed).toEqual([]);
    expect(messages.map((m) => [m.webhookId, m.attempt, m.textOf])).toEqual([
      ['evt_mn-1-1_1', 0, '100'],
      ['evt_mn-1-1_2', 0, '200'],
    ]);
    expect(JSON.stringify(messages)).not.toContain('secret customer words');
    // The very event notify would have built, but for the text.
    const built = fakes();
    await notifyTicketChanges([created], built.deps);
    expect(JSON.stringify(messages[0]!.body)).toBe(built.sentBytes[0]!.replace('"secret customer words 100"', '""'));
  });

  it('names the records that cannot become events, and why', async () => {
    const f = fakes();
    f.deps.reader.getMessage = async () => undefined;
    const { messages, failed } = await retryMessagesForChanges(
      [change(ticket('mn-1-1', 2), 'r1'), { recordId: 'r2', unreadable: 'sequence: expected number' }, change(ticket('mn-1-1', 3, { type: 'ticket.status_changed', messageXId: undefined, previousStatus: 'open' }), 'r3')],
      { reader: f.deps.reader, firstAttemptAt: 'x' },
    );
    expect(failed).toEqual([
      { recordId: 'r1', reason: 'message 200 not found' },
      { recordId: 'r2', reason: expect.stringContaining('sequence: expected number') },
    ]);
    expect(messages.map((m) => m.webhookId)).toEqual(['evt_mn-1-1_3']);
  });
});

describe('ticketChanges (stream records → ticket changes)', () => {
  const record = (eventName: DynamoDBRecord['eventName'], newItem?: object, oldItem?: object, seq = '100'): DynamoDBRecord => ({
    eventSource: 'aws:dynamodb',
    eventName,
    dynamodb: {
      SequenceNumber: seq,
      ...(newItem ? { NewImage: marshall(newItem, { removeUndefinedValues: true }) as never } : {}),
      ...(oldItem ? { OldImage: marshall(oldItem, { removeUndefinedValues: true }) as never } : {}),
    },
  });

  it('keeps ticket inserts and modifies, skips deletes and other items, flags unreadable tickets', () => {
    const t1 = ticket('mn-1-1', 1);
    const t2 = ticket('mn-1-1', 2);
    const changes = ticketChanges([
      record('INSERT', ticketToItem(t1), undefined, '1'),
      record('INSERT', messageToItem(message('200', 'mn-1-1')), undefined, '2'),
      record('MODIFY', ticketToItem(t2), ticketToItem(t1), '3'),
      record('REMOVE', undefined, ticketToItem(t2), '4'),
      record('MODIFY', { ...ticketToItem(t2), sequence: 'two' }, undefined, '5'),
    ]);
    expect(changes).toEqual([
      { recordId: '1', ticket: t1 },
      { recordId: '3', ticket: t2, previousSequence: 1 },
      { recordId: '5', unreadable: expect.stringContaining('sequence') },
    ]);
  });
});
