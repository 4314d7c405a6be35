// The X ops CLI (`npm run x`) against the fake X API on loopback, through the real twitter-api-v2 client: what ops see
// when registering the webhook, subscribing the bot, checking status, re-validating, replaying and deleting, and what
// X receives. A stand-in for the bridge's GET /x/webhook answers X's CRC with shared/x/signature.ts, as the bridge does.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { memoryOutput } from '../../infra/ops/cli-support';
import { BOT_EVENT_TYPES, replayWindow } from '../../infra/ops/x-commands';
import { brandSecretName } from '../../infra/ops/x-credentials';
import { runXProgram, type XProgramDeps } from '../../infra/ops/x-program';
import { crcResponseToken } from '../../shared/x/signature';
import { FakeXServer, xProblems, xResponses } from '../support/fake-x-server';

const BOT = '1602999888777666555';
const creds = {
  consumerKey: 'ops-test-consumer-key',
  consumerSecret: 'ops-test-consumer-secret',
  accessToken: `${BOT}-opsTestAccessToken`,
  accessTokenSecret: 'ops-test-access-token-secret',
};
const SECRET_VALUES = Object.values(creds);
// 2026-11-16 12:00:30 UTC: half a minute past, so the replay window's rounding to whole minutes shows.
const START = Date.UTC(2026, 10, 16, 12, 0, 30);

let clock = START;
let fake: FakeXServer;
let receiver: http.Server;
let webhookUrl: string;
/** The consumer secret the stand-in bridge answers CRC checks with; a wrong one is a misconfigured secret. */
let bridgeSecret = creds.consumerSecret;

function env(overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    X_API_KEY: creds.consumerKey,
    X_API_SECRET: creds.consumerSecret,
    X_ACCESS_TOKEN: creds.accessToken,
    X_ACCESS_TOKEN_SECRET: creds.accessTokenSecret,
    X_BOT_USER_ID: BOT,
    X_API_BASE_URL: fake.url,
    ...overrides,
  };
}

/** Runs `npm run x -- <argv>` in-process; resolves with the exit code and what a person would have read. */
async function x(argv: string[], deps: Partial<XProgramDeps> = {}) {
  const out = memoryOutput();
  const code = await runXProgram(argv, { env: env(), out, now: () => new Date(clock), timeoutMs: 5_000, ...deps });
  const text = out.text();
  // Whatever happened, no credential is ever shown.
  for (const secret of SECRET_VALUES) expect(text).not.toContain(secret);
  return { code, stdout: out.lines.join('\n'), stderr: out.errors.join('\n'), text };
}

async function registered(): Promise<string> {
  const { code } = await x(['register', webhookUrl]);
  expect(code).toBe(0);
  const [webhook] = fake.webhooks;
  if (!webhook) throw new Error('no webhook registered');
  return webhook.id;
}

