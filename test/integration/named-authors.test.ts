// Named authors end to end on DynamoDB Local, the SQS emulator and a fake X: X's bodies for replies and quotes
// carry `includes: {}`, so ingest looks the authors up (GET /2/users?ids=, signed as the bot), caches them for a day,
// and counts every read against X_READ_BUDGET_PER_DAY on the day's counter in the table.
import { readFileSync } from 'node:fs';
import { DeleteItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createIngestHandler } from '../../functions/ingest/handler';
import { loadFunctionHandlers } from '../../infra/local/bridge';
import { LOCAL_AWS } from '../../infra/local/services';
import { sqsClient } from '../../shared/aws/sqs-client';
import { dynamoXCache } from '../../shared/aws/dynamo-x-cache';
import { readDayOf } from '../../shared/x/x-reads';
import { FakeXServer, xResponses, type FakeUser } from '../support/fake-x-server';
import { createHelpdeskReceiver, type HelpdeskReceiver } from '../support/helpdesk-receiver';
import { startTestBridge, type TestBridge } from '../support/test-bridge';
import { BOT, nextXId, xaaBatch, xaaQuote, xaaReply, type XUserRef } from '../support/x-payloads';
import { compressVisibility } from '../support/compress-visibility';

const SECRET = `whsec_${Buffer.from('named-authors-test-secret-32byte').toString('base64')}`;
const CREDENTIALS = {
  consumerKey: 'named-consumer-key',
  consumerSecret: 'named-consumer-secret',
  accessToken: `${BOT.id}-named-access-token`,
  accessTokenSecret: 'named-access-token-secret',
};
const FIXTURES = JSON.parse(readFileSync(new URL('../fixtures/x/x-lookup-responses.json', import.meta.url), 'utf8')) as Record<
  string,
  { request: string; status: number; body: unknown }
>;

let helpdesk: HelpdeskReceiver;
let x: FakeXServer;
/** How far the fake X's clock runs ahead of ours: a test moves it past a rate-limit reset instead of waiting. */
let xClockAheadMs = 0;
const bridges: TestBridge[] = [];
/** The visibility (seconds) ingest asked for each item it gave back, in order; the queue applied at most 1 s of it. */
const requestedDelays: number[] = [];
const ownSqs: ReturnType<typeof sqsClient>[] = [];

beforeAll(async () => {
  helpdesk = createHelpdeskReceiver(SECRET);
  await helpdesk.start();
  x = new FakeXServer({ credentials: CREDENTIALS, now: () => Date.now() + xClockAheadMs });
  await x.start();
});
afterAll(async () => {
  await helpdesk.stop();
  await x.stop();
});
afterEach(async () => {
  await Promise.all(bridges.splice(0).map((b) => b.stop()));
  for (const client of ownSqs.splice(0)) client.destroy();
  requestedDelays.length = 0;
  xClockAheadMs = 0;
  helpdesk.reset();
  x.reset();
});

/**
 * A bridge on the fake X. `retryAfterSeconds`: the inbound queue's visibility timeout, how soon an item given back
 * is handed out again; short only where a test waits for a retry, since a slow first attempt (a cold start) would
 * otherwise be handed out twice and read twice.
 */
async function bridge(env: Record<string, string> = {}, retryAfterSeconds = 60): Promise<TestBridge> {
  const real = await loadFunctionHandlers();
  const b = await startTestBridge({
    handlers: {
      ...real,
      // Ingest's own SQS client, time compressed: the backoff it asks for (30 s, 60 s, ... or X's reset) is recorded
      // and applied as at most 1 s, so a test checks the schedule without waiting it out.
      ingest: (config, clients, options) => {
        const sqs = sqsClient(config);
        ownSqs.push(sqs);
        compressVisibility(sqs, requestedDelays);
        return createIngestHandler(config, { dynamodb: clients!.dynamodb, sqs }, options);
      },
    },
    env: {
      HELPDESK_WEBHOOK_URL: helpdesk.url,
      HELPDESK_WEBHOOK_SECRET: SECRET,
      X_API_BASE_URL: x.url,
      X_API_KEY: CREDENTIALS.consumerKey,
      X_API_SECRET: CREDENTIALS.consumerSecret,
      X_ACCESS_TOKEN: CREDENTIALS.accessToken,
      X_ACCESS_TOKEN_SECRET: CREDENTIALS.accessTokenSecret,
      ...env,
    },
    queueSpecs: { inbound: { visibilityTimeoutSeconds: retryAfterSeconds } },
  });
  bridges.push(b);
  return b;
}

