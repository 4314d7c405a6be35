// The DLQ CLI (`npm run dlq`) against the SQS emulator the local runner uses (fauxqs, shared by the test run): listing
// depths, peeking without removing or revealing customer text, and redriving back to the source queue with bodies and
// attributes unchanged, including when the emulator lacks StartMessageMoveTask and when sends or deletes fail midway.
// The stream failures queue's redrive rebuilds a failed stream batch's events from DynamoDB Local's stream and the
// local bridge delivers them to a helpdesk receiver.
import { randomBytes } from 'node:crypto';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient, TrimmedDataAccessException } from '@aws-sdk/client-dynamodb-streams';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
  type Message,
  type MessageAttributeValue,
} from '@aws-sdk/client-sqs';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createNotifyHandler } from '../../functions/notify/handler';
import { ensureStreamFailuresQueue } from '../../infra/local/bridge';
import { ensureResources, LOCAL_AWS } from '../../infra/local/services';
import { memoryOutput } from '../../infra/ops/cli-support';
import { deadLetterQueues, redriveCommand } from '../../infra/ops/dlq-commands';
import { runDlqProgram, type DlqProgramDeps } from '../../infra/ops/dlq-program';
import { messageToItem, ticketToItem, type Item } from '../../shared/aws/items';
import type { Message as TicketMessage, Ticket } from '../../shared/tickets/model';
import { createHelpdeskReceiver } from '../support/helpdesk-receiver';
import { startTestBridge } from '../support/test-bridge';

const CUSTOMER_TEXT = 'my card 4111 was charged twice 😡 — please help';
let endpoint: string;
let sqs: SQSClient;

beforeAll(() => {
  endpoint = inject('sqsEndpoint');
  sqs = new SQSClient({ endpoint, ...LOCAL_AWS });
});
afterAll(() => sqs.destroy());

type BrandQueues = Record<string, { url: string; dlqUrl: string }>;

/** A fresh brand's queues as the stack names them: each work queue redrives to its DLQ after `maxReceiveCount`. */
async function createBrand(maxReceiveCount = 1): Promise<{ brand: string; queues: BrandQueues }> {
  const brand = `opsdlq-${randomBytes(4).toString('hex')}`;
  const queues: BrandQueues = {};
  for (const q of deadLetterQueues(brand)) {
    const dlqUrl = await create(q.name, {});
    if (!q.sourceName) {
      queues[q.label] = { url: dlqUrl, dlqUrl };
      continue;
    }
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }));
    const url = await create(q.sourceName, {
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: Attributes?.QueueArn, maxReceiveCount }),
    });
    queues[q.label] = { url, dlqUrl };
  }
  return { brand, queues };
}

async function create(name: string, attributes: Record<string, string>): Promise<string> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  if (!QueueUrl) throw new Error(`no url for ${name}`);
  return QueueUrl;
}

/** Drains a queue (visibility 0 is not used: each message is taken once) and returns its messages. */
async function drain(url: string): Promise<Message[]> {
  const all: Message[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 60, MessageAttributeNames: ['All'] }),
    );
    if (Messages.length === 0) return all;
    all.push(...Messages);
  }
}

async function depth(url: string): Promise<{ visible: number; hidden: number }> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return { visible: Number(Attributes?.ApproximateNumberOfMessages), hidden: Number(Attributes?.ApproximateNumberOfMessagesNotVisible) };
}

/** A notify-retry message as shared/helpdesk/notify.ts freezes it: the event, its webhook-id, customer text inside. */
function frozenEvent(n: number): string {
  const ticketId = `dm-1357924680-${n}`;
  return JSON.stringify({
    webhookId: `evt_${ticketId}_3`,
    body: {
      type: 'ticket.message_added',
      timestamp: '2026-11-16T11:58:00.000Z',
      data: {
        ticket: { id: ticketId, brand: 'acme', status: 'open', channel: 'dm', sequence: 3 },
        message: { id: `msg-${n}`, ticketId, xId: '1990000000000000301', direction: 'inbound', text: `${CUSTOMER_TEXT} #${n}` },
      },
    },
    attempt: 1,
    firstAttemptAt: '2026-11-16T11:58:01.000Z',
  });
}

const ATTRIBUTES: Record<string, MessageAttributeValue> = {
  origin: { DataType: 'String', StringValue: 'stream' },
  attempt: { DataType: 'Number', StringValue: '12' },
  digest: { DataType: 'Binary', BinaryValue: new Uint8Array([0, 1, 2, 254, 255]) },
};

