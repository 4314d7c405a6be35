// Abuse on the real bridge: unsigned and forged floods, fuzzed signed bodies, odd CRC tokens, hostile helpdesk API
// input, and, across all of it, a check that no secret or token, nor any 8-character piece or encoding of one, ever
// reaches a log line (every line this file's process writes, at DEBUG level, is captured and searched).
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import * as fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNotifyHandler } from '../../functions/notify/handler';
import { createReplyHandler } from '../../functions/reply/handler';
import { loadFunctionHandlers } from '../../infra/local/bridge';
import { logger } from '../../shared/logger';
import { crcResponseToken, signWebhookBody } from '../../shared/x/signature';
import { FakeXServer, xResponses } from '../support/fake-x-server';
import { createHelpdeskReceiver, type HelpdeskReceiver } from '../support/helpdesk-receiver';
import { captureLogs, type LogCapture } from '../support/log-capture';
import { distinctiveSecret, secretLeakScanner } from '../support/secret-leaks';
import { startTestBridge, type TestBridge } from '../support/test-bridge';
import { aaaDelete, aaaDm, aaaMention, BOT, nextXId, xaaDm, xaaMention, xaaReply } from '../support/x-payloads';
import { eventually } from './support/faults';

const webhookKey = randomBytes(32);
/**
 * Random values in the shapes X and the helpdesk issue, so a leak of any 8 characters of one is unmistakable. X's
 * access tokens start with the account's numeric id, which is public: only the part after it is secret.
 */
const ACCESS_TOKEN_SECRET_PART = distinctiveSecret(40);
const SECRETS = {
  X_API_KEY: distinctiveSecret(25),
  X_API_SECRET: distinctiveSecret(50),
  X_ACCESS_TOKEN: `${BOT.id}-${ACCESS_TOKEN_SECRET_PART}`,
  X_ACCESS_TOKEN_SECRET: distinctiveSecret(45),
  HELPDESK_WEBHOOK_SECRET: `whsec_${webhookKey.toString('base64')}`,
  HELPDESK_API_TOKEN: distinctiveSecret(48),
};
/** A token the API must refuse: what a caller sent in its Authorization header has no place in a log either. */
const WRONG_API_TOKEN = distinctiveSecret(32);

let logs: LogCapture;
let helpdesk: HelpdeskReceiver;
let x: FakeXServer;
let b: TestBridge;

beforeAll(async () => {
  logs = captureLogs();
  // Every log line the functions can write, down to debug.
  logger.setLogLevel('DEBUG');
  helpdesk = createHelpdeskReceiver(SECRETS.HELPDESK_WEBHOOK_SECRET);
  await helpdesk.start();
  x = new FakeXServer({
    credentials: {
      consumerKey: SECRETS.X_API_KEY,
      consumerSecret: SECRETS.X_API_SECRET,
      accessToken: SECRETS.X_ACCESS_TOKEN,
      accessTokenSecret: SECRETS.X_ACCESS_TOKEN_SECRET,
    },
  });
  await x.start();
  const real = await loadFunctionHandlers();
  b = await startTestBridge({
    env: { ...SECRETS, HELPDESK_WEBHOOK_URL: helpdesk.url, X_API_BASE_URL: x.url },
    handlers: {
      ...real,
      reply: (config, clients) => createReplyHandler(config, clients, { inFlightGraceMs: 300 }),
      notify: (config, clients) => createNotifyHandler(config, clients, { retryDelaySeconds: () => 1 }),
    },
    // Anything ingest cannot handle would reach the dead-letter queue within seconds, where the fuzz test looks. Five
    // receives, not two: on a loaded machine a huge body can take over a second, and a slow item is not a failed one.
    queueSpecs: { inbound: { visibilityTimeoutSeconds: 1, maxReceiveCount: 5 }, reply: { visibilityTimeoutSeconds: 1 } },
  });
});

