// Rotating the brand's three secrets without downtime (README, Operating a brand, "Rotating a secret"): the rules
// behind each overlap, one by one. test/infra/lambda-runtime.test.ts runs the same overlaps on the deployed bundles.
import { randomBytes } from 'node:crypto';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { createWebhookHandler } from '../../functions/x-webhook/handler';
import { LOCAL_AWS } from '../../infra/local/services';
import { requireBearer } from '../../shared/auth';
import { lazyHandler } from '../../shared/aws/lambda-config';
import { configWithSecrets } from '../../shared/aws/lambda-secrets';
import { FUNCTION_SECRETS } from '../../shared/aws/resources';
import { MAX_TOKEN_OVERLAP_DAYS, parseConfig, type Config } from '../../shared/config';
import { AuthError, ConfigError } from '../../shared/errors';
import { webhookHeaders } from '../../shared/helpdesk/signing';
import type { HttpEvent, HttpResult } from '../../shared/http';
import { crcResponseToken, signWebhookBody } from '../../shared/x/signature';
import { BOT, xaaMention } from '../support/x-payloads';

const ENV = { BRAND: 'acme', X_BOT_USER_ID: BOT.id, X_BOT_USERNAME: BOT.username };
const whsec = () => `whsec_${randomBytes(32).toString('base64')}`;
const token = () => randomBytes(24).toString('hex');

describe('the helpdesk bearer token', () => {
  const current = token();
  const previous = { token: token(), until: new Date('2026-12-04T12:00:00Z') };

  it('takes the previous token until its end, and refuses it from then on', () => {
    expect(() => requireBearer(`Bearer ${current}`, current, previous, new Date('2026-12-04T11:59:59Z'))).not.toThrow();
    expect(() => requireBearer(`Bearer ${previous.token}`, current, previous, new Date('2026-12-04T11:59:59Z'))).not.toThrow();
    expect(() => requireBearer(`Bearer ${previous.token}`, current, previous, new Date('2026-12-04T12:00:00Z'))).toThrow(AuthError);
    expect(() => requireBearer(`Bearer ${current}`, current, previous, new Date('2027-01-01T00:00:00Z'))).not.toThrow();
    expect(() => requireBearer(`Bearer ${token()}`, current, previous, new Date('2026-12-04T11:00:00Z'))).toThrow(AuthError);
    expect(() => requireBearer(`Bearer ${previous.token}`, current, undefined)).toThrow(AuthError);
  });

  it('needs an end for the previous token, at most 30 days ahead, and says which value is wrong', () => {
    const secrets = (extra: Record<string, string>) => ({ HELPDESK_API_TOKEN: current, ...extra });
    const parse = (extra: Record<string, string>) => parseConfig(ENV, secrets(extra), ['HELPDESK_API_TOKEN']);
    expect(() => parse({ HELPDESK_API_TOKEN_PREVIOUS: previous.token })).toThrow(/HELPDESK_API_TOKEN_PREVIOUS_UNTIL must be set together/);
    expect(() => parse({ HELPDESK_API_TOKEN_PREVIOUS: previous.token, HELPDESK_API_TOKEN_PREVIOUS_UNTIL: 'tomorrow' })).toThrow(
      /HELPDESK_API_TOKEN_PREVIOUS_UNTIL must be an ISO 8601 time/,
    );
    const tooLate = new Date(Date.now() + (MAX_TOKEN_OVERLAP_DAYS + 1) * 86_400_000).toISOString();
    expect(() => parse({ HELPDESK_API_TOKEN_PREVIOUS: previous.token, HELPDESK_API_TOKEN_PREVIOUS_UNTIL: tooLate })).toThrow(ConfigError);
    const until = new Date(Date.now() + 86_400_000).toISOString();
    const config = parse({ HELPDESK_API_TOKEN_PREVIOUS: previous.token, HELPDESK_API_TOKEN_PREVIOUS_UNTIL: until });
    expect(config.helpdesk.previousApiToken).toEqual({ token: previous.token, until: new Date(until) });
  });
});

describe('the Standard Webhooks secret', () => {
  it('signs with both secrets during the overlap (v1,<new> v1,<old>), and the reference library verifies with either', () => {
    const [next, old] = [whsec(), whsec()];
    const body = JSON.stringify({ type: 'ticket.created', data: {} });
    const headers = webhookHeaders([next, old], 'msg_1', body, new Date());
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/=]+ v1,[A-Za-z0-9+/=]+$/);
    expect(() => new Webhook(next).verify(body, headers)).not.toThrow();
    expect(() => new Webhook(old).verify(body, headers)).not.toThrow();
    expect(() => new Webhook(whsec()).verify(body, headers)).toThrow();
    expect(webhookHeaders(next, 'msg_1', body, new Date())['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/=]+$/);
  });
});

