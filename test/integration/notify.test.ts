// Contract §4 end to end: a ticket change written to the table reaches the helpdesk signed, through the real notify
// function on DynamoDB Local's stream and the SQS emulator; failures retry with the same webhook-id and body, park in
// the dead-letter queue, and a redrive delivers them with their original webhook-id. Queued events hold no message
// text: a message deleted on X while its event waits goes out with empty text and `redacted: true`.
import { randomBytes } from 'node:crypto';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
  type Message as SqsMessage,
} from '@aws-sdk/client-sqs';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createNotifyHandler } from '../../functions/notify/handler';
import { loadFunctionHandlers } from '../../infra/local/bridge';
import { LOCAL_AWS } from '../../infra/local/services';
import { memoryOutput } from '../../infra/ops/cli-support';
import { runDlqProgram } from '../../infra/ops/dlq-program';
import { keys, messageToItem, openingTicketToItem, ticketToItem, type Item } from '../../shared/aws/items';
import { ticketEventBodySchema } from '../../shared/helpdesk/events';
import type { Message, Ticket, TicketChange } from '../../shared/tickets/model';
import { createHelpdeskReceiver } from '../support/helpdesk-receiver';
import { startTestBridge, type TestBridge } from '../support/test-bridge';
import { nextXId, xaaDelete, xaaMention } from '../support/x-payloads';

// A tiny retry budget: the real one (backoff.ts) would take a day to reach the dead-letter queue.
const RETRIES = 3;
const secret = `whsec_${randomBytes(32).toString('base64')}`;
const receiver = createHelpdeskReceiver(secret);
let bridge: TestBridge;
let dynamodb: DynamoDBClient;
let sqs: SQSClient;

beforeAll(async () => {
  const { url } = await receiver.start();
  bridge = await startTestBridge({
    env: { HELPDESK_WEBHOOK_URL: url, HELPDESK_WEBHOOK_SECRET: secret },
    handlers: {
      notify: (config, clients) => createNotifyHandler(config, clients, { retryDelaySeconds: () => 0, maxRetries: RETRIES }),
    },
    queueSpecs: { notifyRetry: { maxReceiveCount: RETRIES } },
    // Only notify is wired here; the other functions' absence is expected.
    log: (message, error) => {
      if (!/is not wired locally/.test(message)) console.error(message, error ?? '');
    },
  });
  dynamodb = new DynamoDBClient({ endpoint: bridge.endpoints.dynamodb, ...LOCAL_AWS });
  sqs = new SQSClient({ endpoint: bridge.endpoints.sqs, ...LOCAL_AWS });
});

afterAll(async () => {
  await bridge?.stop();
  dynamodb?.destroy();
  sqs?.destroy();
  await receiver.stop();
});

beforeEach(() => receiver.reset());

let customer = 5_000_000_000;
/** A fresh customer's ticket at sequence 1 and its first message, so tests never share a webhook-id. */
function freshTicket(): { ticket: Ticket; message: Message } {
  const xUserId = String(customer++);
  const id = `mn-${xUserId}-1`;
  const at = new Date().toISOString();
  const xId = `19${xUserId}00`;
  const message: Message = {
    id: `msg-${xId}`,
    ticketId: id,
    xId,
    direction: 'inbound',
    channel: 'mention',
    text: '@AcmeSupport the app logs me out every few minutes',
    author: { xUserId, username: `user${xUserId}` },
    createdAt: at,
    redacted: false,
  };
  const ticket: Ticket = {
    id,
    brand: bridge.config.brand,
    status: 'open',
    channel: 'mention',
    customer: { xUserId, username: `user${xUserId}`, name: 'Integration Customer' },
    createdAt: at,
    updatedAt: at,
    sequence: 1,
    lastChange: { type: 'ticket.created', at, messageXId: xId },
  };
  return { ticket, message };
}

/** The next change of a ticket, as the writers make it: one write, sequence + 1, the change named. */
function changed(ticket: Ticket, change: Omit<TicketChange, 'at'>, fields: Partial<Ticket> = {}): Ticket {
  const at = new Date().toISOString();
  return { ...ticket, ...fields, updatedAt: at, sequence: ticket.sequence + 1, lastChange: { ...change, at } };
}