let nextUser = 731_000_000;
function customer(): XUserRef & { fake: FakeUser } {
  const id = String(nextUser++);
  const fake: FakeUser = {
    id,
    username: `cust_${id}`,
    name: `Customer ${id}`,
    profile_image_url: `https://pbs.twimg.com/profile_images/${id}/photo_normal.jpg`,
    verified_type: 'none',
    public_metrics: { followers_count: 42, following_count: 7, tweet_count: 300, listed_count: 0 },
    protected: false,
  };
  return { id, username: fake.username, name: fake.name, fake };
}

/** A reply to the bot as X's post.reply.create sample has it: `includes: {}`, no user object at all. */
const unnamedReply = (author: XUserRef, id = nextXId()) =>
  xaaReply({ id, author, inReplyTo: { id: nextXId(), user: BOT }, includes: 'empty' });

type ShownUser = Record<string, unknown> & { name: string };
const customerIn = (event: { json: { data: { ticket?: unknown } } }) => (event.json.data.ticket as { customer: ShownUser }).customer;
const ticketEvents = (ticketId: string) => helpdesk.events.filter((e) => e.json.data.ticket?.id === ticketId);
const usersLookups = () => x.requestsTo('GET', '/2/users');
const idsAsked = () => usersLookups().reduce((sum, r) => sum + (r.query.ids ?? '').split(',').length, 0);

async function readDay(b: TestBridge) {
  const db = new DynamoDBClient({ endpoint: b.endpoints.dynamodb, ...LOCAL_AWS });
  try {
    return await dynamoXCache(db, b.resources.tableName, { brand: b.config.brand }).reads.day(readDayOf(new Date()));
  } finally {
    db.destroy();
  }
}