async function dlq(argv: string[], deps: Partial<DlqProgramDeps> = {}) {
  const out = memoryOutput();
  const code = await runDlqProgram(['--endpoint', endpoint, ...argv], { env: {}, out, ...deps });
  return { code, stdout: out.lines.join('\n'), stderr: out.errors.join('\n'), text: out.text() };
}

/** Parks `body` in the work queue's DLQ the way SQS does: received past maxReceiveCount (1) without being deleted. */
async function deadLetter(queue: { url: string }, body: string, attributes?: Record<string, MessageAttributeValue>) {
  await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: body, MessageAttributes: attributes }));
  for (let i = 0; i < 2; i++) await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.url, VisibilityTimeout: 0 }));
}

/**
 * An SQS client whose n-th SendMessage (or batch send, or DeleteMessage) fails, as if SQS or the network failed right
 * then; every one from the n-th on with `andAfter`.
 */
function failingClient(
  command: 'SendMessageCommand' | 'SendMessageBatchCommand' | 'DeleteMessageCommand',
  failOn: number,
  options: { andAfter?: boolean } = {},
): SQSClient {
  const client = new SQSClient({ endpoint, ...LOCAL_AWS });
  let calls = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const n = context.commandName === command ? ++calls : 0;
      if (n === failOn || (options.andAfter && n > failOn)) throw new Error('simulated SQS outage');
      return next(args);
    },
    { step: 'initialize', name: 'failOneCall' },
  );
  return client;
}

describe('list and peek', () => {
  it('lists each dead-letter queue with its depth', async () => {
    const { brand, queues } = await createBrand();
    await deadLetter(queues['notify-retry']!, frozenEvent(1));
    await deadLetter(queues['notify-retry']!, frozenEvent(2));
    const result = await dlq(['--brand', brand, 'list']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`notify-retry\\s+2\\s+support-bridge-${brand}-notify-retry-dlq`));
    expect(result.stdout).toMatch(new RegExp(`inbound\\s+0\\s+support-bridge-${brand}-inbound-dlq`));
    expect(result.stdout).toMatch(new RegExp(`notify-stream-failures\\s+0\\s+support-bridge-${brand}-notify-stream-failures`));

    const missing = await dlq(['--brand', 'opsdlq-no-such-brand', 'list']);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toContain('MISSING');
    expect(missing.stderr).toContain('4 queue(s) do not exist');
  });

  it('lists the queues the local runner builds, its stream failures queue included', async () => {
    const brand = `opsdlq-${randomBytes(4).toString('hex')}`;
    const dynamodb = new DynamoDBClient({ endpoint: inject('dynamodbEndpoint'), ...LOCAL_AWS });
    try {
      // As infra/local/bridge.ts builds them for BRAND=<brand>.
      await ensureResources({ dynamodb, sqs }, { tableName: `support-bridge-${brand}-tickets`, queuePrefix: `support-bridge-${brand}` });
      await ensureStreamFailuresQueue(sqs, `support-bridge-${brand}`);
    } finally {
      dynamodb.destroy();
    }
    const result = await dlq(['list'], { env: { BRAND: brand } });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`reply\\s+0\\s+support-bridge-${brand}-reply-dlq`));
    expect(result.stdout).toMatch(new RegExp(`notify-stream-failures\\s+0\\s+support-bridge-${brand}-notify-stream-failures`));
  });

  it('shows ids, receive counts, sent times and what identifies each message, never the customer text, and keeps them', async () => {
    const { brand, queues } = await createBrand();
    await deadLetter(queues['notify-retry']!, frozenEvent(7), ATTRIBUTES);
    await deadLetter(queues['notify-retry']!, 'not json at all, with text: ' + CUSTOMER_TEXT);
    const inbound = {
      kind: 'dm',
      format: 'xaa',
      xId: '1990000000000000401',
      sender: { xUserId: '1357924680', username: 'jane_doe_dev', name: 'Jane' },
      recipientXUserId: '1602999888777666555',
      text: CUSTOMER_TEXT,
      createdAt: '2026-11-16T11:00:00.000Z',
      via: 'dm.received',
      receivedAt: '2026-11-16T11:00:01.000Z',
    };
    await deadLetter(queues.inbound!, JSON.stringify(inbound));
    await deadLetter(queues.reply!, JSON.stringify({ replyId: 'rpl-0001' }));
    const streamFailure = {
      requestContext: { requestId: 'r-1', functionArn: 'arn:aws:lambda:eu-west-1:1:function:notify', condition: 'RetryAttemptsExhausted', approximateInvokeCount: 11 },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      version: '1.0',
      timestamp: '2026-11-16T11:30:00.000Z',
      DDBStreamBatchInfo: {
        shardId: 'shardId-00000001',
        startSequenceNumber: '100',
        endSequenceNumber: '180',
        approximateArrivalOfFirstRecord: '2026-11-16T11:00:00Z',
        approximateArrivalOfLastRecord: '2026-11-16T11:00:05Z',
        batchSize: 3,
        streamArn: 'arn:aws:dynamodb:eu-west-1:1:table/t/stream/x',
      },
    };
    await sqs.send(new SendMessageCommand({ QueueUrl: queues['notify-stream-failures']!.url, MessageBody: JSON.stringify(streamFailure) }));

    const retry = await dlq(['--brand', brand, 'peek', 'notify-retry']);
    expect(retry.code).toBe(0);
    // Two receives in the work queue (the count travels with a dead letter, as on SQS) plus the peek's own.
    expect(retry.stdout).toMatch(/message [0-9a-f-]{36}\s+received 3×\s+sent 20\d\d-\d\d-\d\dT/);
    expect(retry.stdout).toContain('attributes: origin, attempt, digest');
    expect(retry.stdout).toContain('ticket.message_added  webhook-id evt_dm-1357924680-7_3  ticket dm-1357924680-7 (sequence 3)');
    expect(retry.stdout).toMatch(/\d+ bytes in a shape this tool does not know for notify-retry/);

    const others = [
      await dlq(['--brand', brand, 'peek', 'inbound']),
      await dlq(['--brand', brand, 'peek', `support-bridge-${brand}-reply-dlq`]),
      await dlq(['--brand', brand, 'peek', 'notify-stream-failures', '--max', '1']),
    ];
    expect(others[0]?.stdout).toContain('X dm 1990000000000000401 from user 1357924680  via dm.received (xaa)');
    expect(others[1]?.stdout).toContain('reply rpl-0001');
    expect(others[2]?.stdout).toContain('stream batch of 3 record(s), shard shardId-00000001, sequence 100 … 180');
    expect(others[2]?.stdout).toContain('RetryAttemptsExhausted after 11 invocation(s) (Unhandled)');

    for (const result of [retry, ...others]) {
      expect(result.text).not.toContain('charged twice');
      expect(result.text).not.toContain('jane_doe_dev');
    }
    // Peeking took nothing away: every message is back and visible at once.
    expect(await depth(queues['notify-retry']!.dlqUrl)).toEqual({ visible: 2, hidden: 0 });
    expect(await depth(queues.inbound!.dlqUrl)).toEqual({ visible: 1, hidden: 0 });
  });
});

