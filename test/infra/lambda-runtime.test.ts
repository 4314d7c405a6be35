// What `cdk deploy` ships, run as Lambda runs it. The example brand's stack is synthesized with its real esbuild
// bundling; each function's asset folder (what the CLI zips and uploads) is loaded from outside the repository by
// Node 24 (the `nodejs24.x` runtime's Node), with the AWS SDK reachable only through NODE_PATH, as Lambda provides it
// (infra/local/lambda-runtime.ts). Each function gets the environment the template gives it and a real event of its
// kind, against DynamoDB Local, the SQS emulator, a Secrets Manager, X and a helpdesk on loopback:
//   x-webhook: X's CRC challenge and a signed delivery, as API Gateway's HTTP API hands them over;
//   ingest: the SQS batch holding what the webhook queued;       notify: the table stream's batch for the new ticket;
//   helpdesk-api: a list and a reply request with the bearer token; reply: the SQS batch holding that request;
//   reconcile: the scheduler's tick.
// Secrets take the production path: SECRET_ARN from the template, read with the SDK's Secrets Manager client (its
// endpoint variable points at the loopback fake, as the stack's role would reach AWS's).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DescribeStreamCommand, DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-dynamodb-streams';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBRecord, SQSEvent, SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { FUNCTION_NAMES, type FunctionName } from '../../infra/constructs/bridge-function';
import { ensureLambdaRuntime, LAMBDA_NODE_VERSION, startLambdaProcess, type LambdaProcess, type LambdaRuntime } from '../../infra/local/lambda-runtime';
import { ensureResources, LOCAL_AWS, type LocalResources } from '../../infra/local/services';
import { toRecord } from '../../infra/local/sqs-event-source';
import { toLambdaRecord } from '../../infra/local/stream-event-source';
import { PROJECT_ROOT } from '../../infra/stack';
import { createApp } from '../../infra/support-bridge-app';
import type { HttpEvent, HttpResult } from '../../shared/http';
import { crcResponseToken, signWebhookBody } from '../../shared/x/signature';
import { FakeSecretsManager } from '../support/fake-secrets-manager';
import { FakeXServer } from '../support/fake-x-server';
import { createHelpdeskReceiver, type HelpdeskReceiver } from '../support/helpdesk-receiver';
import { xaaMention, type XUserRef } from '../support/x-payloads';
import { Webhook } from 'standardwebhooks';

type Template = {
  Resources: Record<
    string,
    {
      Type: string;
      Properties?: { Handler?: string; MemorySize?: number; Environment?: { Variables?: Record<string, unknown> } };
      Metadata?: Record<string, unknown>;
    }
  >;
};

const BRAND = JSON.parse(readFileSync(join(PROJECT_ROOT, 'infra', 'brands', 'example.json'), 'utf8')) as {
  xBotUserId: string;
  xBotUsername: string;
};
const BOT: XUserRef = { id: BRAND.xBotUserId, username: BRAND.xBotUsername, name: 'Example Support' };
const CUSTOMER: XUserRef = { id: '1357924680', username: 'jane_doe_dev', name: 'Jane Doe' };

/** The brand's secret as ops fill it (README, Deploying a brand, step 3). */
const SECRET = {
  X_API_KEY: randomBytes(12).toString('hex'),
  X_API_SECRET: randomBytes(24).toString('hex'),
  X_ACCESS_TOKEN: `${BOT.id}-${randomBytes(16).toString('hex')}`,
  X_ACCESS_TOKEN_SECRET: randomBytes(20).toString('hex'),
  HELPDESK_WEBHOOK_SECRET: `whsec_${randomBytes(32).toString('base64')}`,
  HELPDESK_API_TOKEN: randomBytes(24).toString('hex'),
};

/** The SDK packages each function loads (test/infra/function-bundles.test.ts checks the bundles name no others). */
const SDK_PACKAGES = ['@aws-sdk/client-dynamodb', '@aws-sdk/client-secrets-manager', '@aws-sdk/client-sqs', '@aws-sdk/util-dynamodb'];