afterAll(async () => {
  try {
    await b?.stop();
    await helpdesk?.stop();
    await x?.stop();
  } finally {
    logger.setLogLevel('SILENT');
    logs?.stop();
  }
});

/** POSTs raw bytes to the webhook with exactly these headers (repeated headers included). */
function rawPost(body: Buffer, headers: [string, string][]): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const url = new URL(`${b.url}/x/webhook`);
    const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.setHeader('content-type', 'application/json');
    const grouped = new Map<string, string[]>();
    for (const [name, value] of headers) grouped.set(name, [...(grouped.get(name) ?? []), value]);
    for (const [name, values] of grouped) req.setHeader(name, values.length === 1 ? values[0]! : values);
    req.end(body);
  });
}

async function inParallel<T>(tasks: (() => Promise<T>)[], width: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < tasks.length) {
        const index = next++;
        results[index] = await tasks[index]!();
      }
    }),
  );
  return results;
}

describe('unsigned and forged floods', () => {
  it('300 unsigned and forged deliveries are answered 401 before parsing, with no queue or table traffic, while a real one gets through', async () => {
    await b.waitForIdle({ timeoutMs: 15_000 });
    b.resetRequestCounts();
    const valid = Buffer.from(JSON.stringify(xaaMention()));
    const notJson = Buffer.from('{"data": {"event_type": "post.mention.create", "payload": ');
    const big = Buffer.alloc(1024 * 1024 - 16, 0x7b); // just under the limit, and not JSON either
    const forgedSig = signWebhookBody('not-the-consumer-secret', valid);
    const attacks: { body: Buffer; headers: [string, string][] }[] = [];
    for (let i = 0; i < 60; i++) attacks.push({ body: valid, headers: [] });
    for (let i = 0; i < 60; i++) attacks.push({ body: valid, headers: [['x-twitter-webhooks-signature', forgedSig]] });
    for (let i = 0; i < 40; i++) attacks.push({ body: notJson, headers: [['x-twitter-webhooks-signature', signWebhookBody('guess', notJson)]] });
    for (let i = 0; i < 40; i++) {
      const header = ['sha256=', 'sha256=abc', `sha1=${forgedSig.slice(7)}`, forgedSig.slice(7), `sha256=${'A'.repeat(10_000)}`, `${forgedSig} `][i % 6]!;
      attacks.push({ body: valid, headers: [['x-twitter-webhooks-signature', header]] });
    }
    // A signature for other bytes, and the right signature sent twice (a proxy duplicating the header).
    for (let i = 0; i < 40; i++) attacks.push({ body: valid, headers: [['x-twitter-webhooks-signature', signWebhookBody(SECRETS.X_API_SECRET, notJson)]] });
    for (let i = 0; i < 40; i++) {
      const right = signWebhookBody(SECRETS.X_API_SECRET, valid);
      attacks.push({ body: valid, headers: [['x-twitter-webhooks-signature', right], ['x-twitter-webhooks-signature', right]] });
    }
    for (let i = 0; i < 20; i++) attacks.push({ body: big, headers: [['x-twitter-webhooks-signature', forgedSig]] });
    expect(attacks).toHaveLength(300);

    const legitId = nextXId();
    const [answers, legit] = await Promise.all([
      inParallel(attacks.map((a) => () => rawPost(a.body, a.headers)), 25),
      b.postWebhook(xaaMention({ id: legitId, author: { id: '8800000001', username: 'real_one', name: 'Real' } })),
    ]);
    expect(answers.filter((a) => a.status !== 401).map((a) => a.status)).toEqual([]);
    // Signed-body JSON errors would be 400: a 401 for non-JSON proves the signature is checked before parsing.
    expect(answers.every((a) => JSON.parse(a.body).error.code === 'bad_signature')).toBe(true);
    expect(legit.status).toBe(200);
    await b.waitForIdle({ timeoutMs: 15_000 });
    const counts = b.requestCounts();
    // The only queue and table traffic is the real delivery's: one batch send, and ingest's work on one item.
    expect(counts.sqs).toEqual({ SendMessageBatch: { calls: 1, errors: 0 } });
    const { messages } = await b.scanTable().then((items) => ({ messages: items.filter((i) => i.type === 'message') }));
    expect(messages.map((m) => m.xId)).toContain(legitId);
  });
});