beforeAll(async () => {
  fake = new FakeXServer({ credentials: creds, now: () => clock, maxWebhooks: 2 });
  await fake.start();
  receiver = http.createServer((req, res) => {
    const token = new URL(req.url ?? '/', 'http://127.0.0.1').searchParams.get('crc_token') ?? '';
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ response_token: crcResponseToken(bridgeSecret, token) }));
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  webhookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/x/webhook`;
});

afterAll(async () => {
  await fake.stop();
  receiver.closeAllConnections();
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
});

beforeEach(() => {
  fake.reset();
  clock = START;
  bridgeSecret = creds.consumerSecret;
});

describe('register and status', () => {
  it('registers the webhook, and status shows it valid with what is left to do', async () => {
    const result = await x(['register', webhookUrl]);
    expect(result.code).toBe(0);
    const [webhook] = fake.webhooks;
    expect(webhook).toMatchObject({ url: webhookUrl, valid: true });
    expect(result.stdout).toContain(`Registered webhook ${webhook?.id} for ${webhookUrl}: valid`);
    expect(result.stdout).toContain(`Next: npm run x -- subscribe --webhook-id ${webhook?.id}`);

    const status = await x(['status']);
    expect(status.stdout).toMatch(new RegExp(`${webhook?.id}\\s+valid\\s+${webhookUrl.replace(/[.]/g, '\\.')}`));
    // Registered but not subscribed: X delivers nothing yet, so status says so and fails.
    expect(status.code).toBe(1);
    expect(status.stdout).toContain(`the bot (user ${BOT}) is not subscribed to post.mention.create, post.reply.create, post.quote.create, dm.received`);
  });

  it('explains a failed CRC check, and registers nothing', async () => {
    bridgeSecret = 'not-the-consumer-secret';
    const result = await x(['register', webhookUrl]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      "X could not verify the webhook (its CRC check failed): is the stack deployed, is the URL the stack's WebhookUrl output, " +
        "and is the secret's X_API_SECRET the app's consumer secret?",
    );
    expect(result.stderr).toContain('CrcValidationFailed');
    expect(fake.webhooks).toEqual([]);
  });

  it('refuses an http:// URL when talking to X itself, before any request', async () => {
    const result = await x(['register', 'http://bridge.example.com/x/webhook'], { env: env({ X_API_BASE_URL: undefined }) });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('X only registers https:// webhook URLs');
  });

  it('explains X’s webhook limit and a duplicate URL', async () => {
    await registered();
    const duplicate = await x(['register', webhookUrl]);
    expect(duplicate.code).toBe(1);
    expect(duplicate.stderr).toContain('X already has this URL registered for the app: npm run x -- status shows it');

    await x(['register', webhookUrl.replace('/x/webhook', '/x/webhook?second=1')]);
    const third = await x(['register', webhookUrl.replace('/x/webhook', '/x/webhook?third=1')]);
    expect(third.code).toBe(1);
    expect(third.stderr).toContain('as many webhooks as its access tier allows');
  });

  it('explains credentials X refuses', async () => {
    const result = await x(['status'], { env: env({ X_API_KEY: 'some-other-app-key' }) });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('X refused the credentials');
    expect(result.text).not.toContain('some-other-app-key');
  });

  it('says when the X app is out of credits, without waiting for a reset', async () => {
    fake.failNext(1, xResponses.creditsDepleted(), { method: 'GET', path: '/2/webhooks' });
    const result = await x(['status']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('The X app has no pay-per-use credits left');
  });

  it('says when to come back after a rate limit', async () => {
    const reset = Math.floor(START / 1000) + 600;
    fake.failNext(1, xResponses.rateLimited({ reset }), { method: 'GET', path: '/2/webhooks' });
    const result = await x(['status']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`X rate limit reached: try again after ${new Date(reset * 1000).toISOString()}`);
  });
});

describe('subscribe', () => {
  it('subscribes the bot’s events to the webhook, with the body X documents, and is idempotent', async () => {
    const webhookId = await registered();
    const first = await x(['subscribe']);
    expect(first.code).toBe(0);

    const bodies = fake.requestsTo('POST', '/2/activity/subscriptions').map((r) => r.body);
    expect(bodies).toEqual(
      BOT_EVENT_TYPES.map((e) => ({ event_type: e.eventType, filter: { user_id: BOT }, webhook_id: webhookId, tag: 'support-bridge' })),
    );
    expect(fake.subscriptions.map((s) => s.event_type)).toEqual([
      'post.mention.create',
      'post.reply.create',
      'post.quote.create',
      'dm.received',
      'post.create',
      'dm.sent',
      'chat.received',
      'chat.sent',
    ]);
    expect(first.stdout).toMatch(/post\.mention\.create\s+subscribed \(subscription \d+\)/);

    const again = await x(['subscribe', '--webhook-id', webhookId]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/dm\.received\s+already subscribed/);
    expect(fake.requestsTo('POST', '/2/activity/subscriptions')).toHaveLength(BOT_EVENT_TYPES.length);

    const status = await x(['status']);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('OK: X delivers the bot’s events to a valid webhook.');
    expect(status.stdout).toMatch(new RegExp(`dm\\.received\\s+user_id=${BOT}\\s+→ webhook ${webhookId}`));
  });

  it('goes on past a refused event type and says what to fix', async () => {
    await registered();
    fake.respondWith(
      (r) => r.method === 'POST' && r.path === '/2/activity/subscriptions' && (r.body as { event_type?: string }).event_type === 'dm.received',
      { status: 403, body: { title: 'Forbidden', detail: 'You are not permitted to subscribe to this event.', type: 'about:blank', status: 403 } },
    );
    const result = await x(['subscribe', '--events', 'post.mention.create,dm.received']);
    expect(result.code).toBe(1);
    expect(fake.subscriptions.map((s) => s.event_type)).toEqual(['post.mention.create']);
    expect(result.stdout).toMatch(/dm\.received\s+FAILED/);
    expect(result.stderr).toContain('Direct Messages permission');
    expect(result.stderr).toContain('1 of 2 subscriptions failed');
  });

  it('needs the bot id, and a webhook to name when the app has several', async () => {
    const noBot = await x(['subscribe'], { env: env({ X_BOT_USER_ID: undefined }) });
    expect(noBot.code).toBe(1);
    expect(noBot.stderr).toContain('X_BOT_USER_ID is not set');

    const none = await x(['subscribe']);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('no webhook is registered for this X app: npm run x -- register');

    await registered();
    await x(['register', `${webhookUrl}?second=1`]);
    const several = await x(['subscribe']);
    expect(several.code).toBe(2);
    expect(several.stderr).toContain('the X app has 2 webhooks');
    expect(fake.requestsTo('POST', '/2/activity/subscriptions')).toEqual([]);
  });
});

describe('replay', () => {
  it('asks X for the last 24 hours, in whole minutes inside X’s window, and says where the window ends', async () => {
    const webhookId = await registered();
    const result = await x(['replay']);
    expect(result.code).toBe(0);
    // now is 12:00:30: the window starts at the first whole minute not older than 24 h and ends at the last whole
    // minute at least 10 minutes old (11:50:30 → 11:50), the newest end X's replay accepts.
    expect(fake.requestsTo('POST', '/2/webhooks/replay').map((r) => r.body)).toEqual([
      { webhook_id: webhookId, from_date: '202611151201', to_date: '202611161150' },
    ]);
    expect(result.stdout).toContain(`from 2026-11-15T12:01Z to 2026-11-16T11:50Z (UTC, whole minutes): replay job ${fake.replayJobs[0]?.job_id}`);
    expect(result.stdout).toContain(
      'X replays deliveries from the last 24 hours, from at least 31 minutes to at least 10 minutes before now, so the last 10 minutes are not part of it.',
    );
    expect((await x(['help'])).stdout).toContain('from at least 31 minutes to at least 10 minutes before now');
  });

  it('takes --hours and --from/--to', async () => {
    const webhookId = await registered();
    expect((await x(['replay', '--hours', '2', '--webhook-id', webhookId])).code).toBe(0);
    expect((await x(['replay', '--from', '2026-11-16T09:30Z', '--to', '2026-11-16T10:45:59Z'])).code).toBe(0);
    expect((await x(['replay', '--from', '2026-11-16T10:00+01:00'])).code).toBe(0);
    expect(fake.requestsTo('POST', '/2/webhooks/replay').map((r) => r.body)).toEqual([
      { webhook_id: webhookId, from_date: '202611161001', to_date: '202611161150' },
      { webhook_id: webhookId, from_date: '202611160930', to_date: '202611161045' },
      { webhook_id: webhookId, from_date: '202611160900', to_date: '202611161150' },
    ]);
  });

  it('refuses more than X keeps, clearly, before asking X', async () => {
    await registered();
    const tooMany = await x(['replay', '--hours', '48']);
    expect(tooMany.code).toBe(2);
    expect(tooMany.stderr).toContain('X keeps only the last 24 hours of deliveries: --hours must be a whole number from 1 to 24');

    const tooOld = await x(['replay', '--from', '2026-11-15T11:59Z']);
    expect(tooOld.code).toBe(2);
    expect(tooOld.stderr).toContain('X keeps only the last 24 hours of deliveries: --from must be at or after 2026-11-15T12:01Z');

    // now is 12:00:30: from must be 11:29 or earlier, to 11:50 or earlier.
    const fromTooNew = await x(['replay', '--from', '2026-11-16T11:30Z']);
    expect(fromTooNew.code).toBe(2);
    expect(fromTooNew.stderr).toContain('from at least 31 minutes to at least 10 minutes before now: --from must be at or before 2026-11-16T11:29Z');
    const toTooNew = await x(['replay', '--from', '2026-11-16T11:00Z', '--to', '2026-11-16T11:51Z']);
    expect(toTooNew.code).toBe(2);
    expect(toTooNew.stderr).toContain('--to must be at or before 2026-11-16T11:50Z');

    for (const argv of [
      ['replay', '--hours', '2', '--from', '2026-11-16T09:30Z'],
      ['replay', '--to', '2026-11-16T09:30Z'],
      ['replay', '--from', '2026-11-16T09:30'],
      ['replay', '--from', '2026-11-16T11:00Z', '--to', '2026-11-16T10:00Z'],
      ['replay', '--from', '2026-11-16T11:00Z', '--to', '2026-11-16T12:30Z'],
      ['replay', '--hours', '0'],
      ['replay', '--hours', '1.5'],
    ]) {
      expect((await x(argv)).code, argv.join(' ')).toBe(2);
    }
    expect(fake.requestsTo('POST', '/2/webhooks/replay')).toEqual([]);
  });

  it('replayWindow: the boundaries of X’s 24 hours', () => {
    const now = new Date(Date.UTC(2026, 10, 16, 12, 0, 0));
    expect(replayWindow({}, now)).toEqual({ from: new Date(Date.UTC(2026, 10, 15, 12, 0)), to: new Date(Date.UTC(2026, 10, 16, 11, 50)) });
    expect(replayWindow({ from: '2026-11-15T12:00Z' }, now).from).toEqual(new Date(Date.UTC(2026, 10, 15, 12, 0)));
    expect(() => replayWindow({ from: '2026-11-15T11:59:59Z' }, now)).toThrow(/at or after 2026-11-15T12:00Z/);
    expect(replayWindow({ from: '2026-11-16T11:29Z', to: '2026-11-16T11:50Z' }, now)).toEqual({
      from: new Date(Date.UTC(2026, 10, 16, 11, 29)),
      to: new Date(Date.UTC(2026, 10, 16, 11, 50)),
    });
    expect(() => replayWindow({ from: '2026-11-16T11:30Z' }, now)).toThrow(/--from must be at or before 2026-11-16T11:29Z/);
    expect(() => replayWindow({ from: '2026-11-16T11:00Z', to: '2026-11-16T11:51Z' }, now)).toThrow(/--to must be at or before 2026-11-16T11:50Z/);
  });
});

describe('revalidate and delete', () => {
  it('re-validates: fails while the bridge answers CRC wrongly, passes once it is fixed', async () => {
    const webhookId = await registered();
    bridgeSecret = 'rotated-to-the-wrong-secret';
    const broken = await x(['revalidate']);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain('X could not verify the webhook (its CRC check failed)');

    const status = await x(['status']);
    expect(status.code).toBe(1);
    expect(status.stdout).toMatch(new RegExp(`${webhookId}\\s+INVALID`));
    expect(status.stdout).toContain(`webhook ${webhookId} is invalid: X stopped delivering to it.`);
    expect(status.stdout).toContain(`npm run x -- revalidate ${webhookId}`);

    bridgeSecret = creds.consumerSecret;
    const fixed = await x(['revalidate', webhookId]);
    expect(fixed.code).toBe(0);
    expect(fixed.stdout).toContain(`Webhook ${webhookId} is valid: X re-checked the CRC answer of ${webhookUrl}`);
    expect(fake.webhooks[0]?.valid).toBe(true);
    expect(fake.requestsTo('PUT', `/2/webhooks/${webhookId}`)).toHaveLength(2);
  });

  it('deletes a webhook and names the subscriptions left pointing at it', async () => {
    const webhookId = await registered();
    await x(['subscribe', '--events', 'dm.received']);
    const subscriptionId = fake.subscriptions[0]?.subscription_id;

    const result = await x(['delete', webhookId]);
    expect(result.code).toBe(0);
    expect(fake.webhooks).toEqual([]);
    expect(result.stdout).toContain(`Deleted webhook ${webhookId}`);
    expect(result.stdout).toContain(`1 subscription(s) still name it (${subscriptionId})`);

    const status = await x(['status']);
    expect(status.code).toBe(1);
    expect(status.stdout).toContain(`subscription ${subscriptionId} (dm.received) delivers to webhook ${webhookId}, which is not registered`);

    expect((await x(['unsubscribe', subscriptionId ?? ''])).code).toBe(0);
    expect(fake.subscriptions).toEqual([]);

    const unknown = await x(['delete', webhookId]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('X knows no such webhook for this app');
  });
});

describe('credentials per endpoint, as X’s OpenAPI document sets them', () => {
  const authOf = (method: string, path: string | RegExp) =>
    fake.requestsTo(method, path).map((r) => String(r.headers.authorization).split(' ')[0]);

  it('status, revalidate, replay, subscribe and unsubscribe use the app-only Bearer token where X requires it, asked for once per run', async () => {
    const id = await registered();
    expect(authOf('POST', '/2/webhooks')).toEqual(['OAuth']);

    // subscribe without --webhook-id lists the webhooks (Bearer only), and creates subscriptions as the bot.
    fake.requests.length = 0;
    expect((await x(['subscribe', '--events', 'dm.received'])).code).toBe(0);
    expect(authOf('GET', '/2/webhooks')).toEqual(['Bearer']);
    expect(authOf('POST', '/2/activity/subscriptions')).toEqual(['OAuth']);
    const subscriptionId = fake.subscriptions[0]?.subscription_id ?? '';

    fake.requests.length = 0;
    const status = await x(['status']);
    expect(status.stdout).toMatch(new RegExp(`${id}\\s+valid`));
    expect(authOf('GET', '/2/webhooks')).toEqual(['Bearer']);
    expect(authOf('GET', '/2/activity/subscriptions')).toEqual(['OAuth']);

    fake.requests.length = 0;
    expect((await x(['revalidate'])).code).toBe(0);
    expect(authOf('PUT', `/2/webhooks/${id}`)).toEqual(['OAuth']);
    // revalidate lists the webhooks twice (to find it, then to check it): one token serves both.
    expect(authOf('GET', '/2/webhooks')).toEqual(['Bearer', 'Bearer']);
    expect(fake.requestsTo('POST', '/oauth2/token')).toHaveLength(1);

    fake.requests.length = 0;
    expect((await x(['replay'])).code).toBe(0);
    expect(authOf('GET', '/2/webhooks')).toEqual(['Bearer']);
    expect(fake.requestsTo('POST', '/2/webhooks/replay')[0]?.headers.authorization).toBe(`Bearer ${fake.appBearerToken}`);
    const token = fake.requestsTo('POST', '/oauth2/token');
    expect(token).toHaveLength(1);
    expect(token[0]?.rawBody).toBe('grant_type=client_credentials');
    const basic = Buffer.from(`${creds.consumerKey}:${creds.consumerSecret}`).toString('base64');
    expect(token[0]?.headers.authorization).toBe(`Basic ${basic}`);

    fake.requests.length = 0;
    expect((await x(['unsubscribe', subscriptionId])).code).toBe(0);
    expect(authOf('DELETE', `/2/activity/subscriptions/${subscriptionId}`)).toEqual(['Bearer']);
    expect(fake.subscriptions).toEqual([]);
  });

  it('the fake refuses OAuth 1.0a where X takes only the app’s Bearer token, with X’s problem body', async () => {
    // Whoever signs GET /2/webhooks as the user meets X's 403, and the CLI says the credentials are the problem.
    const userSigned = await fetch(`${fake.url}/2/webhooks`, {
      headers: { authorization: 'OAuth oauth_consumer_key="k", oauth_token="t", oauth_signature="s", oauth_nonce="n", oauth_timestamp="1", oauth_signature_method="HMAC-SHA1"' },
    });
    expect(userSigned.status).toBe(403);
    expect(await userSigned.json()).toEqual(xProblems.unsupportedAuthentication);
    const otherBearer = await fetch(`${fake.url}/2/webhooks`, { headers: { authorization: 'Bearer not-the-apps-token' } });
    expect(otherBearer.status).toBe(401);
  });

  it('explains consumer credentials X will not give a token for, and asks again on the next call', async () => {
    const result = await x(['status'], { env: env({ X_API_SECRET: 'not-the-consumer-secret' }) });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('X refused the credentials: X_API_KEY/X_API_SECRET must be the app’s consumer key and secret');
    expect(result.stderr).toContain('Unable to verify your credentials');
    expect(result.text).not.toContain('not-the-consumer-secret');
    expect(fake.requestsTo('GET', '/2/webhooks')).toEqual([]);
  });
});

describe('command line', () => {
  it('answers help, and refuses what it cannot run with exit code 2 and no request to X', async () => {
    const help = await x(['help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: npm run x -- [--brand <brand>] <command>');
    expect((await x(['status', '--help'])).code).toBe(0);

    const cases: [string[], RegExp][] = [
      [[], /no command given/],
      [['frobnicate'], /unknown command "frobnicate"/],
      [['status', '--bogus'], /Unknown option '--bogus'/],
      [['status', 'extra'], /unexpected argument "extra"/],
      [['status', '--hours', '3'], /--hours does not apply to "status"/],
      [['register'], /missing the webhook URL/],
      [['register', 'not a url'], /is not a URL/],
      [['delete'], /missing the webhook id/],
      [['delete', 'https://example.com/x/webhook'], /the webhook id must be a numeric X id/],
      [['revalidate', 'abc'], /the webhook id must be a numeric X id/],
      [['subscribe', '--events', 'Mentions'], /is not an X Activity event type/],
      [['subscribe', '--webhook-id'], /argument missing/],
      [['--brand', 'Not A Brand', 'status'], /--brand must be a brand slug/],
    ];
    for (const [argv, message] of cases) {
      const result = await x(argv);
      expect(result.code, argv.join(' ')).toBe(2);
      expect(result.stderr, argv.join(' ')).toMatch(message);
    }
    expect(fake.requests).toEqual([]);
  });

  it('says which credentials are missing without calling X', async () => {
    const result = await x(['status'], { env: env({ X_ACCESS_TOKEN: undefined, X_ACCESS_TOKEN_SECRET: '' }) });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('X_ACCESS_TOKEN, X_ACCESS_TOKEN_SECRET are not set');
    expect(result.stderr).toContain('--brand <brand>');
    expect(fake.requests).toEqual([]);
  });
});

describe('--brand: credentials from the brand’s secret', () => {
  const lookupBrand = (brand: string) => {
    if (brand !== 'acme') throw new Error(`no brand ${brand}`);
    return { region: 'eu-west-1', xBotUserId: BOT };
  };
  const secret = {
    X_API_KEY: creds.consumerKey,
    X_API_SECRET: creds.consumerSecret,
    X_ACCESS_TOKEN: creds.accessToken,
    X_ACCESS_TOKEN_SECRET: creds.accessTokenSecret,
    HELPDESK_WEBHOOK_SECRET: 'whsec_c3VwcG9ydC1icmlkZ2UtbG9jYWwtZGV2LXNlY3JldCE=',
    HELPDESK_API_TOKEN: 'generated-by-secrets-manager-000',
  };

  it('reads support-bridge/<brand> in the brand’s region and the bot id from the brand file', async () => {
    const reads: unknown[] = [];
    const readSecret = async (input: { secretId: string; region: string }) => {
      reads.push(input);
      return JSON.stringify(secret);
    };
    // Nothing from the environment but the API origin: the secret alone must be enough.
    const onlyOrigin = { X_API_BASE_URL: fake.url };
    await registered();
    const result = await x(['--brand', 'acme', 'subscribe', '--events', 'post.mention.create'], { env: onlyOrigin, readSecret, lookupBrand });
    expect(result.code).toBe(0);
    expect(reads).toEqual([{ secretId: 'support-bridge/acme', region: 'eu-west-1' }]);
    expect(fake.subscriptions).toEqual([
      expect.objectContaining({ event_type: 'post.mention.create', filter: { user_id: BOT }, tag: 'support-bridge-acme' }),
    ]);
    expect(result.text).not.toContain(secret.HELPDESK_API_TOKEN);
  });

  it('says which key of the secret is still empty', async () => {
    const readSecret = async () => JSON.stringify({ ...secret, X_ACCESS_TOKEN: '', X_ACCESS_TOKEN_SECRET: '' });
    const result = await x(['--brand', 'acme', 'status'], { env: { X_API_BASE_URL: fake.url }, readSecret, lookupBrand });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('secret support-bridge/acme (eu-west-1) has no value yet for X_ACCESS_TOKEN, X_ACCESS_TOKEN_SECRET');
    expect(fake.requests).toEqual([]);
  });

  it('names the secret as the stack does', async () => {
    const { secretName } = await import('../../infra/stack');
    expect(brandSecretName('acme')).toBe(secretName('acme'));
  });
});
