// Contract §4 end to end: a ticket change written to the table reaches the helpdesk signed, through the real notify
// function on DynamoDB Local's stream and the SQS emulator; failures retry with the same webhook-id and body, park in
// the dead-letter queue, and a redrive delivers them with their original webhook-id.
import { randomBytes } from 'node:crypto';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient, type Message as SqsMessage } from '@aws-sdk/client-sqs';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createNotifyHandler } from '../../functions/notify/handler';
import { LOCAL_AWS } from '../../infra/local/services';
import { messageToItem, ticketToItem, type Item } from '../../shared/aws/items';
import { ticketEventBodySchema } from '../../shared/helpdesk/events';
import type { Message, Ticket, TicketChange } from '../../shared/tickets/model';
import { createHelpdeskReceiver } from '../support/helpdesk-receiver';
import { startTestBridge, type TestBridge } from '../support/test-bridge';

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