const CDK_JSON = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };

let runtime: LambdaRuntime;
let outdir: string;
let template: Template;
let resources: LocalResources;
let secretArn: string;
let sm: FakeSecretsManager;
let x: FakeXServer;
let helpdesk: HelpdeskReceiver;
let dynamodb: DynamoDBClient;
let sqs: SQSClient;
const running: Partial<Record<FunctionName, LambdaProcess>> = {};

/** Each function's resource in the template, found by its construct id (`XWebhook/Function/Resource`). */
function functionResource(name: FunctionName) {
  const pascal = name.replace(/(^|-)(\w)/g, (_, __: string, c: string) => c.toUpperCase());
  const entries = Object.entries(template.Resources).filter(
    ([id, r]) => r.Type === 'AWS::Lambda::Function' && new RegExp(`^${pascal}Function[0-9A-F]{8}$`).test(id),
  );
  expect(entries, name).toHaveLength(1);
  return entries[0]![1];
}

/**
 * The template's environment with CloudFormation's references resolved to the loopback resources. A variable the
 * test cannot resolve fails here: a new reference in the stack must get a local stand-in.
 */
function environmentOf(name: FunctionName): Record<string, string> {
  const local: Record<string, string> = {
    TABLE_NAME: resources.tableName,
    INBOUND_QUEUE_URL: resources.queues.inbound.url,
    REPLY_QUEUE_URL: resources.queues.reply.url,
    NOTIFY_RETRY_QUEUE_URL: resources.queues.notifyRetry.url,
    ATTACHMENTS_BUCKET: 'support-bridge-example-attachments',
    SECRET_ARN: secretArn,
  };
  const variables = functionResource(name).Properties?.Environment?.Variables ?? {};
  return Object.fromEntries(
    Object.entries(variables).map(([key, value]) => {
      if (typeof value === 'string') return [key, value];
      if (!(key in local)) throw new Error(`${name}: no local stand-in for ${key} = ${JSON.stringify(value)}`);
      return [key, local[key]!];
    }),
  );
}

/** Starts (once) the function's execution environment from its deployment asset. */
async function lambda(name: FunctionName): Promise<LambdaProcess> {
  const existing = running[name];
  if (existing) return existing;
  const started = await startFunction(name, secretArn);
  running[name] = started;
  return started;
}

/** A new execution environment of the function, reading the secret at `arn`. */
async function startFunction(name: FunctionName, arn: string, helpdeskUrl = helpdesk.url): Promise<LambdaProcess> {
  const resource = functionResource(name);
  return startLambdaProcess({
    runtime,
    taskRoot: join(outdir, resource.Metadata?.['aws:asset:path'] as string),
    handler: resource.Properties?.Handler ?? '',
    environment: { ...environmentOf(name), ...(environmentOf(name).SECRET_ARN ? { SECRET_ARN: arn } : {}) },
    functionName: `support-bridge-example-${name}`,
    memorySize: resource.Properties?.MemorySize,
    sdkPackages: SDK_PACKAGES,
    // The test's plumbing only: where AWS, X and the helpdesk are on loopback.
    extra: {
      AWS_REGION: LOCAL_AWS.region,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: sm.url,
      DYNAMODB_ENDPOINT: inject('dynamodbEndpoint'),
      SQS_ENDPOINT: inject('sqsEndpoint'),
      X_API_BASE_URL: x.url,
      HELPDESK_WEBHOOK_URL: helpdeskUrl,
    },
  });
}

