// The functions' secret path as it runs on Lambda: each handler built exactly as its `export const handler` builds it
// (lazyHandler over configWithSecrets(FUNCTION_SECRETS[name])), in the environment the stack gives that function
// (SECRET_ARN, the table and queue variables), with the real SDK client reaching a Secrets Manager on loopback
// through the SDK's own endpoint variable (AWS_ENDPOINT_URL_SECRETS_MANAGER), as it would reach AWS's.
// Proved here: a function gets only the values FUNCTION_SECRETS lists for it, from the secret and never from the
// environment; a new, malformed or missing secret stops it with a message naming the key, never the value; a rotated
// value is picked up at the first invocation after the 5-minute refresh and not before; no value reaches a log line.
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBStreamEvent, SQSEvent } from 'aws-lambda';
import { interceptLocalhostDns } from 'fauxqs';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { createHelpdeskApiHandler } from '../../functions/helpdesk-api/handler';
import { createNotifyHandler } from '../../functions/notify/handler';
import { createReconcileHandler } from '../../functions/reconcile/handler';
import { createReplyHandler } from '../../functions/reply/handler';
import { createWebhookHandler } from '../../functions/x-webhook/handler';
import { LOCAL_AWS } from '../../infra/local/services';
import { lazyHandler } from '../../shared/aws/lambda-config';
import { configWithSecrets } from '../../shared/aws/lambda-secrets';
import { FUNCTION_SECRETS } from '../../shared/aws/resources';
import { SECRET_KEYS, type Config, type SecretName } from '../../shared/config';
import type { HttpEvent, HttpResult } from '../../shared/http';
import { logger } from '../../shared/logger';
import { crcResponseToken, signWebhookBody } from '../../shared/x/signature';
import { FakeSecretsManager } from '../support/fake-secrets-manager';
import { captureLogs, type LogCapture } from '../support/log-capture';
import { distinctiveSecret, secretLeakScanner } from '../support/secret-leaks';
import { BOT, xaaMention } from '../support/x-payloads';

type FunctionName = keyof typeof FUNCTION_SECRETS;
type SecretFunction = Exclude<FunctionName, 'ingest'>;

/** A brand's secret as ops fill it (README, Deploying a brand, step 3), every value random. */
function brandSecret(): Record<SecretName, string> {
  return {
    X_API_KEY: distinctiveSecret(25),
    X_API_SECRET: distinctiveSecret(50),
    X_ACCESS_TOKEN: `${BOT.id}-${distinctiveSecret(40)}`,
    X_ACCESS_TOKEN_SECRET: distinctiveSecret(45),
    HELPDESK_WEBHOOK_SECRET: `whsec_${randomBytes(32).toString('base64')}`,
    HELPDESK_API_TOKEN: distinctiveSecret(48),
    X_CHAT_KEYS: JSON.stringify({ pin: distinctiveSecret(12), keyVersion: '1796364132931', juiceboxConfig: JSON.stringify({ realms: [] }) }),
  };
}

/** Every secret value this file puts anywhere, and every error a function failed with: searched at the end. */
const usedValues = new Map<string, string | Buffer>();
const failures: unknown[] = [];
function remember<T extends Record<string, string>>(label: string, secret: T): T {
  for (const [key, value] of Object.entries(secret)) {
    if (value.length < 8) continue;
    // X's access tokens start with the account's id, which is public: only the rest is secret.
    usedValues.set(`${label} ${key}`, key === 'X_ACCESS_TOKEN' ? value.slice(BOT.id.length + 1) : value);
    if (key === 'HELPDESK_WEBHOOK_SECRET' && value.startsWith('whsec_')) usedValues.set(`${label} ${key} (key)`, Buffer.from(value.slice(6), 'base64'));
  }
  return secret;
}

