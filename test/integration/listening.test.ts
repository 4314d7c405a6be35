// Listening end to end on DynamoDB Local, the SQS emulator, the fake X and the real ingest and reconcile functions: a
// post that only X's recent search shows (it matches a listening query) is ticketed once, named, with
// `source: "listening"`; the webhook delivering it later is a duplicate; retweets and the account's own posts never
// become tickets; the day's read budget caps listening; a public reply to such a customer is refused under
// X_REPLY_POLICY=summoned with nothing sent to X; and a mention a brand rule drops opens nothing and is counted.
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createReconcileHandler } from '../../functions/reconcile/handler';
import { createAwsClients, type AwsClients } from '../../shared/aws/clients';
import { RetryableError } from '../../shared/errors';
import { createXTimelineReads, type XTimelineReads } from '../../shared/x/reconcile-x-client';
import { FakeXServer } from '../support/fake-x-server';
import { createHelpdeskReceiver, type HelpdeskReceiver } from '../support/helpdesk-receiver';
import { captureLogs } from '../support/log-capture';
import { startTestBridge, type TestBridge } from '../support/test-bridge';
import { BOT, xaaMention, type XUserRef } from '../support/x-payloads';

// The metrics are on in this file (as on Lambda), before the logger module creates them, so a drop's count is seen in
// what Powertools writes; everything written is captured, not printed.
vi.hoisted(() => {
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
});

const SECRET = `whsec_${Buffer.from('listening-test-secret-32-bytes!!').toString('base64')}`;
const CREDENTIALS = {
  consumerKey: 'listening-consumer-key',
  consumerSecret: 'listening-consumer-secret',
  accessToken: `${BOT.id}-listening-access-token`,
  accessTokenSecret: 'listening-access-token-secret',
};
const QUERY = '"acme widget" (died OR broken)';
const SENT_QUERY = `(${QUERY}) -is:retweet -from:${BOT.username}`;
const SEARCH = '/2/tweets/search/recent';

let helpdesk: HelpdeskReceiver;
let x: FakeXServer;
let logs: ReturnType<typeof captureLogs>;
beforeEach(() => {
  logs = captureLogs();
});
const bridges: TestBridge[] = [];
const ownClients: AwsClients[] = [];

beforeAll(async () => {
  helpdesk = createHelpdeskReceiver(SECRET);
  await helpdesk.start();
  x = new FakeXServer({ credentials: CREDENTIALS });
  await x.start();
});
afterAll(async () => {
  await helpdesk.stop();
  await x.stop();
});
afterEach(async () => {
  logs.stop();
  for (const clients of ownClients.splice(0)) {
    clients.dynamodb.destroy();
    clients.sqs.destroy();
  }
  await Promise.all(bridges.splice(0).map((b) => b.stop()));
  helpdesk.reset();
  x.reset();
});

async function bridge(env: Record<string, string> = {}): Promise<TestBridge> {
  const b = await startTestBridge({
    env: {
      X_LISTEN_QUERIES: QUERY,
      ...env,
      HELPDESK_WEBHOOK_URL: helpdesk.url,
      HELPDESK_WEBHOOK_SECRET: SECRET,
      X_API_BASE_URL: x.url,
      X_API_KEY: CREDENTIALS.consumerKey,
      X_API_SECRET: CREDENTIALS.consumerSecret,
      X_ACCESS_TOKEN: CREDENTIALS.accessToken,
      X_ACCESS_TOKEN_SECRET: CREDENTIALS.accessTokenSecret,
    },
  });
  bridges.push(b);
  x.addUser(BOT);
  return b;
}

/** One reconciliation run (mentions, conversations, then listening) with its own clients; `x` replaces its X reads. */
function reconciler(b: TestBridge, reads?: XTimelineReads) {
  const clients = createAwsClients(b.config);
  ownClients.push(clients);
  return createReconcileHandler(b.config, clients, reads ? { x: reads } : {})!;
}

let nextUser = 752_000_000;
function customer(): XUserRef {
  const id = String(nextUser++);
  const user = { id, username: `cust_${id}`, name: `Customer ${id}` };
  x.addUser(user);
  return user;
}

/** An X id made now (a snowflake: ms since X's epoch, shifted 22 bits), so X takes it as a since_id. */
let sequence = 0n;
const freshXId = () => String(((BigInt(Date.now()) - 1288834974657n) << 22n) | (sequence++ & 0xfffn));

const messageXId = (event: { json: { data: Record<string, unknown> } }) => (event.json.data.message as { xId?: string } | undefined)?.xId;