describe('redrive', () => {
  it('moves notify-retry dead letters back with identical bodies and attributes (one by one: fauxqs has no move task)', async () => {
    const { brand, queues } = await createBrand();
    const bodies = [frozenEvent(1), frozenEvent(2), frozenEvent(3)];
    for (const body of bodies) await deadLetter(queues['notify-retry']!, body, ATTRIBUTES);
    expect(await depth(queues['notify-retry']!.dlqUrl)).toEqual({ visible: 3, hidden: 0 });

    const result = await dlq(['--brand', brand, 'redrive', 'notify-retry']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('StartMessageMoveTask is not supported at');
    expect(result.stdout).toContain('each is sent first and deleted from the DLQ after');
    expect(result.stdout).toContain(`Moved 3 message(s) from support-bridge-${brand}-notify-retry-dlq to support-bridge-${brand}-notify-retry; ~0 left`);

    const moved = await drain(queues['notify-retry']!.url);
    expect(moved.map((m) => m.Body).sort()).toEqual([...bodies].sort());
    for (const m of moved) {
      expect(m.MessageAttributes?.origin).toEqual(ATTRIBUTES.origin);
      expect(m.MessageAttributes?.attempt).toEqual(ATTRIBUTES.attempt);
      expect(Buffer.from(m.MessageAttributes?.digest?.BinaryValue ?? [])).toEqual(Buffer.from([0, 1, 2, 254, 255]));
    }
    expect(await depth(queues['notify-retry']!.dlqUrl)).toEqual({ visible: 0, hidden: 0 });
  });

  it('moves only --max messages', async () => {
    const { brand, queues } = await createBrand();
    for (let i = 0; i < 5; i++) await deadLetter(queues.reply!, JSON.stringify({ replyId: `rpl-${i}` }));
    const result = await dlq(['--brand', brand, 'redrive', 'reply', '--max', '2']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('--max: moving messages one by one');
    expect((await drain(queues.reply!.url)).length).toBe(2);
    expect(await depth(queues.reply!.dlqUrl)).toEqual({ visible: 3, hidden: 0 });
  });

  it('loses nothing when sending to the source queue fails midway', async () => {
    const { brand, queues } = await createBrand();
    const bodies = [1, 2, 3, 4, 5].map(frozenEvent);
    for (const body of bodies) await deadLetter(queues['notify-retry']!, body);

    const result = await dlq(['--brand', brand, 'redrive', 'notify-retry'], { createSqs: () => failingClient('SendMessageCommand', 3) });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/could not send message [0-9a-f-]+ to support-bridge-opsdlq-[0-9a-f]+-notify-retry \(Error: simulated SQS outage\): it and the rest stay in/);

    // Two reached the source queue; the other three are back in the DLQ and visible at once, nothing hidden or lost.
    expect(await depth(queues['notify-retry']!.dlqUrl)).toEqual({ visible: 3, hidden: 0 });
    const inSource = await drain(queues['notify-retry']!.url);
    const inDlq = await drain(queues['notify-retry']!.dlqUrl);
    expect(inSource).toHaveLength(2);
    expect([...inSource, ...inDlq].map((m) => m.Body).sort()).toEqual([...bodies].sort());
  });

  it('leaves a duplicate, not a loss, when the delete from the DLQ fails after the send', async () => {
    const { brand, queues } = await createBrand();
    const out = memoryOutput();
    await deadLetter(queues.inbound!, JSON.stringify({ kind: 'delete', format: 'xaa', xId: '1990000000000000501', authorXUserId: '1', deletedAt: 'x', via: 'post.delete', receivedAt: 'x' }));
    await deadLetter(queues.inbound!, JSON.stringify({ kind: 'delete', format: 'xaa', xId: '1990000000000000502', authorXUserId: '1', deletedAt: 'x', via: 'post.delete', receivedAt: 'x' }));
    const client = failingClient('DeleteMessageCommand', 1);
    try {
      const report = await redriveCommand({ sqs: client, out, brand, where: endpoint }, 'inbound', { max: 2 });
      expect(report).toMatchObject({ method: 'one-by-one', moved: 1 });
      expect(report.failure).toContain('was sent to');
      expect(report.failure).toContain('could not be deleted from');
    } finally {
      client.destroy();
    }
    // The sent one is in the source queue and still (hidden) in the DLQ; the other was never touched.
    expect(await depth(queues.inbound!.url)).toEqual({ visible: 1, hidden: 0 });
    expect(await depth(queues.inbound!.dlqUrl)).toEqual({ visible: 1, hidden: 1 });
  });

  it('leaves a stream batch whose records the stream no longer has, saying so, and says when there is nothing to do', async () => {
    const { brand, queues } = await createBrand();
    const failure = {
      timestamp: '2026-11-16T11:30:00.000Z',
      DDBStreamBatchInfo: {
        shardId: 'shardId-00000001',
        startSequenceNumber: '100',
        endSequenceNumber: '180',
        approximateArrivalOfFirstRecord: '2026-11-15T09:00:00Z',
        batchSize: 3,
        streamArn: `arn:aws:dynamodb:us-east-1:000000000000:table/support-bridge-${brand}-tickets/stream/2026-11-15T00:00:00.000`,
      },
    };
    await sqs.send(new SendMessageCommand({ QueueUrl: queues['notify-stream-failures']!.url, MessageBody: JSON.stringify(failure) }));
    // DynamoDB Streams' answer for records past its 24-hour retention.
    const trimmedStream = () => {
      const streams = new DynamoDBStreamsClient({ endpoint: inject('dynamodbEndpoint'), ...LOCAL_AWS });
      streams.middlewareStack.add(
        () => async () => {
          throw new TrimmedDataAccessException({ message: 'the requested sequence number is beyond the trim horizon', $metadata: {} });
        },
        { step: 'initialize', name: 'trimmed' },
      );
      return { streams, dynamodb: new DynamoDBClient({ endpoint: inject('dynamodbEndpoint'), ...LOCAL_AWS }) };
    };
    const gone = await dlq(['--brand', brand, '--dynamodb-endpoint', inject('dynamodbEndpoint'), 'redrive', 'notify-stream-failures'], {
      createTables: trimmedStream,
    });
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('batch shard shardId-00000001 100 … 180: left in');
    expect(gone.stderr).toContain('its records are no longer in the table stream (DynamoDB Streams keeps them 24 hours, written 2026-11-15T09:00:00Z');
    expect(gone.stderr).toContain('its events cannot be rebuilt');
    expect(gone.stdout).toContain('Rebuilt 0 stream batch(es) of 1: 0 event(s) queued');
    expect(await depth(queues['notify-stream-failures']!.url)).toEqual({ visible: 1, hidden: 0 });
    expect(await depth(queues['notify-retry']!.url)).toEqual({ visible: 0, hidden: 0 });

    // Locally the stream is DynamoDB Local's: without its endpoint the command says what to add.
    const noTables = await dlq(['--brand', brand, 'redrive', 'notify-stream-failures']);
    expect(noTables.code).toBe(2);
    expect(noTables.stderr).toContain('--dynamodb-endpoint');

    const empty = await dlq(['--brand', brand, 'redrive', 'inbound']);
    expect(empty.code).toBe(0);
    expect(empty.stdout).toContain('is empty');
  });

  it('rebuilds the events of a stream batch notify gave up on, and the helpdesk receives them with their original webhook-ids', async () => {
    const brand = `opsdlq-${randomBytes(4).toString('hex')}`;
    const secret = `whsec_${randomBytes(32).toString('base64')}`;
    const receiver = createHelpdeskReceiver(secret);
    const { url } = await receiver.start();
    // The notify function crashes on every stream batch until "fixed": the local stream source gives up after one
    // retry and records the batch in notify-stream-failures, as Lambda's on-failure destination does.
    let crashing = true;
    const bridge = await startTestBridge({
      prefix: `support-bridge-${brand}`,
      env: { BRAND: brand, HELPDESK_WEBHOOK_URL: url, HELPDESK_WEBHOOK_SECRET: secret },
      handlers: {
        notify: (config, clients) => {
          const notify = createNotifyHandler(config, clients, { retryDelaySeconds: () => 0 });
          return async (event) => {
            if (crashing && event.Records[0]?.eventSource === 'aws:dynamodb') throw new Error('notify crashed');
            return notify(event);
          };
        },
      },
      streamRetry: { maxRetries: 1, baseDelayMs: 10, maxDelayMs: 20 },
      log: (message, error) => {
        if (!/is not wired locally|invocation failed|giving up on/.test(message)) console.error(message, error ?? '');
      },
    });
    const dynamodb = new DynamoDBClient({ endpoint: bridge.endpoints.dynamodb, ...LOCAL_AWS });
    try {
      const put = (item: Item) =>
        dynamodb.send(new PutItemCommand({ TableName: bridge.resources.tableName, Item: marshall(item, { removeUndefinedValues: true }) }));
      const at = new Date().toISOString();
      const xId = '1996000000000000777';
      const message: TicketMessage = {
        id: `msg-${xId}`,
        ticketId: 'mn-7770001-1',
        xId,
        direction: 'inbound',
        channel: 'mention',
        text: '@AcmeSupport the export button does nothing',
        author: { xUserId: '7770001', username: 'exporter' },
        createdAt: at,
        redacted: false,
      };
      const ticket: Ticket = {
        id: 'mn-7770001-1',
        brand,
        status: 'open',
        channel: 'mention',
        customer: { xUserId: '7770001', username: 'exporter', name: 'Ex Porter' },
        createdAt: at,
        updatedAt: at,
        sequence: 1,
        lastChange: { type: 'ticket.created', at, messageXId: xId },
      };
      await put(messageToItem(message));
      await put(ticketToItem(ticket));
      await put(ticketToItem({ ...ticket, status: 'pending', sequence: 2, lastChange: { type: 'ticket.status_changed', at, previousStatus: 'open' } }));
      const failuresUrl = bridge.streamFailuresQueue.url;
      await bridge.waitForIdle({ timeoutMs: 20_000 });
      expect(receiver.events).toEqual([]);
      const recorded = (await depth(failuresUrl)).visible;
      expect(recorded).toBeGreaterThanOrEqual(1);

      // Peek shows Lambda's record of the batch, as on AWS.
      const peek = await dlq(['--brand', brand, 'peek', 'notify-stream-failures']);
      expect(peek.stdout).toMatch(/stream batch of \d record\(s\), shard \S+, sequence \d+ … \d+/);
      expect(peek.stdout).toContain('RetryAttemptsExhausted after 2 invocation(s) (Unhandled)');
      expect(peek.stdout).toContain('redrive can rebuild its events until about');

      // Fixed. A redrive that cannot queue the events leaves every record where it was.
      crashing = false;
      const refused = await dlq(['--brand', brand, '--dynamodb-endpoint', bridge.endpoints.dynamodb, 'redrive', 'notify-stream-failures'], {
        createSqs: () => failingClient('SendMessageBatchCommand', 1, { andAfter: true }),
      });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('could not queue its events (Error: simulated SQS outage)');
      expect(await depth(failuresUrl)).toEqual({ visible: recorded, hidden: 0 });

      // The redrive reads the batches back from the stream and queues their events on notify-retry.
      const redrive = await dlq(['--brand', brand, '--dynamodb-endpoint', bridge.endpoints.dynamodb, 'redrive', 'notify-stream-failures']);
      expect(redrive.stderr).toBe('');
      expect(redrive.code).toBe(0);
      expect(redrive.stdout).toContain(`Rebuilt ${recorded} stream batch(es) of ${recorded}: 2 event(s) queued on support-bridge-${brand}-notify-retry.`);
      expect(await depth(failuresUrl)).toEqual({ visible: 0, hidden: 0 });

      await receiver.waitFor((events) => events.filter((e) => e.status === 204).length >= 2, 20_000);
      expect(receiver.rejected).toEqual([]);
      expect(receiver.delivered.map((e) => e.webhookId).sort()).toEqual([`evt_${ticket.id}_1`, `evt_${ticket.id}_2`]);
      expect(receiver.delivered.find((e) => e.webhookId === `evt_${ticket.id}_1`)!.json).toMatchObject({
        type: 'ticket.created',
        timestamp: at,
        data: { ticket: { id: ticket.id, sequence: 1, status: 'open' }, message: { xId, text: message.text, redacted: false } },
      });
      expect(receiver.delivered.find((e) => e.webhookId === `evt_${ticket.id}_2`)!.json).toMatchObject({
        type: 'ticket.status_changed',
        data: { ticket: { sequence: 2, status: 'pending' }, previousStatus: 'open' },
      });
    } finally {
      dynamodb.destroy();
      await bridge.stop();
      await receiver.stop();
    }
  }, 60_000);
});

describe('command line', () => {
  it('refuses what it cannot run with exit code 2, before touching a queue', async () => {
    const cases: [string[], RegExp][] = [
      [['list'], /brand/], // no --endpoint in this one: see below
      [['--brand', 'acme', 'peek'], /missing the queue/],
      [['--brand', 'acme', 'peek', 'outbound'], /no dead-letter queue "outbound" for brand acme: use one of inbound, notify-retry, reply, notify-stream-failures/],
      [['--brand', 'acme', 'peek', 'reply', '--max', '0'], /--max must be a whole number from 1 to 100/],
      [['--brand', 'acme', 'list', '--max', '3'], /--max does not apply to "list"/],
      [['--brand', 'acme', 'drain', 'reply'], /unknown command "drain"/],
      [['--brand', 'ACME', 'list'], /--brand must be a brand slug/],
    ];
    for (const [argv, message] of cases) {
      const out = memoryOutput();
      const withEndpoint = argv[0] === 'list' ? argv : ['--endpoint', endpoint, ...argv];
      const code = await runDlqProgram(withEndpoint, { env: {}, out });
      expect(code, argv.join(' ')).toBe(2);
      expect(out.errors.join('\n'), argv.join(' ')).toMatch(message);
    }
    const badEndpoint = await runDlqProgram(['--endpoint', 'localhost:9324', 'list'], { env: {}, out: memoryOutput() });
    expect(badEndpoint).toBe(2);
    const help = memoryOutput();
    expect(await runDlqProgram(['help'], { env: {}, out: help })).toBe(0);
    expect(help.lines.join('\n')).toContain('Usage: npm run dlq --');
  });

  it('uses the local runner’s brand by default with --endpoint, and BRAND when set', async () => {
    const asDemo = memoryOutput();
    await runDlqProgram(['--endpoint', endpoint, 'list'], { env: {}, out: asDemo });
    expect(asDemo.lines.join('\n')).toContain('support-bridge-demo-inbound-dlq');
    const { brand } = await createBrand();
    const fromEnv = memoryOutput();
    expect(await runDlqProgram(['--endpoint', endpoint, 'list'], { env: { BRAND: brand }, out: fromEnv })).toBe(0);
    expect(fromEnv.lines.join('\n')).toContain(`support-bridge-${brand}-reply-dlq`);
  });

});