function httpEvent(method: string, path: string, init: { query?: Record<string, string>; headers?: Record<string, string>; body?: Buffer } = {}): HttpEvent {
  return {
    version: '2.0',
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString: new URLSearchParams(init.query ?? {}).toString(),
    headers: { host: 'api.example.com', ...init.headers },
    ...(init.query ? { queryStringParameters: init.query } : {}),
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'api.example.com',
      domainPrefix: 'api',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'test' },
      requestId: randomBytes(8).toString('hex'),
      routeKey: `${method} ${path}`,
      stage: '$default',
      time: '04/Dec/2026:06:00:00 +0000',
      timeEpoch: Date.now(),
    },
    // API Gateway hands a JSON body over base64-encoded when it chooses to: the webhook must take the raw bytes.
    ...(init.body ? { body: init.body.toString('base64'), isBase64Encoded: true } : { isBase64Encoded: false }),
  };
}

/** What is on a queue now, as the batch Lambda's SQS poller would hand the function. */
async function sqsBatch(queue: keyof LocalResources['queues'], expected: number): Promise<SQSEvent> {
  const { url, arn } = resources.queues[queue];
  const records: SQSRecord[] = [];
  for (let attempt = 0; attempt < 20 && records.length < expected; attempt++) {
    const received = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageSystemAttributeNames: ['All'], MessageAttributeNames: ['All'] }),
    );
    records.push(...(received.Messages ?? []).map((m) => toRecord(m, arn, LOCAL_AWS.region)));
  }
  return { Records: records };
}

/** The stream's records so far that pass the stack's filter for notify (ticket items), as Lambda hands them over. */
async function ticketStreamBatch(): Promise<{ Records: DynamoDBRecord[] }> {
  const streams = new DynamoDBStreamsClient({ endpoint: inject('dynamodbEndpoint'), ...LOCAL_AWS });
  try {
    const stream = await streams.send(new DescribeStreamCommand({ StreamArn: resources.streamArn }));
    const records: DynamoDBRecord[] = [];
    for (const shard of stream.StreamDescription?.Shards ?? []) {
      const { ShardIterator } = await streams.send(
        new GetShardIteratorCommand({ StreamArn: resources.streamArn, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }),
      );
      const got = await streams.send(new GetRecordsCommand({ ShardIterator }));
      records.push(...(got.Records ?? []).map((r) => toLambdaRecord(r, resources.streamArn, LOCAL_AWS.region)));
    }
    return {
      Records: records.filter(
        (r) =>
          (r.eventName === 'INSERT' || r.eventName === 'MODIFY') &&
          r.dynamodb?.NewImage?.pk?.S?.startsWith('CUST#') === true &&
          r.dynamodb.NewImage.sk?.S?.startsWith('TICKET#') === true,
      ),
    };
  } finally {
    streams.destroy();
  }
}

beforeAll(async () => {
  // The runtime (cached after the first install) and the synth, with real bundling, side by side.
  const synthesized = (async () => {
    outdir = mkdtempSync(join(tmpdir(), 'sb-lambda-assets-'));
    // The CLI asks for asset metadata (each function's asset folder); an App built here must ask for it too.
    const { app } = createApp({ only: 'example', outdir, context: { ...CDK_JSON.context, 'aws:cdk:enable-asset-metadata': true } });
    app.synth();
    template = JSON.parse(readFileSync(join(outdir, 'SupportBridge-example.template.json'), 'utf8')) as Template;
  })();
  [runtime] = await Promise.all([ensureLambdaRuntime(), synthesized]);

  sm = new FakeSecretsManager();
  x = new FakeXServer({
    credentials: {
      consumerKey: SECRET.X_API_KEY,
      consumerSecret: SECRET.X_API_SECRET,
      accessToken: SECRET.X_ACCESS_TOKEN,
      accessTokenSecret: SECRET.X_ACCESS_TOKEN_SECRET,
    },
  });
  helpdesk = createHelpdeskReceiver(SECRET.HELPDESK_WEBHOOK_SECRET);
  await Promise.all([sm.start(), x.start(), helpdesk.start()]);
  secretArn = sm.createSecret('support-bridge/example', JSON.stringify(SECRET));

  dynamodb = new DynamoDBClient({ endpoint: inject('dynamodbEndpoint'), ...LOCAL_AWS });
  sqs = new SQSClient({ endpoint: inject('sqsEndpoint'), ...LOCAL_AWS });
  const id = randomBytes(4).toString('hex');
  resources = await ensureResources({ dynamodb, sqs }, { tableName: `lambda-runtime-${id}`, queuePrefix: `lambda-runtime-${id}` });
}, 300_000);