describe('listening', () => {
  it('a post only recent search shows is ticketed once, named, as listening; the webhook delivering it later is a duplicate', async () => {
    const b = await bridge();
    const ana = customer();
    const id = freshXId();
    // It names the account too, so X's webhook delivers it as well (later, here: X's search and webhook keep their own pace).
    x.readable.add({ id, text: `my acme widget died again @${BOT.username}`, author_id: ana.id, conversation_id: id, lang: 'en' });

    const report = await reconciler(b)();
    expect(report).toMatchObject({ outcome: 'done', listened: 1 });
    const search = x.requestsTo('GET', SEARCH);
    expect(search).toHaveLength(1);
    expect(search[0]!.query).toMatchObject({ query: SENT_QUERY, max_results: '100' });
    expect(search[0]!.query.start_time).toBeDefined();
    // The fields and expansions of a complete message, and the language the rules read.
    expect(search[0]!.query['tweet.fields']).toContain('lang');
    expect(search[0]!.query.expansions).toContain('author_id');

    const ticketId = `mn-${ana.id}-1`;
    const created = await helpdesk.waitFor((events) => events.some((e) => e.json.type === 'ticket.created' && e.json.data.ticket?.id === ticketId), 15_000);
    const event = created.find((e) => e.json.data.ticket?.id === ticketId)!;
    expect(event.json.data.ticket).toMatchObject({ source: 'listening', listeningQuery: QUERY, customer: { username: ana.username, name: ana.name } });
    expect(event.json.data.message).toMatchObject({ xId: id, text: `my acme widget died again @${BOT.username}` });

    // The webhook delivers the same post: the same message, no second ticket, no second event.
    expect((await b.postWebhook(xaaMention({ id, author: ana, text: `my acme widget died again @${BOT.username}`, conversationId: id }))).status).toBe(200);
    await b.waitForIdle();
    // The next run asks for what came after it, and finds nothing new.
    const again = await reconciler(b)();
    expect(again).toMatchObject({ outcome: 'done', listened: 0 });
    const next = x.requestsTo('GET', SEARCH).filter((r) => r.query.query === SENT_QUERY);
    expect(next.at(-1)!.query.since_id).toBe(id);
    await b.waitForIdle();
    expect(helpdesk.events.filter((e) => messageXId(e) === id)).toHaveLength(1);
    const tickets = (await b.scanTable()).filter((item) => item.type === 'ticket');
    expect(tickets.map((t) => t.id)).toEqual([ticketId]);
  });

  it('retweets and the account’s own posts in search results never become tickets', async () => {
    const b = await bridge();
    const ana = customer();
    const bob = customer();
    const post = freshXId();
    const retweet = freshXId();
    const own = freshXId();
    x.readable.add({ id: post, text: 'the acme widget broken, third time', author_id: ana.id, conversation_id: post });
    x.readable.add({ id: retweet, text: `RT @${ana.username}: the acme widget broken, third time`, author_id: bob.id, conversation_id: retweet, referenced_tweets: [{ type: 'retweeted', id: post }] });
    x.readable.add({ id: own, text: 'Sorry to hear your acme widget died, we are on it', author_id: BOT.id, conversation_id: own });
    // X answering as if the query excluded nothing: the bridge's own filter must hold.
    const { accessToken, accessTokenSecret } = b.config.x;
    const reads = createXTimelineReads({ ...b.config.x, accessToken: accessToken!, accessTokenSecret: accessTokenSecret! });
    const careless: XTimelineReads = {
      mentions: (input) => reads.mentions(input),
      searchRecent: (input) => reads.searchRecent({ ...input, query: input.query.replace(/ -is:retweet -from:\w+$/, '') }),
    };

    const report = await reconciler(b, careless)();
    expect(report).toMatchObject({ outcome: 'done', listened: 1 });
    expect(x.requestsTo('GET', SEARCH).at(-1)!.query.query).toBe(`(${QUERY})`);
    await b.waitForIdle();
    const items = await b.scanTable();
    expect(items.filter((i) => i.type === 'ticket').map((t) => t.id)).toEqual([`mn-${ana.id}-1`]);
    expect(items.filter((i) => i.type === 'message').map((m) => m.xId)).toEqual([post]);
    // And with the exclusions X applies, it never sees them.
    const direct = await reconciler(b)();
    expect(direct).toMatchObject({ outcome: 'done', listened: 0 });
    expect(x.requestsTo('GET', SEARCH).at(-1)!.query.query).toBe(SENT_QUERY);
  });

  it('a search that fails between pages resumes at the page it had not read, reading no page twice', async () => {
    const b = await bridge();
    const authors = Array.from({ length: 12 }, () => customer());
    const ids = authors.map((author) => {
      const id = freshXId();
      x.readable.add({ id, text: `acme widget died (${author.username})`, author_id: author.id, conversation_id: id });
      return id;
    });
    // Pages of 10 (X's smallest for search); the second page's request fails once, as a 503 would.
    const { accessToken, accessTokenSecret } = b.config.x;
    const reads = createXTimelineReads({ ...b.config.x, accessToken: accessToken!, accessTokenSecret: accessTokenSecret! });
    let failNext = true;
    const flaky: XTimelineReads = {
      mentions: (input) => reads.mentions(input),
      searchRecent: async (input) => {
        if (input.nextToken !== undefined && failNext) {
          failNext = false;
          throw new RetryableError('X answered 503');
        }
        return reads.searchRecent({ ...input, maxResults: 10 });
      },
    };
    expect(await reconciler(b, flaky)()).toMatchObject({ outcome: 'failed', listened: 10 });
    const resumed = await reconciler(b, flaky)();
    expect(resumed).toMatchObject({ outcome: 'done', listened: 2 });
    const searches = x.requestsTo('GET', SEARCH).filter((r) => r.query.query === SENT_QUERY);
    // The first page, then (next run) the second by its token (the fake's tokens are offsets in base 36: 'a' is 10).
    expect(searches.map((r) => r.query.next_token)).toEqual([undefined, 'a']);
    await b.waitForIdle();
    const messages = (await b.scanTable()).filter((i) => i.type === 'message').map((m) => m.xId);
    expect(messages.sort()).toEqual([...ids].sort());
    // The cursor now stands at the newest post: the next run asks for what came after it.
    await reconciler(b, flaky)();
    expect(x.requestsTo('GET', SEARCH).filter((r) => r.query.query === SENT_QUERY).at(-1)!.query.since_id).toBe(ids.at(-1));
  });

  it('the day’s read budget caps listening: past it, nothing is asked of X', async () => {
    // 10 reads: the mentions timeline's smallest page (5 posts and their authors) fits, a search's (10) does not.
    const b = await bridge({ X_READ_BUDGET_PER_DAY: '10' });
    const ana = customer();
    x.readable.add({ id: freshXId(), text: 'acme widget died', author_id: ana.id });
    const report = await reconciler(b)();
    expect(report).toMatchObject({ outcome: 'budget', listened: 0 });
    expect(x.requestsTo('GET', SEARCH)).toHaveLength(0);
    await b.waitForIdle();
    expect((await b.scanTable()).filter((i) => i.type === 'ticket')).toEqual([]);
  });

  it('a public reply on a listening ticket under X_REPLY_POLICY=summoned is refused, and nothing is sent to X', async () => {
    const b = await bridge({ X_REPLY_POLICY: 'summoned' });
    const ana = customer();
    const id = freshXId();
    x.readable.add({ id, text: 'my acme widget broken since Monday', author_id: ana.id, conversation_id: id });
    await reconciler(b)();
    const ticketId = `mn-${ana.id}-1`;
    await helpdesk.waitFor((events) => events.some((e) => e.json.data.ticket?.id === ticketId), 15_000);

    const answer = await b.api('POST', `/tickets/${ticketId}/replies`, { text: 'Sorry about that! Can you DM us?' });
    expect(answer.status).toBe(422);
    expect(answer.json).toMatchObject({ error: { code: 'not_summoned' } });
    await b.waitForIdle();
    expect(x.requestsTo('POST', '/2/tweets')).toHaveLength(0);
    expect(helpdesk.events.filter((e) => e.json.type === 'ticket.reply_posted')).toHaveLength(0);
  });

  it('under X_REPLY_POLICY=any (Enterprise) the reply goes under the post listening found, as for a mention', async () => {
    const b = await bridge({ X_REPLY_POLICY: 'any' });
    const ana = customer();
    const id = freshXId();
    x.readable.add({ id, text: 'my acme widget broken since Monday', author_id: ana.id, conversation_id: id });
    await reconciler(b)();
    const ticketId = `mn-${ana.id}-1`;
    await helpdesk.waitFor((events) => events.some((e) => e.json.data.ticket?.id === ticketId), 15_000);

    expect((await b.api('POST', `/tickets/${ticketId}/replies`, { text: 'Sorry about that! Looking into it.' })).status).toBe(202);
    await helpdesk.waitFor((events) => events.some((e) => e.json.type === 'ticket.reply_posted' && e.json.data.ticket?.id === ticketId), 15_000);
    const posts = x.requestsTo('POST', '/2/tweets');
    expect(posts).toHaveLength(1);
    expect(posts[0]!.body).toMatchObject({ reply: { in_reply_to_tweet_id: id } });
  });
});

describe('brand rules at ingest', () => {
  it('a mention a drop rule matches opens nothing, is recorded and counted, and its redelivery stays dropped', async () => {
    {
      const b = await bridge({ RULES_FILE: join(import.meta.dirname, '../fixtures/rules/acme-rules.json') });
      const spammer = customer();
      const id = freshXId();
      const spam = xaaMention({ id, author: spammer, text: `@${BOT.username} $ACME $MOON $DOGE 100x this week` });
      expect((await b.postWebhook(spam)).status).toBe(200);
      await b.waitForIdle();
      expect((await b.postWebhook(spam)).status).toBe(200);
      await b.waitForIdle();
      const items = await b.scanTable();
      expect(items.filter((i) => i.type === 'ticket')).toEqual([]);
      expect(items.find((i) => i.xId === id)).toMatchObject({ type: 'tombstone', droppedBy: 'cashtag-spam' });
      expect(helpdesk.events).toEqual([]);
      // Counted once by rule name (the redelivery is a duplicate): the metric Powertools writes as EMF.
      const emf = logs.chunks.filter((c) => c.includes('"RuleMatches"'));
      expect(emf).toHaveLength(1);
      expect(emf[0]).toContain('"rule":"cashtag-spam"');
    }
  });
});