let sm: FakeSecretsManager;
let ops: SecretsManagerClient;
let sqs: SQSClient;
let inboundQueueUrl: string;
let logs: LogCapture;
let restoreDns: (() => void) | undefined;
const savedEnv = { ...process.env };
/** A value set in the functions' environment by mistake: on AWS the secrets come from the secret alone. */
const ENVIRONMENT_DECOY = remember('environment', {
  X_API_SECRET: distinctiveSecret(50),
  HELPDESK_API_TOKEN: distinctiveSecret(48),
  HELPDESK_WEBHOOK_SECRET: `whsec_${randomBytes(32).toString('base64')}`,
});

/** Variables the runtime, the stack, the SDK or the bridge's config read; the test runner's own are left alone. */
const LAMBDA_VARIABLE = /^(AWS_|X_|HELPDESK_|SECRET_ARN$|TABLE_NAME$|[A-Z_]+_QUEUE_URL$|[A-Z_]+_ENDPOINT$|BRAND$|[A-Z_]+_WINDOW_HOURS$)/;

/** A queue URL of the stack's shape for the functions that are only loaded here, never sending. */
const otherQueueUrl = (suffix: string) => inboundQueueUrl.replace(/[^/]+$/, `support-bridge-acme-${suffix}`);

/** What the Lambda runtime and the stack put in a function's environment (infra/stack.ts), and nothing else. */
function becomeLambda(name: SecretFunction, secretArn: string): void {
  for (const key of Object.keys(process.env)) if (LAMBDA_VARIABLE.test(key)) delete process.env[key];
  Object.assign(process.env, {
    // The runtime's: region and the role's credentials. The SDK's endpoint variable points it at the fake, and the
    // shared config files are absent, as on Lambda.
    AWS_REGION: LOCAL_AWS.region,
    AWS_ACCESS_KEY_ID: LOCAL_AWS.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_AWS.credentials.secretAccessKey,
    AWS_CONFIG_FILE: join(tmpdir(), 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(tmpdir(), 'no-aws-credentials'),
    AWS_ENDPOINT_URL_SECRETS_MANAGER: sm.url,
    AWS_ENDPOINT_URL_SQS: new URL(inboundQueueUrl).origin,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    // The stack's.
    BRAND: 'acme',
    X_BOT_USER_ID: BOT.id,
    X_BOT_USERNAME: BOT.username,
    SECRET_ARN: secretArn,
    ...{
      'x-webhook': { INBOUND_QUEUE_URL: inboundQueueUrl },
      notify: { TABLE_NAME: 'support-bridge-acme-tickets', HELPDESK_WEBHOOK_URL: 'https://helpdesk.example.com/x-events', NOTIFY_RETRY_QUEUE_URL: otherQueueUrl('notify-retry') },
      'helpdesk-api': { TABLE_NAME: 'support-bridge-acme-tickets', REPLY_QUEUE_URL: otherQueueUrl('reply') },
      reply: { TABLE_NAME: 'support-bridge-acme-tickets', REPLY_QUEUE_URL: otherQueueUrl('reply') },
      reconcile: { TABLE_NAME: 'support-bridge-acme-tickets', INBOUND_QUEUE_URL: inboundQueueUrl },
    }[name],
    ...ENVIRONMENT_DECOY,
  });
}

const CREATE = {
  'x-webhook': createWebhookHandler,
  notify: createNotifyHandler,
  'helpdesk-api': createHelpdeskApiHandler,
  reply: (config: Config) => createReplyHandler(config),
  // A run reads X and the table; here the function is only built from its config (it refuses to build without the
  // bot's token), and the scheduler's tick is answered without a run.
  reconcile: (config: Config) => {
    if (!createReconcileHandler(config)) throw new Error('Invalid configuration: X_ACCESS_TOKEN is required by this function');
    return async () => undefined;
  },
} satisfies Record<SecretFunction, (config: Config) => unknown>;

type EventOf = {
  'x-webhook': HttpEvent;
  'helpdesk-api': HttpEvent;
  notify: DynamoDBStreamEvent | SQSEvent;
  reply: SQSEvent;
  /** EventBridge Scheduler's payload, which the function ignores. */
  reconcile: unknown;
};

/**
 * The function's handler built as its module builds it on Lambda; `configs` receives each config it is built from
 * (a new one at the cold start and after each change of the secret).
 */
function lambdaHandler<N extends SecretFunction>(name: N, configs: Config[] = []): (event: EventOf[N]) => Promise<unknown> {
  const create = CREATE[name] as unknown as (config: Config) => (event: EventOf[N]) => Promise<unknown>;
  return lazyHandler((config: Config) => {
    configs.push(config);
    return create(config);
  }, configWithSecrets(FUNCTION_SECRETS[name]));
}

function httpEvent(method: string, path: string, init: { query?: Record<string, string>; headers?: Record<string, string>; body?: Buffer } = {}): HttpEvent {
  const rawQueryString = new URLSearchParams(init.query ?? {}).toString();
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString,
    headers: init.headers ?? {},
    ...(init.query ? { queryStringParameters: init.query } : {}),
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'api.example.com',
      domainPrefix: 'api',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'test' },
      requestId: randomBytes(8).toString('hex'),
      routeKey: '$default',
      stage: '$default',
      time: '01/Jan/2026:00:00:00 +0000',
      timeEpoch: 0,
    },
    ...(init.body ? { body: init.body.toString('base64') } : {}),
    isBase64Encoded: Boolean(init.body),
  };
}

