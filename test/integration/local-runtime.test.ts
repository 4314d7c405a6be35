// The local runtime itself, with tiny inline handlers instead of the real functions: what Lambda's event sources and
// API Gateway do on AWS must hold locally too, or the integration tests of the real functions prove nothing.
import { execFileSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { APIGatewayProxyEventV2, DynamoDBRecord, SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { HTTP_ROUTES, isNotifyRecord, startLocalBridge } from '../../infra/local/bridge';
import { startHttpServer, type HttpServer } from '../../infra/local/http-server';
import { ensureResources, LOCAL_AWS, type LocalResources } from '../../infra/local/services';
import { startSqsEventSource } from '../../infra/local/sqs-event-source';
import { startStreamEventSource, type StreamEventSource } from '../../infra/local/stream-event-source';
import { keys } from '../../shared/aws/items';

// Conditions are polled, never slept on. The poll's timeout is a hang guard inside the test's own (TEST_TIMEOUT):
// nothing here asserts how long anything took, which is the benchmark's business (`npm run bench`).
const POLL = { timeout: 90_000, interval: 50 };
const TEST_TIMEOUT = 120_000;

let dynamodb: DynamoDBClient;
let sqs: SQSClient;
let streams: DynamoDBStreamsClient;

beforeAll(() => {
  dynamodb = new DynamoDBClient({ endpoint: inject('dynamodbEndpoint'), ...LOCAL_AWS });
  sqs = new SQSClient({ endpoint: inject('sqsEndpoint'), ...LOCAL_AWS });
  streams = new DynamoDBStreamsClient({ endpoint: inject('dynamodbEndpoint'), ...LOCAL_AWS });
});

afterAll(() => {
  dynamodb.destroy();
  sqs.destroy();
  streams.destroy();
});

const fresh = (queueSpecs?: Parameters<typeof ensureResources>[1]['queueSpecs']) => {
  const prefix = `rt-${randomUUID().slice(0, 10)}`;
  return ensureResources({ dynamodb, sqs }, { tableName: `${prefix}-tickets`, queuePrefix: prefix, queueSpecs });
};

const approximate = async (url: string) => {
  const a = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return Number(a.Attributes?.ApproximateNumberOfMessages ?? 0) + Number(a.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
};

describe('SQS event source', () => {
  it('deletes what succeeded, lets reported failures come back, and SQS parks them in the DLQ after maxReceiveCount', async () => {
    const resources = await fresh({ inbound: { visibilityTimeoutSeconds: 1, maxReceiveCount: 2 } });
    const queue = resources.queues.inbound;
    const bodies = ['ok-1', 'ok-2 🚀', 'fail-1', 'ok-3', 'fail-2'];
    for (const body of bodies) {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: queue.url,
          MessageBody: body,
          MessageAttributes: { kind: { DataType: 'String', StringValue: body.split('-')[0] } },
        }),
      );
    }
    const seen: SQSRecord[] = [];
    const source = startSqsEventSource({
      name: 'test',
      sqs,
      queueUrl: queue.url,
      queueArn: queue.arn,
      batchSize: 10,
      concurrency: 1,
      handler: async (event) => {
        seen.push(...event.Records);
        return {
          batchItemFailures: event.Records.filter((r) => r.body.startsWith('fail')).map((r) => ({ itemIdentifier: r.messageId })),
        };
      },
    });
    try {
      await expect.poll(() => approximate(queue.dlq.url), POLL).toBe(2);
    } finally {
      await source.stop();
    }

    const receives = (body: string) => seen.filter((r) => r.body === body);
    for (const body of ['ok-1', 'ok-2 🚀', 'ok-3']) expect(receives(body)).toHaveLength(1);
    for (const body of ['fail-1', 'fail-2']) {
      expect(receives(body).map((r) => r.attributes.ApproximateReceiveCount)).toEqual(['1', '2']);
    }
    expect(await approximate(queue.url)).toBe(0);
    const parked = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.dlq.url, MaxNumberOfMessages: 10 }));
    expect(parked.Messages?.map((m) => m.Body).sort()).toEqual(['fail-1', 'fail-2']);

    const record = receives('ok-2 🚀')[0];
    expect(record).toMatchObject({
      eventSource: 'aws:sqs',
      eventSourceARN: queue.arn,
      awsRegion: 'us-east-1',
      md5OfBody: createHash('md5').update('ok-2 🚀').digest('hex'),
      messageAttributes: { kind: { stringValue: 'ok', dataType: 'String', stringListValues: [], binaryListValues: [] } },
    });
    expect(record?.attributes.SentTimestamp).toMatch(/^\d{13}$/);
    expect(record?.attributes.ApproximateFirstReceiveTimestamp).toMatch(/^\d{13}$/);
    expect(source.stats()).toMatchObject({ succeeded: 3, requests: { DeleteMessageBatch: expect.any(Number) } });
  }, TEST_TIMEOUT);

  it('treats a thrown handler as a failed batch: every message comes back', async () => {
    const resources = await fresh({ reply: { visibilityTimeoutSeconds: 1 } });
    const queue = resources.queues.reply;
    for (const body of ['a', 'b']) await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: body }));
    const seen: string[] = [];
    let calls = 0;
    const source = startSqsEventSource({
      name: 'test-throw',
      sqs,
      queueUrl: queue.url,
      queueArn: queue.arn,
      batchSize: 10,
      concurrency: 1,
      log: () => {},
      handler: async (event) => {
        seen.push(...event.Records.map((r) => `${r.body}#${r.attributes.ApproximateReceiveCount}`));
        if (++calls === 1) throw new Error('boom');
      },
    });
    try {
      await expect.poll(() => seen.length, POLL).toBeGreaterThanOrEqual(4);
      await expect.poll(() => approximate(queue.url), POLL).toBe(0);
    } finally {
      await source.stop();
    }
    expect(seen.sort()).toEqual(['a#1', 'a#2', 'b#1', 'b#2']);
  }, TEST_TIMEOUT);
});