describe('named authors', () => {
  it('a reply from `includes: {}` arrives named in the helpdesk event, with the profile agents see', async () => {
    const b = await bridge();
    const jane = customer();
    x.addUser(jane.fake);
    const id = nextXId();
    expect((await b.postWebhook(unnamedReply(jane, id))).status).toBe(200);
    const ticketId = `mn-${jane.id}-1`;
    await helpdesk.waitFor(() => ticketEvents(ticketId).length > 0, 15_000);
    const [created] = ticketEvents(ticketId);
    expect(created!.json).toMatchObject({
      type: 'ticket.created',
      data: {
        ticket: {
          customer: {
            xUserId: jane.id,
            username: jane.username,
            name: jane.name,
            profileImageUrl: jane.fake.profile_image_url,
            verifiedType: 'none',
            followersCount: 42,
            protected: false,
          },
        },
        message: { xId: id, author: { xUserId: jane.id, username: jane.username } },
      },
    });
    expect(customerIn(created!).unresolved).toBeUndefined();
    // Asked as X documents it, signed as the bot (the fake checks the OAuth 1.0a signature).
    expect(usersLookups()).toHaveLength(1);
    expect(usersLookups()[0]!.query).toEqual({
      ids: jane.id,
      'user.fields': 'username,name,profile_image_url,verified_type,public_metrics,protected',
    });
  });

  it('a redelivery of a stored item looks up nobody, even once the cache has forgotten its author', async () => {
    const b = await bridge();
    const jane = customer();
    x.addUser(jane.fake);
    const body = unnamedReply(jane, nextXId());
    expect((await b.postWebhook(body)).status).toBe(200);
    const ticketId = `mn-${jane.id}-1`;
    await helpdesk.waitFor(() => ticketEvents(ticketId).length > 0, 15_000);
    expect(usersLookups()).toHaveLength(1);
    // The day's cache gone (its TTL passed): only the stored message can tell that nothing needs naming.
    const db = new DynamoDBClient({ endpoint: b.endpoints.dynamodb, ...LOCAL_AWS });
    try {
      for (const item of await b.scanTable()) {
        if (String(item.pk).startsWith('XUSER#')) {
          await db.send(new DeleteItemCommand({ TableName: b.resources.tableName, Key: marshall({ pk: item.pk, sk: item.sk }) }));
        }
      }
    } finally {
      db.destroy();
    }
    expect((await b.postWebhook(body)).status).toBe(200);
    await b.waitForIdle({ timeoutMs: 15_000 });
    expect(usersLookups()).toHaveLength(1);
    expect(ticketEvents(ticketId).map((e) => e.type)).toEqual(['ticket.created']);
  });

  it('100 new customers cost 100 user reads in batched look-ups; their second items cost none', async ({ annotate }) => {
    const b = await bridge();
    const people = Array.from({ length: 100 }, () => customer());
    for (const person of people) x.addUser(person.fake);
    // Ten webhook deliveries of ten replies each, as X batches busy accounts.
    for (let i = 0; i < 100; i += 10) {
      expect((await b.postWebhook(xaaBatch(people.slice(i, i + 10).map((p) => unnamedReply(p))))).status).toBe(200);
    }
    await b.waitForIdle({ timeoutMs: 60_000 });
    const requests = usersLookups().length;
    expect(idsAsked()).toBe(100);
    expect(requests).toBeLessThanOrEqual(100);
    const day = await readDay(b);
    expect(day).toMatchObject({ reads: 100, userReads: 100, postReads: 0, refused: 0, costMicroUsd: 1_000_000 });
    await annotate(`reads per 100 new customers: ${day.reads} user reads in ${requests} GET /2/users requests ($${day.costMicroUsd / 1e6})`);

    // Each customer writes again: named from the cache, no request, no read.
    for (let i = 0; i < 100; i += 10) {
      expect((await b.postWebhook(xaaBatch(people.slice(i, i + 10).map((p) => unnamedReply(p))))).status).toBe(200);
    }
    await b.waitForIdle({ timeoutMs: 60_000 });
    expect(usersLookups()).toHaveLength(requests);
    expect((await readDay(b)).reads).toBe(100);
    const items = await b.scanTable();
    const messages = items.filter((i) => i.type === 'message');
    expect(messages).toHaveLength(200);
    expect(messages.filter((m) => !(m.author as { username: string }).username)).toEqual([]);
  });

  it('X failing the look-up leaves the item queued, put off longer each time; once X answers it is ticketed named, once', async () => {
    const b = await bridge({}, 1);
    const sam = customer();
    x.addUser(sam.fake);
    x.failNext(1, xResponses.serviceUnavailable(), { method: 'GET', path: '/2/users' });
    x.failNext(1, xResponses.serviceUnavailable(), { method: 'GET', path: '/2/users' });
    expect((await b.postWebhook(unnamedReply(sam))).status).toBe(200);
    const ticketId = `mn-${sam.id}-1`;
    await helpdesk.waitFor(() => ticketEvents(ticketId).length > 0, 20_000);
    await b.waitForIdle({ timeoutMs: 20_000 });
    // Both scripted 503s were met before the look-up that named Sam; after each the item was hidden for the backoff
    // of its receive count (shared/x/lookup-backoff.ts), not the queue's fixed visibility.
    expect(usersLookups().length).toBeGreaterThanOrEqual(3);
    expect(b.eventSources.ingest!.stats().received).toBeGreaterThanOrEqual(3);
    expect(requestedDelays).toEqual([30, 60]);
    const events = ticketEvents(ticketId);
    expect(events.map((e) => e.type)).toEqual(['ticket.created']);
    expect(customerIn(events[0]!)).toMatchObject({ username: sam.username, name: sam.name });
    // The failed attempts were not billed: only answers that named Sam count (one, unless a slow attempt was
    // handed out twice).
    const day = await readDay(b);
    expect(day.reads).toBe(usersLookups().length - 2);
    expect(day.userReads).toBe(day.reads);
  });

  it("X refusing the look-up with a 429 puts the item off until X's rate-limit reset, then it is ticketed named", async () => {
    const b = await bridge({}, 1);
    const lee = customer();
    x.addUser(lee.fake);
    // X's reset (epoch seconds) ten minutes away: longer than the first backoff (30 s), so the reset decides.
    const reset = Math.ceil(Date.now() / 1000) + 600;
    x.failNext(1, xResponses.rateLimited({ reset }), { method: 'GET', path: '/2/users' });
    expect((await b.postWebhook(unnamedReply(lee))).status).toBe(200);
    const ticketId = `mn-${lee.id}-1`;
    // The fake X holds the bot to the reset it announced; its clock passes the reset once ingest has put the item off.
    await expect.poll(() => requestedDelays.length, { timeout: 10_000 }).toBeGreaterThan(0);
    xClockAheadMs = 601_000;
    await helpdesk.waitFor(() => ticketEvents(ticketId).length > 0, 20_000);
    await b.waitForIdle({ timeoutMs: 20_000 });
    // Hidden until the reset, not for the first backoff (30 s): 600 s from this test's clock, give or take the whole
    // seconds X's reset and the visibility are counted in and the moments between the two readings of the clock.
    expect(requestedDelays[0]).toBeGreaterThanOrEqual(590);
    expect(requestedDelays[0]).toBeLessThanOrEqual(601);
    expect(customerIn(ticketEvents(ticketId)[0]!)).toMatchObject({ username: lee.username, name: lee.name });
  });

  it("X refusing the look-up for spent credits takes the channel down, once; the item waits queued and X's next answer brings both back", async () => {
    const b = await bridge({}, 1);
    const kim = customer();
    x.addUser(kim.fake);
    x.failNext(3, xResponses.creditsDepleted(), { method: 'GET', path: '/2/users' });
    expect((await b.postWebhook(unnamedReply(kim))).status).toBe(200);
    const channel = () => helpdesk.events.filter((e) => e.json.type === 'channel.health_changed').map((e) => e.json.data.channel as { status: string; reason: string });
    const ticketId = `mn-${kim.id}-1`;
    await helpdesk.waitFor(() => ticketEvents(ticketId).length > 0, 30_000);
    await helpdesk.waitFor(() => channel().length >= 2, 15_000);
    // Three refusals, one `down`; the look-up X answered after them named Kim and brought the channel back.
    expect(usersLookups().length).toBeGreaterThanOrEqual(4);
    expect(channel()).toEqual([
      expect.objectContaining({ status: 'down', reason: 'credits_depleted' }),
      expect.objectContaining({ status: 'ok', reason: 'recovered' }),
    ]);
    expect(customerIn(ticketEvents(ticketId)[0]!)).toMatchObject({ username: kim.username, name: kim.name });
  });

  it('with a read budget of 0 the item is ticketed at once, its author unresolved and shown by X id; nothing is read', async () => {
    const b = await bridge({ X_READ_BUDGET_PER_DAY: '0' });
    const ann = customer();
    x.addUser(ann.fake);
    expect((await b.postWebhook(unnamedReply(ann))).status).toBe(200);
    const ticketId = `mn-${ann.id}-1`;
    await helpdesk.waitFor(() => ticketEvents(ticketId).length > 0, 15_000);
    expect(customerIn(ticketEvents(ticketId)[0]!)).toMatchObject({
      xUserId: ann.id,
      name: `X user ${ann.id}`,
      unresolved: true,
    });
    expect(usersLookups()).toEqual([]);
    expect(await readDay(b)).toMatchObject({ reads: 0, refused: 1 });
  });

  it('an account X says does not exist is ticketed with a clear placeholder marked notFound', async () => {
    const b = await bridge();
    const gone = customer();
    expect((await b.postWebhook(unnamedReply(gone))).status).toBe(200);
    const ticketId = `mn-${gone.id}-1`;
    await helpdesk.waitFor(() => ticketEvents(ticketId).length > 0, 15_000);
    const customerShown = customerIn(ticketEvents(ticketId)[0]!);
    expect(customerShown).toMatchObject({ xUserId: gone.id, notFound: true });
    expect(customerShown.name).toContain(gone.id);
    // The message says it too, for a helpdesk that shows authors message by message.
    expect((ticketEvents(ticketId)[0]!.json.data as { message: { author: unknown } }).message.author).toMatchObject({ xUserId: gone.id, notFound: true });
  });

  it('a quote X sent without the quoted post gets its text and author by a posts look-up', async () => {
    const b = await bridge();
    const quoter = customer();
    const author = customer();
    x.addUser(quoter.fake).addUser(author.fake);
    const quotedId = nextXId();
    x.addPost({ id: quotedId, text: 'Deliveries resume on Monday & not before', authorId: author.id });
    const body = xaaQuote({
      author: quoter,
      includes: 'empty',
      quoted: { post: { id: quotedId, author, text: 'ignored: not included' }, included: false },
    });
    expect((await b.postWebhook(body)).status).toBe(200);
    const ticketId = `mn-${quoter.id}-1`;
    await helpdesk.waitFor(() => ticketEvents(ticketId).length > 0, 15_000);
    expect((ticketEvents(ticketId)[0]!.json.data as { message?: { quoted?: unknown } }).message?.quoted).toMatchObject({
      xId: quotedId,
      text: 'Deliveries resume on Monday & not before',
      author: { xUserId: author.id, username: author.username },
    });
    expect(x.requestsTo('GET', '/2/tweets')[0]!.query).toMatchObject({ ids: quotedId, expansions: 'author_id' });
    // The quote's author came with the post; the quoter alone needed a users look-up.
    expect(idsAsked()).toBe(1);
  });
});