/** Events each function can take without touching the table or a queue: enough to load its config. */
const HARMLESS_EVENT: { [N in SecretFunction]: EventOf[N] } = {
  'x-webhook': httpEvent('GET', '/x/webhook', { query: { crc_token: 'harmless' } }),
  'helpdesk-api': httpEvent('GET', '/healthz'),
  notify: { Records: [] } as DynamoDBStreamEvent,
  reply: { Records: [] } as SQSEvent,
  reconcile: {},
};

/** The secret values a config carries, by name; a value the function was not given is absent. */
function secretsIn(config: Config): Partial<Record<SecretName, string>> {
  const values: Record<SecretName, string | undefined> = {
    X_API_KEY: config.x.apiKey,
    X_API_SECRET: config.x.apiSecret,
    X_ACCESS_TOKEN: config.x.accessToken,
    X_ACCESS_TOKEN_SECRET: config.x.accessTokenSecret,
    HELPDESK_WEBHOOK_SECRET: config.helpdesk.webhookSecret,
    HELPDESK_API_TOKEN: config.helpdesk.apiToken,
    X_CHAT_KEYS: config.x.chat && JSON.stringify(config.x.chat),
  };
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value)) as Partial<Record<SecretName, string>>;
}

async function crc(handler: (event: HttpEvent) => Promise<unknown>, token: string): Promise<unknown> {
  const result = (await handler(httpEvent('GET', '/x/webhook', { query: { crc_token: token } }))) as HttpResult;
  return { status: result.statusCode, body: JSON.parse(String(result.body)) as unknown };
}

async function putSecret(secretArn: string, value: Record<string, string>): Promise<void> {
  // As ops do it: `aws secretsmanager put-secret-value --secret-id … --secret-string '{…}'`.
  await ops.send(new PutSecretValueCommand({ SecretId: secretArn, SecretString: JSON.stringify(value) }));
}

/** Runs a function that must fail to start; returns its error (kept for the final search). */
async function failureOf(run: () => Promise<unknown>): Promise<Error> {
  const error = await run().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'the invocation should have failed').toBeInstanceOf(Error);
  failures.push(error);
  return error as Error;
}

const readsOf = (secretArn: string) => sm.requestsFor('GetSecretValue').filter((r) => r.secretId === secretArn).length;

beforeAll(async () => {
  sm = new FakeSecretsManager();
  await sm.start();
  ops = new SecretsManagerClient({ endpoint: sm.url, ...LOCAL_AWS });
  sqs = new SQSClient({ endpoint: inject('sqsEndpoint'), ...LOCAL_AWS });
  inboundQueueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `t-secrets-${randomBytes(4).toString('hex')}-inbound` }))).QueueUrl!;
  // The emulator's queue URLs name the host sqs.us-east-1.localhost, and an SQS client configured from the
  // environment alone (no endpoint option, as on Lambda) sends to its queue URL's host: let that name reach loopback.
  restoreDns = interceptLocalhostDns();
  logs = captureLogs();
  logger.setLogLevel('DEBUG');
});