async function put(item: Item): Promise<void> {
  await dynamodb.send(
    new PutItemCommand({ TableName: bridge.resources.tableName, Item: marshall(item, { removeUndefinedValues: true }) }),
  );
}

/** Waits for a message on the notify dead-letter queue and takes it off (a person inspecting it would do the same). */
async function takeFromDeadLetters(timeoutMs = 20_000): Promise<SqsMessage> {
  const deadline = Date.now() + timeoutMs;
  const url = bridge.resources.queues.notifyRetry.dlq.url;
  while (Date.now() < deadline) {
    const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 1, WaitTimeSeconds: 1 }));
    const [message] = Messages ?? [];
    if (message) {
      await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: message.ReceiptHandle }));
      return message;
    }
  }
  throw new Error(`nothing reached the notify dead-letter queue within ${timeoutMs} ms`);
}

describe('notify (table stream → helpdesk)', () => {
  it('a ticket written to the table reaches the helpdesk as a signed ticket.created', async () => {
    const { ticket, message } = freshTicket();
    await put(messageToItem(message));
    await put(ticketToItem(ticket));

    const [event] = await receiver.waitFor((events) => events.some((e) => e.status === 204));
    // The receiver only records requests that the standardwebhooks library verified.
    expect(receiver.rejected).toEqual([]);
    expect(event!.webhookId).toBe(`evt_${ticket.id}_1`);
    expect(event!.type).toBe('ticket.created');
    const body = ticketEventBodySchema.parse(event!.json);
    expect(body).toMatchObject({
      type: 'ticket.created',
      timestamp: ticket.lastChange.at,
      data: {
        ticket: { id: ticket.id, sequence: 1, status: 'open', customer: ticket.customer },
        message: { id: message.id, xId: message.xId, text: message.text, direction: 'inbound' },
      },
    });
    expect(event!.json.data.ticket).not.toHaveProperty('lastChange');
  });

  it('a 503 is retried with the same webhook-id and the same body, then delivered', async () => {
    const { ticket, message } = freshTicket();
    await put(messageToItem(message));
    await put(ticketToItem(ticket));
    await receiver.waitFor((events) => events.some((e) => e.webhookId === `evt_${ticket.id}_1` && e.status === 204));

    receiver.respondWith([503, 204]);
    const solved = changed(ticket, { type: 'ticket.status_changed', previousStatus: 'open' }, { status: 'solved' });
    await put(ticketToItem(solved));
    const webhookId = `evt_${ticket.id}_2`;
    await receiver.waitFor((events) => events.some((e) => e.webhookId === webhookId && e.status === 204));

    const attempts = receiver.events.filter((e) => e.webhookId === webhookId);
    expect(attempts.map((e) => [e.attempt, e.status])).toEqual([
      [1, 503],
      [2, 204],
    ]);
    expect(attempts[1]!.body).toBe(attempts[0]!.body);
    expect(attempts[0]!.json).toMatchObject({ type: 'ticket.status_changed', data: { previousStatus: 'open', ticket: { status: 'solved', sequence: 2 } } });
  });

  it('a helpdesk down for every attempt: the event parks in the dead-letter queue, and a redrive delivers it', async () => {
    const { ticket, message } = freshTicket();
    await put(messageToItem(message));
    receiver.setDefault(503);
    await put(ticketToItem(ticket));
    const webhookId = `evt_${ticket.id}_1`;

    const parked = await takeFromDeadLetters();
    // One attempt from the stream, one per receive of the retry message.
    expect(receiver.attempts(webhookId)).toBe(1 + RETRIES);
    expect(receiver.delivered).toEqual([]);
    expect(JSON.parse(parked.Body!)).toMatchObject({ webhookId, attempt: 1 });

    // Ops' redrive: the parked message goes back to the queue it came from.
    receiver.setDefault(204);
    await sqs.send(new SendMessageCommand({ QueueUrl: bridge.resources.queues.notifyRetry.url, MessageBody: parked.Body! }));
    await receiver.waitFor((events) => events.some((e) => e.webhookId === webhookId && e.status === 204));

    const attempts = receiver.events.filter((e) => e.webhookId === webhookId);
    expect(attempts).toHaveLength(2 + RETRIES);
    expect(new Set(attempts.map((e) => e.body)).size).toBe(1);
    expect(attempts.at(-1)!.json).toMatchObject({ type: 'ticket.created', data: { ticket: { id: ticket.id, sequence: 1 } } });
  });
});