describe('fuzzed signed bodies', () => {
  const ctx = { author: { id: '8800000002', username: 'fuzzer', name: 'Fuzz' } };
  const validBodies = fc.constantFrom(
    () => xaaMention(ctx),
    () => aaaMention(ctx),
    () => xaaDm({ sender: ctx.author }),
    () => aaaDm({ sender: ctx.author }),
    () => aaaDelete({ id: nextXId(), authorId: ctx.author.id }),
    () => xaaReply({ ...ctx, inReplyTo: { id: nextXId() } }),
  );
  /** Every path to a value inside a JSON value. */
  const paths = (value: unknown, prefix: (string | number)[] = []): (string | number)[][] => {
    if (Array.isArray(value)) return [prefix, ...value.flatMap((v, i) => paths(v, [...prefix, i]))];
    if (value && typeof value === 'object') return [prefix, ...Object.entries(value).flatMap(([k, v]) => paths(v, [...prefix, k]))];
    return [prefix];
  };
  const replaceAt = (value: unknown, path: (string | number)[], replacement: unknown): unknown => {
    if (path.length === 0) return replacement;
    const [head, ...rest] = path;
    const copy = (Array.isArray(value) ? [...value] : { ...(value as object) }) as Record<string | number, unknown>;
    copy[head!] = replaceAt(copy[head!], rest, replacement);
    return copy;
  };
  let manySerial = 0;
  const deep = (depth: number, kind: 'array' | 'object') => (kind === 'array' ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth));

  const body: fc.Arbitrary<{ label: string; bytes: Buffer }> = fc.oneof(
    // Truncated JSON.
    fc.tuple(validBodies, fc.double({ min: 0, max: 1, noNaN: true })).map(([make, at]) => {
      const text = JSON.stringify(make());
      return { label: 'truncated', bytes: Buffer.from(text.slice(0, Math.floor(text.length * at))) };
    }),
    // Wrong types anywhere.
    fc.tuple(validBodies, fc.nat(), fc.jsonValue({ maxDepth: 3 })).map(([make, pick, replacement]) => {
      const value = make();
      const all = paths(value);
      return { label: 'wrong type', bytes: Buffer.from(JSON.stringify(replaceAt(value, all[pick % all.length]!, replacement))) };
    }),
    // Deep nesting, alone or where X puts the payload.
    fc.tuple(fc.integer({ min: 1000, max: 100_000 }), fc.constantFrom<'array' | 'object'>('array', 'object'), fc.boolean()).map(([depth, kind, wrapped]) => ({
      label: `deep ${kind} ${depth}`,
      bytes: Buffer.from(wrapped ? `{"data":{"event_type":"post.mention.create","payload":${deep(depth, kind)}}}` : deep(depth, kind)),
    })),
    // Lone surrogates (as JSON escapes) in text, names and ids; raw bytes that are not UTF-8.
    fc.tuple(validBodies, fc.constantFrom('\\ud800', '\\udfff', '\\ud83d', 'x\\udc00y')).map(([make, surrogate]) => ({
      label: 'lone surrogate',
      bytes: Buffer.from(JSON.stringify(make()).replace(/"(text|name|username|screen_name|id_str|id)":"/g, `"$1":"${surrogate}`)),
    })),
    validBodies.map((make) => ({ label: 'invalid utf-8', bytes: Buffer.concat([Buffer.from(JSON.stringify(make()).slice(0, -2)), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}')]) })),
    // Huge strings (up to the 1 MiB limit) in the text, or in the name.
    fc.tuple(fc.integer({ min: 30_000, max: 900_000 }), fc.constantFrom('a', '😀', '\u0001', '&amp;'), fc.boolean()).map(([length, unit, inName]) => {
      const huge = unit.repeat(Math.ceil(length / unit.length / (unit === '😀' ? 2 : 1))).slice(0, length);
      const made = inName ? aaaDm({ sender: { ...ctx.author, name: huge } }) : xaaMention({ ...ctx, text: huge });
      const bytes = Buffer.from(JSON.stringify(made));
      return { label: `huge ${inName ? 'name' : 'text'} ${length}`, bytes: bytes.length > 1024 * 1024 ? bytes.subarray(0, 1024 * 1024) : bytes };
    }),
    // Many items in one delivery, from many authors.
    fc.integer({ min: 10, max: 60 }).map((n) => ({
      label: `${n} items`,
      bytes: Buffer.from(
        JSON.stringify({
          data: Array.from({ length: n }, (_, i) => {
            const author = { id: String(8_810_000_000 + (manySerial++ % 100_000)), username: `many${i}`, name: 'Many' };
            return (xaaMention({ author, id: nextXId() }) as { data: unknown }).data;
          }),
        }),
      ),
    })),
  );

  it('never crash a function nor produce a 5xx: 200 when it is JSON, 400 when it is not, and ingest never fails on what was queued', async () => {
    const statuses: Record<string, number[]> = {};
    await fc.assert(
      fc.asyncProperty(body, async ({ label, bytes }) => {
        const answer = await rawPost(bytes, [['x-twitter-webhooks-signature', signWebhookBody(SECRETS.X_API_SECRET, bytes)]]);
        const kind = label.split(' ')[0]!;
        (statuses[kind] ??= []).push(answer.status);
        let isJson = true;
        try {
          JSON.parse(bytes.toString('utf8'));
        } catch {
          isJson = false;
        }
        expect(answer.status, `${label}: ${answer.body.slice(0, 200)}`).toBe(isJson ? 200 : 400);
      }),
      { numRuns: 50, ...(process.env.FC_SEED ? { seed: Number(process.env.FC_SEED) } : {}) },
    );
    const context = `sent: ${JSON.stringify(statuses)}; ingest: ${JSON.stringify(b.eventSources.ingest!.stats())}`;
    const report = await b.waitForIdle({ timeoutMs: 60_000, untilEmpty: true });
    expect(report.queues.inbound.deadLetters, context).toBe(0);
    expect(b.eventSources.ingest!.stats(), context).toMatchObject({ handlerErrors: 0, timeouts: 0 });
    // An item may go back to the queue only because others changed its ticket meanwhile (contention), never because
    // ingest could not handle what the webhook queued.
    const failures = logs.text().split('\n').filter((line) => line.includes('inbound item failed'));
    expect(failures.filter((line) => !line.includes('kept changing')).map((line) => line.slice(0, 600)), context).toEqual([]);
    expect((await fetch(`${b.url}/healthz`)).status).toBe(200);
  }, 120_000);
});

describe('strings longer than X allows', () => {
  it('an 800 KB text and a 100 KB display name are acknowledged and stored, cut to what X can send', async () => {
    const author = { id: '8800000009', username: 'long_writer', name: 'n'.repeat(100_000) };
    const postId = nextXId();
    const dmId = nextXId();
    expect((await b.postWebhook(xaaMention({ id: postId, author, text: `@AcmeSupport ${'😀'.repeat(200_000)}` }))).status).toBe(200);
    expect((await b.postWebhook(aaaDm({ id: dmId, sender: author, text: '\u0001'.repeat(150_000) }))).status).toBe(200);
    await eventually('both stored', async () => {
      const items = await b.scanTable();
      return items.filter((i) => i.xId === postId || i.xId === dmId).length === 2 ? items : undefined;
    });
    const view = (await b.api('GET', `/tickets/mn-${author.id}-1`)).json as { ticket: { customer: { name: string } }; messages: { text: string }[] };
    expect([...view.messages[0]!.text]).toHaveLength(25_000);
    expect(view.messages[0]!.text.startsWith('@AcmeSupport 😀😀')).toBe(true);
    expect(view.ticket.customer.name).toBe('n'.repeat(100));
    const dm = (await b.api('GET', `/tickets/dm-${author.id}-1`)).json as { messages: { text: string }[] };
    expect(dm.messages[0]!.text).toBe('\u0001'.repeat(25_000));
  });
});

describe('CRC tokens of odd shapes', () => {
  const crc = async (query: string) => {
    const response = await fetch(`${b.url}/x/webhook${query}`);
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  };
  const percentEncode = (value: string) => [...Buffer.from(value, 'utf8')].map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join('');

  it.each([
    ['missing', ''],
    ['empty', '?crc_token='],
    ['without a value', '?crc_token'],
    ['257 characters', `?crc_token=${'a'.repeat(257)}`],
    ['10,000 characters', `?crc_token=${'a'.repeat(10_000)}`],
    ['a space', '?crc_token=a%20b'],
    ['a plus (a space once decoded)', '?crc_token=a+b'],
    ['a NUL', '?crc_token=a%00'],
    ['a newline', '?crc_token=a%0Ab'],
    ['a tab', '?crc_token=%09'],
    ['non-ASCII', '?crc_token=caf%C3%A9'],
    ['an emoji', '?crc_token=%F0%9F%9A%80'],
    ['a malformed escape', '?crc_token=%E0%A4%A'],
    ['given twice', '?crc_token=a&crc_token=b'],
    ['as an array', '?crc_token[]=abc'],
  ])('refused when %s: 400 and no signature', async (_label, query) => {
    const answer = await crc(query);
    expect(answer.status).toBe(400);
    expect(answer.json).not.toHaveProperty('response_token');
    expect(answer.json).toMatchObject({ error: { code: 'bad_request', field: 'crc_token' } });
  });

  it('any token: signed when it is 1 to 256 printable ASCII characters, refused otherwise', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 300 })), async (token) => {
        const decoded = Buffer.from(token, 'utf8').toString('utf8');
        const answer = await crc(`?crc_token=${percentEncode(token)}`);
        if (/^[\x21-\x7e]{1,256}$/.test(decoded)) {
          expect(answer).toEqual({ status: 200, json: { response_token: crcResponseToken(SECRETS.X_API_SECRET, decoded) } });
        } else {
          expect(answer.status).toBe(400);
          expect(answer.json).not.toHaveProperty('response_token');
        }
      }),
      { numRuns: 150 },
    );
  });
});

describe('helpdesk API inputs bounded and validated', () => {
  let ticketId: string;
  beforeAll(async () => {
    const author = { id: '8800000003', username: 'api_target', name: 'API' };
    await b.postWebhook(xaaMention({ author }));
    ticketId = `mn-${author.id}-1`;
    await eventually('the ticket exists', async () => ((await b.api('GET', `/tickets/${ticketId}`)).status === 200 ? true : undefined));
  });

  const call = async (method: string, path: string, init: { body?: string | Buffer; headers?: Record<string, string>; token?: string | null } = {}) => {
    const headers: Record<string, string> = { ...init.headers };
    const token = init.token === undefined ? SECRETS.HELPDESK_API_TOKEN : init.token;
    if (token !== null) headers.authorization ??= `Bearer ${token}`;
    if (init.body !== undefined) headers['content-type'] ??= 'application/json';
    const response = await fetch(`${b.url}${path}`, { method, headers, ...(init.body !== undefined ? { body: init.body } : {}) });
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.status, json, text };
  };
  const errorShaped = (json: unknown) =>
    typeof json === 'object' && json !== null && typeof (json as { error?: { code?: unknown; message?: unknown } }).error?.code === 'string' && typeof (json as { error: { message?: unknown } }).error.message === 'string';

  it('refuses bad tokens, queries, paths and bodies with the right 4xx and the contract error shape', async () => {
    const cases: [string, () => ReturnType<typeof call>, number][] = [
      ['no token', () => call('GET', '/tickets', { token: null }), 401],
      ['a wrong token', () => call('GET', '/tickets', { token: 'x'.repeat(64) }), 401],
      ['a 10,000-character token', () => call('GET', '/tickets', { token: 'x'.repeat(10_000) }), 401],
      ['Basic auth', () => call('GET', '/tickets', { headers: { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` } }), 401],
      ['the token with a suffix', () => call('GET', '/tickets', { token: `${SECRETS.HELPDESK_API_TOKEN}x` }), 401],
      ['limit=0', () => call('GET', '/tickets?limit=0'), 400],
      ['limit=101', () => call('GET', '/tickets?limit=101'), 400],
      ['limit=abc', () => call('GET', '/tickets?limit=abc'), 400],
      ['limit=1e400', () => call('GET', '/tickets?limit=1e400'), 400],
      ['limit=2.5', () => call('GET', '/tickets?limit=2.5'), 400],
      ['status=closed', () => call('GET', '/tickets?status=closed'), 400],
      ['a garbage cursor', () => call('GET', '/tickets?cursor=%%%garbage'), 400],
      ['a 600-character cursor', () => call('GET', `/tickets?cursor=${'a'.repeat(600)}`), 400],
      ['a cursor of the wrong shape', () => call('GET', `/tickets?cursor=${Buffer.from('{"before":1}').toString('base64url')}`), 400],
      ['a malformed escape in the ticket id', () => call('GET', '/tickets/%E0%A4%A'), 400],
      ['a 5,000-digit ticket id', () => call('GET', `/tickets/mn-${'9'.repeat(5000)}-1`), 404],
      ['a traversal-looking ticket id', () => call('GET', '/tickets/..%2F..%2Fetc'), 404],
      ['a non-ASCII ticket id', () => call('GET', '/tickets/%F0%9F%9A%80'), 404],
      ['PATCH without a body', () => call('PATCH', `/tickets/${ticketId}`), 400],
      ['PATCH with non-JSON', () => call('PATCH', `/tickets/${ticketId}`, { body: 'status=solved' }), 400],
      ['PATCH to an unknown status', () => call('PATCH', `/tickets/${ticketId}`, { body: '{"status":"closed"}' }), 400],
      ['PATCH with an extra field', () => call('PATCH', `/tickets/${ticketId}`, { body: '{"status":"open","sequence":99}' }), 400],
      ['PATCH with an array', () => call('PATCH', `/tickets/${ticketId}`, { body: '[{"status":"open"}]' }), 400],
      ['PATCH 10,000 levels deep', () => call('PATCH', `/tickets/${ticketId}`, { body: `{"status":${'['.repeat(10_000)}${']'.repeat(10_000)}}` }), 400],
      ['PATCH over 64 KB', () => call('PATCH', `/tickets/${ticketId}`, { body: JSON.stringify({ status: 'open', pad: 'x'.repeat(70_000) }) }), 413],
      ['a reply whose text is a number', () => call('POST', `/tickets/${ticketId}/replies`, { body: '{"text":42}' }), 400],
      ['a blank reply', () => call('POST', `/tickets/${ticketId}/replies`, { body: '{"text":"   "}' }), 400],
      ['a reply over 280 weighted characters', () => call('POST', `/tickets/${ticketId}/replies`, { body: JSON.stringify({ text: '字'.repeat(141) }) }), 422],
      ['a 20,001-character reply', () => call('POST', `/tickets/${ticketId}/replies`, { body: JSON.stringify({ text: 'a'.repeat(20_001) }) }), 400],
      ['a bad inReplyToMessageId', () => call('POST', `/tickets/${ticketId}/replies`, { body: '{"text":"hi","inReplyToMessageId":"msg-../1"}' }), 400],
      ['an inReplyToMessageId from another ticket', () => call('POST', `/tickets/${ticketId}/replies`, { body: '{"text":"hi","inReplyToMessageId":"msg-123"}' }), 400],
      ['a 256-character Idempotency-Key', () => call('POST', `/tickets/${ticketId}/replies`, { body: '{"text":"hi"}', headers: { 'idempotency-key': 'k'.repeat(256) } }), 400],
      ['an Idempotency-Key with a space', () => call('POST', `/tickets/${ticketId}/replies`, { body: '{"text":"hi"}', headers: { 'idempotency-key': 'a b' } }), 400],
      ['an Idempotency-Key with a non-ASCII byte', () => call('POST', `/tickets/${ticketId}/replies`, { body: '{"text":"hi"}', headers: { 'idempotency-key': 'caf\u00e9' } }), 400],
      ['a reply to an unknown ticket', () => call('POST', '/tickets/mn-1-1/replies', { body: '{"text":"hi"}' }), 404],
    ];
    const results = await Promise.all(cases.map(async ([label, run, expected]) => ({ label, expected, answer: await run() })));
    expect(results.filter((r) => r.answer.status !== r.expected).map((r) => `${r.label}: ${r.answer.status} ${r.answer.text.slice(0, 120)}`)).toEqual([]);
    expect(results.filter((r) => !errorShaped(r.answer.json)).map((r) => r.label)).toEqual([]);
    // 422 tells the agent how long the text was as X counts it.
    expect(results.find((r) => r.expected === 422)!.answer.json).toMatchObject({ error: { weightedLength: 282, max: 280 } });
  });

  it('fuzzed bodies, queries and ids never get a 5xx, and every error has the contract shape', async () => {
    const json = fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v));
    const text = fc.string({ unit: 'binary', maxLength: 40 });
    const request = fc.oneof(
      // Header values a client can send at all (fetch refuses control characters): printable ASCII and Latin-1.
      fc.tuple(json, fc.option(fc.string({ unit: fc.oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0xa0, max: 0xff })).map((c) => String.fromCharCode(c)), maxLength: 40 }), { nil: undefined })).map(([body, key]) => ({
        method: 'POST',
        path: '/tickets/mn-999-1/replies',
        body,
        ...(key !== undefined ? { headers: { 'idempotency-key': key } } : {}),
      })),
      fc.record({ text, extra: fc.option(fc.jsonValue({ maxDepth: 2 }), { nil: undefined }) }).map((b) => ({
        method: 'POST',
        path: '/tickets/mn-999-1/replies',
        body: JSON.stringify(b.extra === undefined ? { text: b.text } : b),
      })),
      json.map((body) => ({ method: 'PATCH', path: `/tickets/${ticketId}`, body })),
      fc.string({ unit: 'binary', maxLength: 60 }).map((id) => ({ method: 'GET', path: `/tickets/${encodeURIComponent(id.replace(/[\uD800-\uDFFF]/g, '?')) || 'x'}` })),
      fc.dictionary(fc.constantFrom('limit', 'status', 'cursor', 'other'), fc.string({ unit: 'binary-ascii', maxLength: 30 })).map((query) => ({
        method: 'GET',
        path: `/tickets?${new URLSearchParams(query).toString()}`,
      })),
    );
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const answer = await call(r.method, r.path, {
          ...('body' in r ? { body: r.body } : {}),
          ...('headers' in r ? { headers: r.headers } : {}),
        });
        expect(answer.status, `${r.method} ${r.path}: ${answer.text.slice(0, 200)}`).toBeLessThan(500);
        if (answer.status >= 400) expect(errorShaped(answer.json), answer.text).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});