afterAll(async () => {
  await Promise.all(Object.values(running).map((p) => p.stop()));
  await Promise.all([sm?.stop(), x?.stop(), helpdesk?.stop()]);
  dynamodb?.destroy();
  sqs?.destroy();
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

describe(`the deployment assets on Lambda's runtime (Node ${LAMBDA_NODE_VERSION}, SDK only on NODE_PATH)`, () => {
  it.each(FUNCTION_NAMES)('%s loads from its asset, with the SDK resolving from NODE_PATH alone, and no fetch at init', async (name) => {
    const fn = await lambda(name);
    expect(fn.version).toBe(runtime.nodeVersion);
    // An ESM import of node:http loads Node's fetch implementation (~20 ms of the cold start); none needs it at init.
    expect(fn.fetchAtInit).toBe(false);
    for (const [pkg, path] of Object.entries(fn.resolved)) {
      expect(path, pkg).not.toBeNull();
      expect(path!.startsWith(runtime.nodePath), `${pkg} resolved from ${path}`).toBe(true);
    }
  });

  let ticketId: string;

  it('x-webhook answers X\'s CRC challenge and queues a signed delivery', async () => {
    const fn = await lambda('x-webhook');
    const crc = (await fn.invoke(httpEvent('GET', '/x/webhook', { query: { crc_token: 'challenge_string' } }))) as HttpResult;
    expect(crc.statusCode).toBe(200);
    expect(JSON.parse(String(crc.body))).toEqual({ response_token: crcResponseToken(SECRET.X_API_SECRET, 'challenge_string') });

    const body = Buffer.from(
      JSON.stringify(xaaMention({ author: CUSTOMER, forUserId: BOT.id, text: `@${BOT.username} my order never came`, knownUsers: [BOT] })),
    );
    const headers = { 'content-type': 'application/json', 'x-twitter-webhooks-signature': signWebhookBody(SECRET.X_API_SECRET, body) };
    const answer = (await fn.invoke(httpEvent('POST', '/x/webhook', { headers, body }))) as HttpResult;
    expect(answer.statusCode, String(answer.body)).toBe(200);
    expect(JSON.parse(String(answer.body))).toEqual({ queued: 1 });

    const forged = (await fn.invoke(
      httpEvent('POST', '/x/webhook', { headers: { ...headers, 'x-twitter-webhooks-signature': signWebhookBody('not-the-secret', body) }, body }),
    )) as HttpResult;
    expect(forged.statusCode).toBe(401);
  });

  it('ingest opens the ticket from the SQS batch the webhook queued', async () => {
    const batch = await sqsBatch('inbound', 1);
    expect(batch.Records).toHaveLength(1);
    const answer = await (await lambda('ingest')).invoke(batch);
    expect(answer).toEqual({ batchItemFailures: [] });
  });

  it('notify delivers ticket.created from the table stream\'s batch, signed with the secret\'s key', async () => {
    const batch = await ticketStreamBatch();
    expect(batch.Records.length).toBeGreaterThan(0);
    const answer = await (await lambda('notify')).invoke(batch);
    expect(answer).toEqual({ batchItemFailures: [] });
    const events = await helpdesk.waitFor((received) => received.some((e) => e.type === 'ticket.created'));
    const created = events.find((e) => e.type === 'ticket.created');
    ticketId = created?.json.data.ticket?.id ?? '';
    expect(ticketId).toMatch(/\S/);
  });

  it('helpdesk-api lists the ticket for the bearer token, refuses others, and queues a reply', async () => {
    const fn = await lambda('helpdesk-api');
    const auth = { authorization: `Bearer ${SECRET.HELPDESK_API_TOKEN}` };
    const list = (await fn.invoke(httpEvent('GET', '/tickets', { headers: auth }))) as HttpResult;
    expect(list.statusCode, String(list.body)).toBe(200);
    expect((JSON.parse(String(list.body)) as { tickets: { id: string }[] }).tickets.map((t) => t.id)).toEqual([ticketId]);

    const refused = (await fn.invoke(httpEvent('GET', '/tickets', { headers: { authorization: 'Bearer not-the-token-at-all' } }))) as HttpResult;
    expect(refused.statusCode).toBe(401);

    const reply = (await fn.invoke(
      httpEvent('POST', `/tickets/${ticketId}/replies`, {
        headers: { ...auth, 'content-type': 'application/json', 'idempotency-key': 'lambda-runtime-1' },
        body: Buffer.from(JSON.stringify({ text: 'Sorry about that, checking now.' })),
      }),
    )) as HttpResult;
    expect(reply.statusCode, String(reply.body)).toBe(202);
  });

  it('reply posts the queued reply to X from the SQS batch', async () => {
    const batch = await sqsBatch('reply', 1);
    expect(batch.Records).toHaveLength(1);
    const answer = await (await lambda('reply')).invoke(batch);
    expect(answer).toEqual({ batchItemFailures: [] });
    const posted = x.requestsTo('POST', '/2/tweets');
    expect(posted.map((r) => (r.body as { text: string }).text)).toEqual(['Sorry about that, checking now.']);
  });

  it('reconcile runs on the scheduler\'s tick, reading X as the bot account', async () => {
    const tick = { 'detail-type': 'Scheduled Event', source: 'aws.scheduler', time: new Date().toISOString(), detail: {} };
    const report = (await (await lambda('reconcile')).invoke(tick)) as { outcome: string };
    expect(report.outcome, JSON.stringify(report)).toBe('done');
    expect(x.requestsTo('GET', /^\/2\/users\/\d+\/mentions$/).length).toBeGreaterThan(0);
  });

  it('every function read its secret from Secrets Manager once per execution environment, x-webhook again for the CRC', () => {
    // The CRC is answered with the consumer secret as it is now (X checks it about hourly): one read each.
    expect(sm.requestsFor('GetSecretValue').filter((r) => r.secretId === secretArn)).toHaveLength(FUNCTION_NAMES.length + 1);
  });
});

// README, Operating a brand, "Rotating a secret": each step as ops take it, on the deployed code.
describe('rotating the secrets on Lambda\'s runtime', () => {
  const NEW = {
    X_API_SECRET: randomBytes(24).toString('hex'),
    HELPDESK_WEBHOOK_SECRET: `whsec_${randomBytes(32).toString('base64')}`,
    HELPDESK_API_TOKEN: randomBytes(24).toString('hex'),
  };
  const later = new Date(Date.now() + 60 * 60 * 1000).toISOString();
  let rotatedArn: string;
  const started: LambdaProcess[] = [];
  const start = async (name: FunctionName, helpdeskUrl?: string) => {
    const fn = await startFunction(name, rotatedArn, helpdeskUrl);
    started.push(fn);
    return fn;
  };
  const delivery = (secret: string) => {
    const body = Buffer.from(JSON.stringify(xaaMention({ author: CUSTOMER, forUserId: BOT.id, text: `@${BOT.username} still nothing`, knownUsers: [BOT] })));
    return httpEvent('POST', '/x/webhook', { headers: { 'x-twitter-webhooks-signature': signWebhookBody(secret, body) }, body });
  };
  const ops = () => new SecretsManagerClient({ endpoint: sm.url, ...LOCAL_AWS });
  /** What ops read and put with the AWS CLI (README, Deploying a brand, step 3). */
  const currentValue = async (): Promise<Record<string, string>> => {
    const client = ops();
    try {
      return JSON.parse((await client.send(new GetSecretValueCommand({ SecretId: rotatedArn }))).SecretString ?? '{}') as Record<string, string>;
    } finally {
      client.destroy();
    }
  };
  const putValue = async (value: Record<string, string>): Promise<void> => {
    const client = ops();
    try {
      await client.send(new PutSecretValueCommand({ SecretId: rotatedArn, SecretString: JSON.stringify(value) }));
    } finally {
      client.destroy();
    }
  };
  const status = async (fn: LambdaProcess, event: HttpEvent) => ((await fn.invoke(event)) as HttpResult).statusCode;

  beforeAll(() => {
    // The overlap: the new values in place, the old ones kept as *_PREVIOUS.
    rotatedArn = sm.createSecret(
      'support-bridge/example-rotated',
      JSON.stringify({
        ...SECRET,
        ...NEW,
        X_API_SECRET_PREVIOUS: SECRET.X_API_SECRET,
        HELPDESK_WEBHOOK_SECRET_PREVIOUS: SECRET.HELPDESK_WEBHOOK_SECRET,
        HELPDESK_API_TOKEN_PREVIOUS: SECRET.HELPDESK_API_TOKEN,
        HELPDESK_API_TOKEN_PREVIOUS_UNTIL: later,
      }),
    );
  });
  afterAll(async () => {
    await Promise.all(started.map((fn) => fn.stop()));
  });

  it('x-webhook takes deliveries signed with either consumer secret, and answers the CRC with the new one', async () => {
    const fn = await start('x-webhook');
    expect(await status(fn, delivery(NEW.X_API_SECRET))).toBe(200);
    expect(await status(fn, delivery(SECRET.X_API_SECRET))).toBe(200);
    expect(await status(fn, delivery(randomBytes(24).toString('hex')))).toBe(401);
    const crc = (await fn.invoke(httpEvent('GET', '/x/webhook', { query: { crc_token: 'after_rotation' } }))) as HttpResult;
    expect(JSON.parse(String(crc.body))).toEqual({ response_token: crcResponseToken(NEW.X_API_SECRET, 'after_rotation') });
  });

  it('x-webhook answers a CRC with a consumer secret put after its cold start, without waiting for the refresh', async () => {
    const fn = await start('x-webhook');
    expect(await status(fn, delivery(NEW.X_API_SECRET))).toBe(200);
    const newest = randomBytes(24).toString('hex');
    const secret = await currentValue();
    await putValue({ ...secret, X_API_SECRET: newest, X_API_SECRET_PREVIOUS: NEW.X_API_SECRET });
    const crc = (await fn.invoke(httpEvent('GET', '/x/webhook', { query: { crc_token: 'right_after' } }))) as HttpResult;
    expect(JSON.parse(String(crc.body))).toEqual({ response_token: crcResponseToken(newest, 'right_after') });
    expect(await status(fn, delivery(newest))).toBe(200);
    await putValue(secret);
  });

  it('notify signs each event with both helpdesk secrets (v1,<new> v1,<old>), so either verifies it', async () => {
    const oldSide = createHelpdeskReceiver(SECRET.HELPDESK_WEBHOOK_SECRET);
    await oldSide.start();
    try {
      const fn = await start('notify', oldSide.url);
      expect(await fn.invoke(await ticketStreamBatch())).toEqual({ batchItemFailures: [] });
      const [event] = await oldSide.waitFor((events) => events.length > 0);
      expect(event?.headers['webhook-signature']).toMatch(/^v1,\S+ v1,\S+$/);
      const headers = { 'webhook-id': event!.headers['webhook-id']!, 'webhook-timestamp': event!.headers['webhook-timestamp']!, 'webhook-signature': event!.headers['webhook-signature']! };
      expect(() => new Webhook(NEW.HELPDESK_WEBHOOK_SECRET).verify(event!.body, headers)).not.toThrow();
      expect(() => new Webhook(SECRET.HELPDESK_WEBHOOK_SECRET).verify(event!.body, headers)).not.toThrow();
      expect(() => new Webhook(`whsec_${randomBytes(32).toString('base64')}`).verify(event!.body, headers)).toThrow();
    } finally {
      await oldSide.stop();
    }
  });

  it('helpdesk-api takes the new token and the previous one until its end, and refuses the previous one after it', async () => {
    const during = await start('helpdesk-api');
    const list = (token: string) => httpEvent('GET', '/tickets', { headers: { authorization: `Bearer ${token}` } });
    expect(await status(during, list(NEW.HELPDESK_API_TOKEN))).toBe(200);
    expect(await status(during, list(SECRET.HELPDESK_API_TOKEN))).toBe(200);

    const secret = await currentValue();
    await putValue({ ...secret, HELPDESK_API_TOKEN_PREVIOUS_UNTIL: new Date(Date.now() - 1000).toISOString() });
    const after = await start('helpdesk-api');
    expect(await status(after, list(NEW.HELPDESK_API_TOKEN))).toBe(200);
    expect(await status(after, list(SECRET.HELPDESK_API_TOKEN))).toBe(401);
    await putValue(secret);
  });
});

// Stacks name the .ts sources though the stack sets no NODE_OPTIONS=--enable-source-maps (which cost every cold start
// ~10 ms): the bundle maps its own frames when a stack is first written (shared/source-map-stacks.ts).
describe('error stacks on Lambda\'s runtime, without --enable-source-maps', () => {
  it('an error x-webhook logs names the TypeScript source it was thrown in, line and column', async () => {
    for (const name of FUNCTION_NAMES) expect(functionResource(name).Properties?.Environment?.Variables?.NODE_OPTIONS, name).toBeUndefined();
    const arn = sm.createSecret('support-bridge/example-stacks', JSON.stringify(SECRET));
    const fn = await startFunction('x-webhook', arn);
    const client = new SecretsManagerClient({ endpoint: sm.url, ...LOCAL_AWS });
    try {
      const crc = httpEvent('GET', '/x/webhook', { query: { crc_token: 'challenge_string' } });
      expect(((await fn.invoke(crc)) as HttpResult).statusCode).toBe(200);
      // A value that is not JSON: the CRC's re-read fails, is logged with its error, and the secret in hand answers.
      await client.send(new PutSecretValueCommand({ SecretId: arn, SecretString: 'not json' }));
      expect(((await fn.invoke(crc)) as HttpResult).statusCode).toBe(200);
      const logged = fn
        .output()
        .split('\n')
        .flatMap((line) => {
          try {
            return [JSON.parse(line) as { message?: string; error?: { name: string; location: string; stack: string } }];
          } catch {
            return [];
          }
        })
        .find((line) => line.message === 'could not read the secret again; using the one in hand');
      expect(logged?.error?.name, fn.output().slice(-2000)).toBe('ConfigError');
      const [header, top, ...rest] = logged!.error!.stack.split('\n');
      expect(header).toMatch(/^ConfigError: Invalid configuration: the secret at SECRET_ARN/);
      expect(top).toMatch(/^ {4}at .*\/shared\/aws\/lambda-secrets\.ts:\d+:\d+\)?$/);
      // No frame is left pointing into the minified bundle.
      for (const frame of [top, ...rest]) expect(frame, logged!.error!.stack).not.toMatch(/index\.mjs/);
      expect(rest.some((frame) => /\/functions\/x-webhook\/handler\.ts:\d+:\d+\)?$/.test(frame)), logged!.error!.stack).toBe(true);
    } finally {
      client.destroy();
      await fn.stop();
    }
  });
});