describe('a queued event reads its message at each attempt (text gone from queues, redactions honoured)', () => {
  it('a ticket.created whose message item was never written goes out from the ticket\'s opening copy, bytes unchanged', async () => {
    // A customer's first ticket is put before its message; here the worker "died" in between.
    const { ticket, message } = freshTicket();
    receiver.respondWith([503]);
    await put(openingTicketToItem(ticket, message));
    const webhookId = `evt_${ticket.id}_1`;
    await receiver.waitFor((events) => events.some((e) => e.webhookId === webhookId && e.status === 204), 15_000);
    const attempts = receiver.events.filter((e) => e.webhookId === webhookId);
    expect(attempts.map((e) => e.status)).toEqual([503, 204]);
    expect(attempts[1]!.body).toBe(attempts[0]!.body);
    expect(attempts[1]!.json.data).toMatchObject({ message: { text: message.text, redacted: false } });
  });

  it('one whose post X reported deleted before it was stored (a tombstone) goes out redacted, whatever the ticket\'s copy says', async () => {
    const { ticket, message } = freshTicket();
    receiver.respondWith([503]);
    await put(openingTicketToItem(ticket, message));
    // The delete's tombstone takes the message's key before the retry.
    await put({ ...keys.message(message.xId), type: 'tombstone', xId: message.xId, authorXUserId: ticket.customer.xUserId, deletedAt: new Date().toISOString() });
    const webhookId = `evt_${ticket.id}_1`;
    await receiver.waitFor((events) => events.some((e) => e.webhookId === webhookId && e.status === 204), 15_000);
    const [first, retry] = receiver.events.filter((e) => e.webhookId === webhookId);
    expect(first!.json.data).toMatchObject({ message: { text: message.text } });
    expect(retry!.json.data).toMatchObject({ message: { xId: message.xId, text: '', redacted: true } });
    expect(retry!.body).not.toContain(message.text);
  });
});