afterEach(() => {
  vi.useRealTimers();
});

afterAll(async () => {
  logger.setLogLevel('SILENT');
  logs?.stop();
  for (const key of Object.keys(process.env)) if (LAMBDA_VARIABLE.test(key)) delete process.env[key];
  Object.assign(process.env, savedEnv);
  restoreDns?.();
  ops?.destroy();
  sqs?.destroy();
  await sm?.stop();
});

describe('each function reads its own values from the brand secret', () => {
  it('gets exactly the values FUNCTION_SECRETS lists for it, from the secret at SECRET_ARN, not from the environment', async () => {
    const secret = remember('brand', brandSecret());
    const secretArn = sm.createSecret('support-bridge/acme', JSON.stringify(secret));
    for (const name of ['x-webhook', 'notify', 'helpdesk-api', 'reply', 'reconcile'] as const) {
      becomeLambda(name, secretArn);
      const configs: Config[] = [];
      await lambdaHandler(name, configs)(HARMLESS_EVENT[name] as never);
      const expected = Object.fromEntries((FUNCTION_SECRETS[name] as readonly SecretName[]).map((key) => [key, secret[key]]));
      expect(configs.map(secretsIn), name).toEqual([expected]);
    }
    // One read per function, of the current version of the secret the stack named.
    expect(sm.requestsFor('GetSecretValue')).toEqual(Array.from({ length: 5 }, () => ({ operation: 'GetSecretValue', secretId: secretArn })));
  });

  it('x-webhook answers X with the consumer secret from the secret: CRC, and a signed delivery queued through SQS', async () => {
    const secret = remember('brand', brandSecret());
    const secretArn = sm.createSecret('support-bridge/acme-webhook', JSON.stringify(secret));
    becomeLambda('x-webhook', secretArn);
    const handler = lambdaHandler('x-webhook');
    expect(await crc(handler, 'challenge-1')).toEqual({ status: 200, body: { response_token: crcResponseToken(secret.X_API_SECRET, 'challenge-1') } });

    const body = Buffer.from(JSON.stringify(xaaMention()));
    const post = (signedWith: string) =>
      handler(httpEvent('POST', '/x/webhook', { body, headers: { 'content-type': 'application/json', 'x-twitter-webhooks-signature': signWebhookBody(signedWith, body) } }));
    expect(((await post(ENVIRONMENT_DECOY.X_API_SECRET)) as HttpResult).statusCode).toBe(401);
    expect(((await post(secret.X_API_SECRET)) as HttpResult).statusCode).toBe(200);
    const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: inboundQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 5 }));
    expect(received.Messages ?? []).toHaveLength(1);
  });

  it('a value the function does not read can be malformed without stopping it', async () => {
    const secret = remember('brand', { ...brandSecret(), HELPDESK_WEBHOOK_SECRET: distinctiveSecret(40), HELPDESK_API_TOKEN: 'short' });
    becomeLambda('x-webhook', sm.createSecret('support-bridge/acme-partly-bad', JSON.stringify(secret)));
    expect(await crc(lambdaHandler('x-webhook'), 'challenge-2')).toEqual({ status: 200, body: { response_token: crcResponseToken(secret.X_API_SECRET, 'challenge-2') } });
  });
});