describe('DynamoDB stream event source', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stream-checkpoint-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const putTicket = (resources: LocalResources, customer: string) =>
    dynamodb.send(
      new PutItemCommand({
        TableName: resources.tableName,
        Item: marshall({ ...keys.ticket({ customerXUserId: customer, channel: 'mention', generation: 1 }), type: 'ticket', n: customer }),
      }),
    );
  const putMessage = (resources: LocalResources, xId: string) =>
    dynamodb.send(new PutItemCommand({ TableName: resources.tableName, Item: marshall({ ...keys.message(xId), type: 'message' }) }));

  it('delivers ticket items in order, retries from the first failed record, and resumes from its checkpoint', async () => {
    const resources = await fresh();
    await putTicket(resources, '1');
    await putMessage(resources, '900');
    await putTicket(resources, '2');
    await putTicket(resources, '3');
    await putMessage(resources, '901');

    const checkpointFile = join(dir, 'checkpoint.json');
    const batches: DynamoDBRecord[][] = [];
    let failSecondOnce = true;
    const start = () =>
      startStreamEventSource({
        name: 'test-stream',
        streams,
        streamArn: resources.streamArn,
        filter: isNotifyRecord,
        checkpointFile,
        pollIntervalMs: 50,
        retryBaseDelayMs: 20,
        handler: async (event) => {
          batches.push(event.Records);
          const second = event.Records.find((r) => r.dynamodb?.NewImage?.n?.S === '2');
          if (second && failSecondOnce) {
            failSecondOnce = false;
            return { batchItemFailures: [{ itemIdentifier: second.dynamodb?.SequenceNumber ?? '' }] };
          }
          return { batchItemFailures: [] };
        },
      });

    let source: StreamEventSource = await start();
    const customers = () => batches.map((b) => b.map((r) => r.dynamodb?.NewImage?.n?.S));
    try {
      await expect.poll(() => customers().length, POLL).toBeGreaterThanOrEqual(2);
      const since = Date.now();
      await expect.poll(() => source.caughtUpSince(since), POLL).toBe(true);
    } finally {
      await source.stop();
    }
    // Non-ticket items are filtered out; the failed record and everything after it is retried, nothing before it.
    expect(customers()).toEqual([
      ['1', '2', '3'],
      ['2', '3'],
    ]);
    const record = batches[0]?.[0];
    expect(record).toMatchObject({
      eventName: 'INSERT',
      eventSource: 'aws:dynamodb',
      eventSourceARN: resources.streamArn,
      awsRegion: 'us-east-1',
      dynamodb: {
        Keys: { pk: { S: 'CUST#1' }, sk: { S: 'TICKET#mention#000000001' } },
        NewImage: { type: { S: 'ticket' } },
        StreamViewType: 'NEW_IMAGE',
      },
    });
    expect(record?.eventID).toEqual(expect.any(String));
    expect(record?.dynamodb?.SizeBytes).toBeGreaterThan(0);
    expect(record?.dynamodb?.ApproximateCreationDateTime).toBeGreaterThan(1_700_000_000);
    const sequence = batches[0]?.map((r) => BigInt(r.dynamodb?.SequenceNumber ?? '0')) ?? [];
    expect([...sequence].sort((a, b) => (a < b ? -1 : 1))).toEqual(sequence);

    const saved = JSON.parse(await readFile(checkpointFile, 'utf8')) as { streamArn: string; shards: Record<string, { sequenceNumber?: string }> };
    expect(saved.streamArn).toBe(resources.streamArn);
    expect(Object.values(saved.shards)[0]?.sequenceNumber).toBeDefined();

    // A restart resumes after the last processed record: only what was written meanwhile is delivered. Once the source
    // has caught up with everything written before it started, anything a lost checkpoint re-read has come through.
    await putTicket(resources, '4');
    await putTicket(resources, '5');
    batches.length = 0;
    source = await start();
    const restartedAt = Date.now();
    try {
      await expect.poll(() => source.caughtUpSince(restartedAt), POLL).toBe(true);
    } finally {
      await source.stop();
    }
    expect(customers().flat()).toEqual(['4', '5']);

    // Without a checkpoint (in-memory mode) a new source starts at the oldest record.
    batches.length = 0;
    const memory = await startStreamEventSource({
      name: 'test-memory',
      streams,
      streamArn: resources.streamArn,
      filter: isNotifyRecord,
      pollIntervalMs: 50,
      handler: async (event) => {
        batches.push(event.Records);
      },
    });
    const memoryStartedAt = Date.now();
    try {
      await expect.poll(() => memory.caughtUpSince(memoryStartedAt), POLL).toBe(true);
    } finally {
      await memory.stop();
    }
    expect(customers().flat()).toEqual(['1', '2', '3', '4', '5']);
  }, TEST_TIMEOUT);
});