describe('a post deleted on X while its event waits for the helpdesk (X: deleted content gone within 24 hours)', () => {
  const RETRY_BUDGET = 2;
  const brand = `notify-${randomBytes(3).toString('hex')}`;
  let full: TestBridge;
  /** Every body the functions sent to the notify-retry queue (SQS parks these very bodies in its DLQ). */
  const queued: string[] = [];

  beforeAll(async () => {
    const real = await loadFunctionHandlers();
    full = await startTestBridge({
      // The DLQ CLI finds a brand's queues by the stack's names.
      prefix: `support-bridge-${brand}`,
      env: { BRAND: brand, HELPDESK_WEBHOOK_URL: receiver.url, HELPDESK_WEBHOOK_SECRET: secret },
      handlers: {
        ...real,
        notify: (config, clients) => createNotifyHandler(config, clients, { retryDelaySeconds: () => 1, maxRetries: RETRY_BUDGET }),
      },
      queueSpecs: { notifyRetry: { maxReceiveCount: RETRY_BUDGET, visibilityTimeoutSeconds: 1 } },
    });
    const retryUrl = full.resources.queues.notifyRetry.url;
    full.clients.sqs.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as { QueueUrl?: string; MessageBody?: string; Entries?: { MessageBody?: string }[] };
        if (input.QueueUrl === retryUrl) queued.push(...[input.MessageBody, ...(input.Entries ?? []).map((e) => e.MessageBody)].filter((b): b is string => !!b));
        return next(args);
      },
      { step: 'initialize', name: 'recordRetryQueueBodies' },
    );
  });
  afterAll(async () => {
    await full?.stop();
  });

  /** The bodies in the dead-letter queue, looked at and left there (a DLQ has no redrive policy: receives change nothing). */
  async function parkedBodies(): Promise<string[]> {
    const url = full.resources.queues.notifyRetry.dlq.url;
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 30, WaitTimeSeconds: 1 }));
    for (const m of Messages) {
      await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0 }));
    }
    return Messages.map((m) => m.Body ?? '');
  }

  async function deadLetterCount(): Promise<number> {
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: full.resources.queues.notifyRetry.dlq.url, AttributeNames: ['ApproximateNumberOfMessages'] }),
    );
    return Number(Attributes?.ApproximateNumberOfMessages ?? 0);
  }

  async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async function dlq(argv: string[]) {
    const out = memoryOutput();
    const code = await runDlqProgram(['--endpoint', full.endpoints.sqs, '--brand', brand, ...argv], { env: {}, out });
    return { code, text: out.text() };
  }

  it('the helpdesk back after the delete gets the event with empty text and redacted true; no queue ever held the text', async () => {
    const author = { id: '24681357', username: 'deletes_later', name: 'Deletes Later' };
    const xId = nextXId();
    const text = `@AcmeSupport my card ending 4111 was charged twice (${xId})`;
    const ticketId = `mn-${author.id}-1`;
    const created = `evt_${ticketId}_1`;
    receiver.setDefault(503);

    expect((await full.postWebhook(xaaMention({ id: xId, author, text }))).status).toBe(200);
    // Tried from the stream, then from the retry queue, then parked in the dead-letter queue.
    await until('ticket.created parked in the dead-letter queue', async () => (await deadLetterCount()) >= 1);
    expect(receiver.attempts(created)).toBe(1 + RETRY_BUDGET);
    expect(receiver.events.find((e) => e.webhookId === created)!.json.data).toMatchObject({ message: { text, redacted: false } });
    const parkedBeforeDelete = await parkedBodies();
    expect(parkedBeforeDelete.map((b) => (JSON.parse(b) as { webhookId: string }).webhookId)).toContain(created);
    const peek = await dlq(['peek', 'notify-retry']);
    expect(peek.text).toContain(`webhook-id ${created}`);
    expect(peek.text).toContain(`message ${xId}: no text queued`);

    // The customer deletes the post on X; ingest redacts the stored message (and the ticket announces it).
    expect((await full.postWebhook(xaaDelete({ id: xId, authorId: author.id }))).status).toBe(200);
    await until('the message redacted in the table', async () =>
      (await full.scanTable()).some((item) => item.pk === `X#${xId}` && item.redacted === true && item.text === ''),
    );

    await until('the redaction event parked too', async () => (await deadLetterCount()) >= 2);
    const parked = await parkedBodies();
    // The helpdesk is back; ops redrive the dead-letter queue.
    receiver.setDefault(204);
    const redrive = await dlq(['redrive', 'notify-retry']);
    expect(redrive.code).toBe(0);
    expect(redrive.text).toContain('Moved 2 message(s)');
    await receiver.waitFor((events) => events.some((e) => e.webhookId === created && e.status === 204), 20_000);

    const delivered = receiver.delivered.find((e) => e.webhookId === created)!;
    expect(delivered.json).toMatchObject({
      type: 'ticket.created',
      data: { ticket: { id: ticketId, sequence: 1 }, message: { xId, text: '', redacted: true } },
    });
    expect(delivered.body).not.toContain('4111');
    await receiver.waitFor((events) => events.some((e) => e.webhookId === `evt_${ticketId}_2` && e.status === 204), 20_000);

    // What waited in the retry queue and its dead-letter queue never held the text.
    expect(queued.length).toBeGreaterThanOrEqual(2);
    for (const body of [...queued, ...parkedBeforeDelete, ...parked]) expect(body).not.toContain('4111');
    expect(queued.map((b) => (JSON.parse(b) as { webhookId: string; textOf?: string })).find((m) => m.webhookId === created)).toMatchObject({ textOf: xId });
  }, 90_000);
});