describe('no secret or token in any log line', () => {
  // The property: no line this process wrote, at any level, holds 8 or more characters in a row of a secret or token
  // (the X consumer key and secret, the bot's access token and its secret, the helpdesk webhook secret and its decoded
  // key, the API token), as written or hex, base64, base64url or percent-encoded; nor an Authorization header's
  // value or an OAuth 1.0a parameter. Every line of the whole file counts: the floods, the fuzzing and the paths below.
  const scanner = secretLeakScanner({
    X_API_KEY: SECRETS.X_API_KEY,
    X_API_SECRET: SECRETS.X_API_SECRET,
    'X_ACCESS_TOKEN (after the user id)': ACCESS_TOKEN_SECRET_PART,
    X_ACCESS_TOKEN_SECRET: SECRETS.X_ACCESS_TOKEN_SECRET,
    HELPDESK_WEBHOOK_SECRET: SECRETS.HELPDESK_WEBHOOK_SECRET,
    'HELPDESK_WEBHOOK_SECRET (decoded key)': webhookKey,
    HELPDESK_API_TOKEN: SECRETS.HELPDESK_API_TOKEN,
    'a refused API token': WRONG_API_TOKEN,
  });

  it('through every function, failures included, at DEBUG level', async () => {
    // Paths that log the most: X refusing the bot (401), X unreachable, X 5xx, X failing the look-up of a reply whose
    // fate is unknown (an error with X's error in it), the helpdesk failing, a refused token, an unsigned delivery, a
    // CRC challenge.
    const author = { id: '8800000004', username: 'log_probe', name: 'Log' };
    const mentionId = nextXId();
    await b.postWebhook(xaaMention({ id: mentionId, author }));
    await b.postWebhook(xaaDm({ sender: author, text: `my token is ${SECRETS.HELPDESK_API_TOKEN.slice(0, 3)}…` }));
    const ticketId = `mn-${author.id}-1`;
    await helpdesk.waitFor((events) => events.some((e) => e.json.data.ticket?.id === ticketId), 15_000);
    x.failNext(1, xResponses.unauthorized(), { method: 'POST', path: '/2/tweets' });
    x.failNext(1, xResponses.connectionReset(), { method: 'POST', path: '/2/tweets' });
    x.failNext(1, xResponses.serviceUnavailable(), { method: 'POST', path: '/2/tweets' });
    x.failNext(1, xResponses.serviceUnavailable(), { method: 'GET', path: /^\/2\/users\/\d+\/tweets$/ });
    helpdesk.respondWith([503, 500]);
    // One reply at a time, each reaching X before the next is asked for, so each meets its own scripted failure.
    for (const text of ['Refused by X', 'Dropped by X', 'Retried after a 503']) {
      expect((await b.api('POST', `/tickets/${ticketId}/replies`, { text }, SECRETS.HELPDESK_API_TOKEN)).status, text).toBe(202);
      await eventually(`X asked to post "${text}"`, () => (x.requestsTo('POST', '/2/tweets').some((r) => (r.body as { text?: unknown } | undefined)?.text === text) ? true : undefined));
    }
    expect((await b.api('GET', '/tickets', undefined, WRONG_API_TOKEN)).status).toBe(401);
    expect((await b.postWebhook(xaaMention({ author }), { sign: false })).status).toBe(401);
    expect((await fetch(`${b.url}/x/webhook?crc_token=probe`)).status).toBe(200);
    await helpdesk.waitFor((events) => events.filter((e) => e.json.data.ticket?.id === ticketId && e.type.startsWith('ticket.reply_') && e.status === 204).length >= 3, 30_000);
    await b.waitForIdle({ timeoutMs: 20_000 });

    const text = logs.text();
    // The capture works: it holds the functions' structured lines, at every level they were written at.
    for (const line of ['webhook delivery queued', 'inbound item applied', 'ticket event delivered', 'reply posted', 'X refused the reply for good', 'webhook request refused', 'reply attempt failed']) {
      expect(text, line).toContain(line);
    }
    for (const level of ['INFO', 'WARN', 'ERROR']) expect(text, level).toContain(`"level":"${level}"`);

    const leaks = scanner.scan(text);
    expect(leaks.map((leak) => `${leak.what}: ${leak.line}`)).toEqual([]);
  }, 60_000);
});