describe('a new, malformed or missing secret stops the function with a message naming the key, never the value', () => {
  it('a new stack\'s secret (empty placeholders, the generated API token) stops x-webhook naming X_API_SECRET; filled, the next invocation starts', async () => {
    // What infra/stack.ts creates: every key empty but HELPDESK_API_TOKEN, which Secrets Manager generates.
    const created = remember('new stack', {
      ...Object.fromEntries(SECRET_KEYS.filter((key) => key !== 'HELPDESK_API_TOKEN').map((key) => [key, ''])),
      HELPDESK_API_TOKEN: distinctiveSecret(48),
    });
    const secretArn = sm.createSecret('support-bridge/acme-new', JSON.stringify(created));
    becomeLambda('x-webhook', secretArn);
    const webhook = lambdaHandler('x-webhook');
    expect((await failureOf(() => crc(webhook, 'too-early'))).message).toBe('Invalid configuration: X_API_SECRET is required');
    becomeLambda('helpdesk-api', secretArn);
    expect(((await lambdaHandler('helpdesk-api')(httpEvent('GET', '/healthz'))) as HttpResult).statusCode).toBe(200);

    const filled = remember('filled', { ...brandSecret(), HELPDESK_API_TOKEN: created.HELPDESK_API_TOKEN });
    await putSecret(secretArn, filled);
    becomeLambda('x-webhook', secretArn);
    // A failed start is not cached: the very next invocation reads the secret again.
    expect(await crc(webhook, 'now')).toEqual({ status: 200, body: { response_token: crcResponseToken(filled.X_API_SECRET, 'now') } });
    expect(readsOf(secretArn)).toBe(3);
  });

  const notWhsec = distinctiveSecret(40);
  const shortKey = `whsec_${randomBytes(16).toString('base64')}`;
  const shortToken = distinctiveSecret(15);
  const bareValue = distinctiveSecret(50);
  const digits = String(randomBytes(7).readUIntBE(0, 6)).padStart(15, '9');
  it.each<[string, SecretFunction, string, string]>([
    ['a bare value instead of JSON', 'x-webhook', bareValue, 'Invalid configuration: the secret at SECRET_ARN must be a JSON object of strings'],
    ['a JSON array', 'x-webhook', JSON.stringify([bareValue]), 'Invalid configuration: the secret at SECRET_ARN must be a JSON object of strings'],
    ['a JSON string', 'x-webhook', JSON.stringify(bareValue), 'Invalid configuration: the secret at SECRET_ARN must be a JSON object of strings'],
    ['a number where a string belongs', 'x-webhook', `{"X_API_SECRET": ${digits}}`, 'Invalid configuration: X_API_SECRET Invalid input: expected string, received number'],
    ['a webhook secret that is not whsec_ and base64', 'notify', JSON.stringify({ HELPDESK_WEBHOOK_SECRET: notWhsec }), 'Invalid configuration: HELPDESK_WEBHOOK_SECRET must be whsec_ followed by base64'],
    ['a webhook key under 24 bytes', 'notify', JSON.stringify({ HELPDESK_WEBHOOK_SECRET: shortKey }), 'Invalid configuration: HELPDESK_WEBHOOK_SECRET must decode to at least 24 bytes'],
    ['an API token under 16 characters', 'helpdesk-api', JSON.stringify({ HELPDESK_API_TOKEN: shortToken }), 'Invalid configuration: HELPDESK_API_TOKEN must be at least 16 characters'],
    ['the bot token without its secret', 'reply', JSON.stringify({ X_API_KEY: 'k'.repeat(25), X_API_SECRET: bareValue, X_ACCESS_TOKEN: `${BOT.id}-${notWhsec}` }), 'Invalid configuration: X_ACCESS_TOKEN_SECRET is required'],
    ['the bot token without its secret', 'reconcile', JSON.stringify({ X_API_KEY: 'k'.repeat(25), X_API_SECRET: bareValue, X_ACCESS_TOKEN: `${BOT.id}-${notWhsec}` }), 'Invalid configuration: X_ACCESS_TOKEN_SECRET is required'],
  ])('%s (%s)', async (_label, name, secretString, message) => {
    remember(_label, { notWhsec, shortKey, shortToken, bareValue, digits });
    becomeLambda(name, sm.createSecret(`support-bridge/acme-${name}`, secretString));
    const error = await failureOf(() => lambdaHandler(name)(HARMLESS_EVENT[name] as never));
    expect(error.message).toBe(message);
    // What the Lambda runtime logs of a failed invocation: the error's type, message and stack, and its properties.
    const scanner = secretLeakScanner({ notWhsec, shortToken, bareValue, digits, shortKey, shortKeyBytes: Buffer.from(shortKey.slice(6), 'base64') });
    expect(scanner.scan(`${inspect(error, { depth: 5 })}\n${JSON.stringify(error)}`)).toEqual([]);
  });

  it('a secret with no value yet, or none at SECRET_ARN, fails the invocation with ResourceNotFoundException; the next one reads again', async () => {
    const secretArn = sm.createSecret('support-bridge/acme-empty');
    becomeLambda('x-webhook', secretArn);
    const webhook = lambdaHandler('x-webhook');
    const empty = await failureOf(() => crc(webhook, 'a'));
    expect([empty.name, empty.message]).toEqual(['ResourceNotFoundException', "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT"]);
    const secret = remember('brand', brandSecret());
    await putSecret(secretArn, secret);
    expect(await crc(webhook, 'b')).toEqual({ status: 200, body: { response_token: crcResponseToken(secret.X_API_SECRET, 'b') } });

    sm.deleteSecret(secretArn);
    becomeLambda('x-webhook', secretArn);
    const gone = await failureOf(() => crc(lambdaHandler('x-webhook'), 'c'));
    expect([gone.name, gone.message]).toEqual(['ResourceNotFoundException', "Secrets Manager can't find the specified secret."]);
  });
});