describe('which function gets a previous value', () => {
  it('only the function that reads the value it replaces', async () => {
    const all = {
      ...ENV,
      X_API_KEY: token(),
      X_API_SECRET: token(),
      X_API_SECRET_PREVIOUS: token(),
      HELPDESK_WEBHOOK_SECRET: whsec(),
      HELPDESK_WEBHOOK_SECRET_PREVIOUS: whsec(),
      HELPDESK_API_TOKEN: token(),
      HELPDESK_API_TOKEN_PREVIOUS: token(),
      HELPDESK_API_TOKEN_PREVIOUS_UNTIL: new Date(Date.now() + 3_600_000).toISOString(),
    };
    const load = (name: keyof typeof FUNCTION_SECRETS) => configWithSecrets(FUNCTION_SECRETS[name] as never, all)();
    const webhook = await load('x-webhook');
    expect([webhook.x.previousApiSecret, webhook.helpdesk.previousWebhookSecret, webhook.helpdesk.previousApiToken]).toEqual([
      all.X_API_SECRET_PREVIOUS,
      undefined,
      undefined,
    ]);
    const notify = await load('notify');
    expect([notify.x.previousApiSecret, notify.helpdesk.previousWebhookSecret, notify.helpdesk.previousApiToken]).toEqual([
      undefined,
      all.HELPDESK_WEBHOOK_SECRET_PREVIOUS,
      undefined,
    ]);
    const api = await load('helpdesk-api');
    expect([api.x.previousApiSecret, api.helpdesk.previousWebhookSecret, api.helpdesk.previousApiToken?.token]).toEqual([
      undefined,
      undefined,
      all.HELPDESK_API_TOKEN_PREVIOUS,
    ]);
  });
});

describe("X's consumer secret", () => {
  let sqs: SQSClient;
  let queueUrl: string;

  beforeAll(async () => {
    sqs = new SQSClient({ endpoint: inject('sqsEndpoint'), ...LOCAL_AWS });
    queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `rotation-${randomBytes(4).toString('hex')}` }))).QueueUrl!;
  });
  afterAll(() => sqs.destroy());
  afterEach(() => vi.useRealTimers());

  function post(secret: string): HttpEvent {
    const body = Buffer.from(JSON.stringify(xaaMention()));
    return event('POST', { headers: { 'x-twitter-webhooks-signature': signWebhookBody(secret, body) }, body });
  }
  function event(method: string, init: { headers?: Record<string, string>; body?: Buffer; query?: Record<string, string> }): HttpEvent {
    return {
      version: '2.0',
      routeKey: '$default',
      rawPath: '/x/webhook',
      rawQueryString: new URLSearchParams(init.query ?? {}).toString(),
      headers: init.headers ?? {},
      ...(init.query ? { queryStringParameters: init.query } : {}),
      requestContext: { http: { method, path: '/x/webhook' } } as HttpEvent['requestContext'],
      ...(init.body ? { body: init.body.toString('base64'), isBase64Encoded: true } : { isBase64Encoded: false }),
    };
  }
  const status = async (handler: (e: HttpEvent) => Promise<HttpResult>, e: HttpEvent) => (await handler(e)).statusCode;

  /** The webhook as Lambda builds it, its secret read from `source` (standing for Secrets Manager) through the cache. */
  function lambdaWebhook(source: Record<string, string>) {
    return lazyHandler(
      (config: Config, reload) => createWebhookHandler(config, undefined, { reload }),
      configWithSecrets(FUNCTION_SECRETS['x-webhook'], source),
    );
  }

  it('a delivery signed with a secret not yet read makes the function read it again, at most once a minute', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-12-04T06:00:00Z') });
    const [a, b] = [token(), token()];
    const source: Record<string, string> = { ...ENV, INBOUND_QUEUE_URL: queueUrl, SQS_ENDPOINT: inject('sqsEndpoint'), X_API_SECRET: a };
    const handler = lambdaWebhook(source);
    expect(await status(handler, post(a))).toBe(200);
    // Ops put X's new secret (the old one as previous) right after regenerating it in X's portal.
    Object.assign(source, { X_API_SECRET: b, X_API_SECRET_PREVIOUS: a });
    vi.setSystemTime(new Date('2026-12-04T06:00:30Z'));
    expect(await status(handler, post(b))).toBe(401); // read 30 s ago: not read again yet
    vi.setSystemTime(new Date('2026-12-04T06:01:01Z'));
    expect(await status(handler, post(b))).toBe(200); // read again, found b
    expect(await status(handler, post(a))).toBe(200); // X's retries of deliveries it signed before the switch
    expect(await status(handler, post(token()))).toBe(401);
  });

  it('answers the CRC with the secret as it is now, or with the one in hand when the secret cannot be read', async () => {
    const [a, b] = [token(), token()];
    const config = parseConfig({ ...ENV, INBOUND_QUEUE_URL: queueUrl, SQS_ENDPOINT: inject('sqsEndpoint') }, { X_API_SECRET: a }, ['X_API_SECRET']);
    const crc = async (reload: (maxAgeMs: number) => Promise<Config>) => {
      const handler = createWebhookHandler(config, undefined, { reload });
      return JSON.parse(String((await handler(event('GET', { query: { crc_token: 'challenge_string' } }))).body)) as unknown;
    };
    const fresh = vi.fn(async () => ({ ...config, x: { ...config.x, apiSecret: b } }));
    expect(await crc(fresh)).toEqual({ response_token: crcResponseToken(b, 'challenge_string') });
    expect(fresh).toHaveBeenCalledWith(0);
    expect(await crc(() => Promise.reject(new Error('Secrets Manager unreachable')))).toEqual({
      response_token: crcResponseToken(a, 'challenge_string'),
    });
  });
});