describe('the read counter in the table', () => {
  it('concurrent reservations never reserve past the budget, and a day is counted apart from the next', async () => {
    const b = await bridge();
    const db = new DynamoDBClient({ endpoint: b.endpoints.dynamodb, ...LOCAL_AWS });
    try {
      const { reads } = dynamoXCache(db, b.resources.tableName, { brand: b.config.brand });
      const granted = await Promise.all(Array.from({ length: 20 }, () => reads.reserve({ day: '2026-11-16', wanted: 3, budget: 10 })));
      expect(granted.reduce((sum, n) => sum + n, 0)).toBe(10);
      expect((await reads.day('2026-11-16')).reads).toBe(10);
      expect(await reads.reserve({ day: '2026-11-17', wanted: 3, budget: 10 })).toBe(3);
      await reads.settle({ day: '2026-11-16', unused: 4, made: { user: 6 }, refused: 50, costMicroUsd: 60_000 });
      expect(await reads.day('2026-11-16')).toEqual({ day: '2026-11-16', reads: 6, userReads: 6, postReads: 0, refused: 50, costMicroUsd: 60_000 });
    } finally {
      db.destroy();
    }
  });
});

describe('the fake X look-ups answer as X documents them', () => {
  it.each(Object.keys(FIXTURES).filter((name) => !name.startsWith('_')))('%s', async (name) => {
    const fixture = FIXTURES[name]!;
    x.addUser({ id: '2244994945', username: 'XDevelopers', name: 'Developers', profile_image_url: 'https://pbs.twimg.com/profile_images/1683501992314798080/xl1POYLw_normal.jpg', verified_type: 'business', public_metrics: { followers_count: 583423, following_count: 2048, tweet_count: 14052, listed_count: 1672 }, protected: false });
    x.addPost({ id: '1460323737035677698', text: 'Introducing a new era for the Twitter Developer Platform! \n\n📣The Twitter API v2 is now the primary API', authorId: '2244994945' });
    const auth = { authorization: 'Bearer app-only-token' };
    const response = await fetch(`${x.url}${fixture.request.replace(/^GET /, '')}`, { headers: auth });
    expect(response.status).toBe(fixture.status);
    expect(await response.json()).toEqual(fixture.body);
  });
});