describe('rotation', () => {
  it('a rotated value is picked up at the first invocation 5 minutes after the last read, not before, with one read per refresh', async () => {
    // Only Date is faked: the refresh is timed by Date.now(), while sockets and the SDK keep real timers.
    vi.useFakeTimers({ toFake: ['Date'] });
    const start = new Date('2026-03-01T12:00:00Z').getTime();
    vi.setSystemTime(start);
    const before = remember('before rotation', brandSecret());
    const secretArn = sm.createSecret('support-bridge/acme-rotating', JSON.stringify(before));
    becomeLambda('x-webhook', secretArn);
    const configs: Config[] = [];
    const webhook = lambdaHandler('x-webhook', configs);
    const answerWith = (secret: string, token: string) => ({ status: 200, body: { response_token: crcResponseToken(secret, token) } });

    expect(await crc(webhook, 't0')).toEqual(answerWith(before.X_API_SECRET, 't0'));
    const after = remember('after rotation', brandSecret());
    await putSecret(secretArn, after);

    vi.setSystemTime(start + 5 * 60_000 - 1);
    expect(await crc(webhook, 't1')).toEqual(answerWith(before.X_API_SECRET, 't1'));
    expect(await crc(webhook, 't2')).toEqual(answerWith(before.X_API_SECRET, 't2'));
    expect(readsOf(secretArn)).toBe(1);

    vi.setSystemTime(start + 5 * 60_000);
    expect(await crc(webhook, 't3')).toEqual(answerWith(after.X_API_SECRET, 't3'));
    expect(readsOf(secretArn)).toBe(2);
    // The next refresh is timed from this read.
    vi.setSystemTime(start + 10 * 60_000 - 1);
    expect(await crc(webhook, 't4')).toEqual(answerWith(after.X_API_SECRET, 't4'));
    expect(readsOf(secretArn)).toBe(2);
    // The handler was rebuilt once, from the rotated config.
    expect(configs.map((c) => c.x.apiSecret)).toEqual([before.X_API_SECRET, after.X_API_SECRET]);
  });
});

describe('no secret in the logs', () => {
  it('no value this file put in a secret or the environment reaches a log line or a failed invocation\'s error', () => {
    const text = logs.text();
    // The capture holds the functions' lines and the failures (not vacuous when run alone: run the whole file).
    expect(text).toContain('answered CRC challenge');
    expect(text).toContain('webhook delivery queued');
    expect(text).toContain('webhook request refused');
    expect(failures.length).toBeGreaterThanOrEqual(11);
    const scanner = secretLeakScanner(Object.fromEntries(usedValues));
    const errors = failures.map((error) => `${inspect(error, { depth: 5 })} ${JSON.stringify(error)}`).join('\n');
    expect(scanner.scan(`${text}\n${errors}`).map((leak) => `${leak.what}: ${leak.line}`)).toEqual([]);
  });
});