describe('HTTP API server', () => {
  const events: APIGatewayProxyEventV2[] = [];
  let server: HttpServer;
  beforeAll(async () => {
    server = await startHttpServer({
      port: 0,
      maxBodyBytes: 1024,
      routes: [...HTTP_ROUTES, { routeKey: 'GET /boom', target: 'helpdeskApi' }],
      log: () => {},
      handlers: {
        webhook: async (event) => {
          events.push(event);
          return { statusCode: 200, headers: { 'Content-Type': 'application/json' }, body: '{"ok":true}' };
        },
        helpdeskApi: async (event) => {
          events.push(event);
          if (event.rawPath === '/boom') throw new Error('handler bug');
          return {
            statusCode: 201,
            headers: { 'X-Answer': 'yes' },
            cookies: ['session=1; HttpOnly'],
            body: Buffer.from([0xde, 0xad]).toString('base64'),
            isBase64Encoded: true,
          };
        },
      },
    });
  });
  afterAll(() => server.stop());

  const send = (method: string, path: string, headers: Record<string, string | string[]>, body?: Buffer) =>
    new Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }>((resolveSend, reject) => {
      const req = request(`${server.url}${path}`, { method, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolveSend({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      });
      req.on('error', reject);
      req.end(body);
    });

  it('hands the function a payload 2.0 event with the raw body as base64 and the query parsed', async () => {
    events.length = 0;
    const raw = Buffer.from([0x7b, 0xff, 0x00, 0xc3, 0x28, 0x7d]);
    const answer = await send(
      'POST',
      '/x/webhook?crc_token=abc%3D&a=1&a=2',
      { 'Content-Type': 'application/octet-stream', 'X-Dup': ['one', 'two'], Cookie: 'a=1; b=2', 'User-Agent': 'test-agent' },
      raw,
    );
    expect(answer.status).toBe(200);
    const event = events[0];
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'POST /x/webhook',
      rawPath: '/x/webhook',
      rawQueryString: 'crc_token=abc%3D&a=1&a=2',
      queryStringParameters: { crc_token: 'abc=', a: '1,2' },
      cookies: ['a=1', 'b=2'],
      isBase64Encoded: true,
      requestContext: {
        http: { method: 'POST', path: '/x/webhook', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test-agent' },
        stage: '$default',
        routeKey: 'POST /x/webhook',
        domainName: '127.0.0.1',
      },
    });
    expect(Buffer.from(event?.body ?? '', 'base64').equals(raw)).toBe(true);
    expect(event?.headers['x-dup']).toBe('one,two');
    expect(event?.headers['content-type']).toBe('application/octet-stream');
    expect(event?.headers.cookie).toBeUndefined();
    expect(event?.requestContext.requestId).toEqual(expect.any(String));
    expect(event?.requestContext.time).toMatch(/^\d{2}\/\w{3}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
  });

  it('fills path parameters, maps structured results back, and answers 500 when the function throws', async () => {
    events.length = 0;
    const answer = await send('GET', '/tickets/mn-1-1', {});
    expect(events[0]).toMatchObject({ routeKey: 'GET /tickets/{ticketId}', pathParameters: { ticketId: 'mn-1-1' }, isBase64Encoded: false });
    expect(events[0]?.body).toBeUndefined();
    expect(answer.status).toBe(201);
    expect(answer.headers['x-answer']).toBe('yes');
    expect(answer.headers['set-cookie']).toEqual(['session=1; HttpOnly']);
    expect([...answer.body]).toEqual([0xde, 0xad]);

    const failed = await send('GET', '/boom', {});
    expect(failed.status).toBe(500);
    expect(JSON.parse(failed.body.toString())).toEqual({ error: { code: 'internal', message: 'internal error' } });
    expect(events.at(-1)?.routeKey).toBe('GET /boom');
  });

  it('answers 404 like API Gateway for a path or method no route declares, without calling a function', async () => {
    events.length = 0;
    for (const [method, path] of [
      ['GET', '/nowhere'],
      ['DELETE', '/tickets/mn-1-1'],
      ['PUT', '/x/webhook'],
    ] as const) {
      const answer = await send(method, path, {});
      expect(answer.status).toBe(404);
      expect(JSON.parse(answer.body.toString())).toEqual({ message: 'Not Found' });
    }
    expect(events).toHaveLength(0);
  });

  it('answers 413 above the payload limit without calling the function', async () => {
    events.length = 0;
    const declared = await send('POST', '/x/webhook', { 'Content-Type': 'application/json' }, Buffer.alloc(2048, 0x61));
    expect(declared.status).toBe(413);
    const chunked = await new Promise<number>((resolveChunked, reject) => {
      const req = request(`${server.url}/x/webhook`, { method: 'POST', headers: { 'Transfer-Encoding': 'chunked' } }, (res) => {
        res.resume();
        resolveChunked(res.statusCode ?? 0);
      });
      req.on('error', reject);
      for (let i = 0; i < 4; i++) req.write(Buffer.alloc(512, 0x62));
      req.end();
    });
    expect(chunked).toBe(413);
    expect(events).toHaveLength(0);
  });
});

describe('local bridge', () => {
  const refused = (port: number) =>
    new Promise<boolean>((resolveRefused) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolveRefused(false)));
      socket.once('error', () => resolveRefused(true));
    });

  it('wires inline functions end to end and stops without leaving ports or java behind', async () => {
    const delivered: string[] = [];
    const bridge = await startLocalBridge({
      port: 0,
      inMemory: true,
      pollIntervalMs: 50,
      log: () => {},
      handlers: {
        webhook: (config, clients) => async (event) => {
          const text = Buffer.from(event.body ?? '', 'base64').toString('utf8');
          await clients?.sqs.send(new SendMessageCommand({ QueueUrl: config.aws.inboundQueueUrl, MessageBody: text }));
          return { statusCode: 200, body: '{}' };
        },
        ingest: (config, clients) => async (event) => {
          for (const record of event.Records) {
            await clients?.dynamodb.send(
              new PutItemCommand({
                TableName: config.aws.tableName,
                Item: marshall({ ...keys.ticket({ customerXUserId: record.body, channel: 'dm', generation: 1 }) }),
              }),
            );
          }
        },
        notify: () => async (event) => {
          for (const record of event.Records) {
            if ('dynamodb' in record) delivered.push(String(record.dynamodb?.Keys?.pk?.S));
          }
        },
      },
    });
    const ports = [bridge.port, Number(new URL(bridge.endpoints.dynamodb).port), Number(new URL(bridge.endpoints.sqs).port)];
    try {
      const response = await fetch(`${bridge.url}/x/webhook`, { method: 'POST', body: '42' });
      expect(response.status).toBe(200);
      const report = await bridge.waitForIdle({ timeoutMs: POLL.timeout });
      expect(delivered).toEqual(['CUST#42']);
      expect(report.queues.inbound).toMatchObject({ visible: 0, notVisible: 0, deadLetters: 0 });
      const counts = bridge.requestCounts();
      expect(counts.sqs.SendMessage?.calls).toBe(1);
      expect(counts.dynamodb.PutItem?.calls).toBe(1);
      expect(counts.dynamodbCapacityUnits).toBeGreaterThan(0);
      expect(counts.eventSources.ingest?.ReceiveMessage).toBeGreaterThan(0);
      // A path with no function behind it locally.
      expect((await fetch(`${bridge.url}/tickets`)).status).toBe(503);
    } finally {
      await bridge.stop();
    }
    for (const port of ports) expect(await refused(port)).toBe(true);
    const java = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
      .split('\n')
      .filter((line) => line.includes('DynamoDBLocal.jar') && line.includes(`-port ${ports[1]}`));
    expect(java).toEqual([]);
  }, TEST_TIMEOUT);
});
