// Reconciliation end to end on DynamoDB Local, the SQS emulator, the fake X and the real ingest function: a customer's
// follow-up under their own post, which X Activity API webhooks never deliver, is found by the reconciler's
// conversation search and ticketed in the right ticket, once, however it arrives. A run killed mid-page resumes from
// its cursor without losing a post or reading an earlier page again, and two runs at once never both read.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createReconcileHandler, RECONCILE_LEASE_MS } from '../../functions/reconcile/handler';
import { createAwsClients, type AwsClients } from '../../shared/aws/clients';
import type { ReconcileReport } from '../../shared/x/reconcile';
import { createXTimelineReads, type XTimelineReads } from '../../shared/x/reconcile-x-client';
import { crashSwitch, holdSwitch, type CrashPoint } from '../reliability/support/faults';
import { FakeXServer, xResponses } from '../support/fake-x-server';
import type { FakeV2Post } from '../support/fake-x-reads';
import { createHelpdeskReceiver, type HelpdeskReceiver } from '../support/helpdesk-receiver';
import { startTestBridge, type TestBridge } from '../support/test-bridge';
import { BOT, nextXId, xaaMention, xaaReply, type XUserRef } from '../support/x-payloads';

const SECRET = `whsec_${Buffer.from('reconcile-test-secret-32-bytes!!').toString('base64')}`;
const CREDENTIALS = {
  consumerKey: 'reconcile-consumer-key',
  consumerSecret: 'reconcile-consumer-secret',
  accessToken: `${BOT.id}-reconcile-access-token`,
  accessTokenSecret: 'reconcile-access-token-secret',
};

let helpdesk: HelpdeskReceiver;
let x: FakeXServer;
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
  return b;
}

let nextUser = 742_000_000;
function customer(): XUserRef {
  const id = String(nextUser++);
  const user = { id, username: `cust_${id}`, name: `Customer ${id}` };
  x.addUser(user);
  return user;
}

const messageXId = (event: { json: { data: Record<string, unknown> } }) => (event.json.data.message as { xId?: string } | undefined)?.xId;

describe('reconciliation', () => {
  it('a follow-up only X’s search shows is ticketed in one run, once, in the customer’s ticket; the webhook delivering it later changes nothing', async () => {
    const b = await bridge();
    const ana = customer();
    const root = nextXId();
    expect((await b.postWebhook(xaaMention({ id: root, author: ana, conversationId: root }))).status).toBe(200);
    const ticketId = `mn-${ana.id}-1`;
    await helpdesk.waitFor((events) => events.some((e) => e.json.data.ticket?.id === ticketId), 15_000);

    const followUp = nextXId();
    x.readable.add({ id: root, text: '@AcmeSupport my order is late', author_id: ana.id, conversation_id: root });
    x.readable.add({
      id: followUp,
      text: 'also the invoice is wrong',
      author_id: ana.id,
      conversation_id: root,
      in_reply_to_user_id: ana.id,
      referenced_tweets: [{ type: 'replied_to', id: root }],
    });
    const run = createReconcileHandler(b.config, createAwsClients(b.config))!;
    const report = await run();
    expect(report).toMatchObject({ outcome: 'done', found: 2, missed: 1 });
    const search = x.requestsTo('GET', '/2/tweets/search/recent');
    expect(search).toHaveLength(1);
    expect(search[0]!.query.query).toBe(`conversation_id:${root}`);
    expect(search[0]!.query['tweet.fields']).toContain('conversation_id');

    const added = await helpdesk.waitFor(
      (events) => events.some((e) => e.json.type === 'ticket.message_added' && messageXId(e) === followUp),
      15_000,
    );
    const event = added.find((e) => messageXId(e) === followUp)!;
    expect(event.json.data.ticket?.id).toBe(ticketId);
    expect(event.json.data.message).toMatchObject({ text: 'also the invoice is wrong', author: { username: ana.username } });

    // The webhook delivers the same post later (a replay): stored once, no second event.
    expect((await b.postWebhook(xaaReply({ id: followUp, author: ana, inReplyTo: { id: root, user: ana }, conversationId: root }))).status).toBe(200);
    await b.waitForIdle();
    const again = await run();
    expect(again).toMatchObject({ outcome: 'done', missed: 0 });
    await b.waitForIdle();
    expect(helpdesk.events.filter((e) => messageXId(e) === followUp)).toHaveLength(1);
  });
});

/** Clients of one reconciliation run alone, so a crash or a hold hits that run and nothing else. */
function runClients(b: TestBridge): AwsClients {
  const clients = createAwsClients(b.config);
  ownClients.push(clients);
  return clients;
}

/** The reconciler's X reads against the fake, its mentions timeline in pages of 5 (X's smallest) so a few posts span pages. */
function smallPages(b: TestBridge): XTimelineReads {
  const { accessToken, accessTokenSecret } = b.config.x;
  const reads = createXTimelineReads({ ...b.config.x, accessToken: accessToken!, accessTokenSecret: accessTokenSecret! });
  return { mentions: (input) => reads.mentions({ ...input, maxResults: 5 }), searchRecent: (input) => reads.searchRecent(input) };
}

/** A mention of the bot by a new customer, as the mentions timeline returns it. */
function mentionOnX(): FakeV2Post {
  const id = nextXId();
  const { created_at: _fixtureTime, ...post } = (xaaMention({ id, author: customer(), conversationId: id }).data as { payload: FakeV2Post }).payload;
  // Posted now (the fake X stamps it): a first run looks back a day only.
  x.readable.add(post);
  return post;
}

const mentionsPath = `/2/users/${BOT.id}/mentions`;

describe('a reconciler killed mid-page', () => {
  // 12 mentions, newest first in pages of 5: page 1 (5), page 2 (5, token "5"), page 3 (2, token "a"). The run's
  // calls: PutItem #1 takes the lease; per page, SendMessageBatch queues its posts, then PutItem saves the cursor.
  it.each<[string, CrashPoint, (string | undefined)[]]>([
    ['after reading page 2, before queueing it', { at: 'SendMessageBatchCommand', occurrence: 2, when: 'before' }, ['5', 'a']],
    ['after queueing page 2, before its cursor is saved', { at: 'SendMessageBatchCommand', occurrence: 2, when: 'after' }, ['5', 'a']],
    ['after saving the cursor past page 2', { at: 'PutItemCommand', occurrence: 3, when: 'after' }, ['a']],
  ])('%s: the next run resumes at the page in progress; every post is ticketed once', async (_label, point, resumedTokens) => {
    const b = await bridge();
    const posts = Array.from({ length: 12 }, () => mentionOnX());

    const crash = crashSwitch();
    const doomed = runClients(b);
    crash.watch(doomed.dynamodb);
    crash.watch(doomed.sqs);
    const killed = crash.arm(point);
    const firstRun = crash.worker(createReconcileHandler(b.config, doomed, { x: smallPages(b) })!);
    await expect(firstRun(undefined)).rejects.toThrow(/killed/);
    expect(await killed).toBe(`${point.when} ${point.at} #${point.occurrence}`);
    const firstTokens = x.requestsTo('GET', mentionsPath).map((r) => r.query.pagination_token);
    expect(firstTokens).toEqual([undefined, '5']);

    // The dead run never freed its lease: a run before it expires is turned away without reading X.
    const early = await createReconcileHandler(b.config, runClients(b), { x: smallPages(b) })!();
    expect(early).toMatchObject({ outcome: 'busy', requests: 0 });

    // The next scheduled run, once the lease has expired.
    const later = () => new Date(Date.now() + RECONCILE_LEASE_MS + 60_000);
    const resumed = await createReconcileHandler(b.config, runClients(b), { x: smallPages(b), now: later })!();
    expect(resumed.outcome).toBe('done');
    const mentionReads = x.requestsTo('GET', mentionsPath).map((r) => r.query.pagination_token);
    // No double reads: page 1 is never asked for again, and the resumed run starts at the page the dead one had not
    // finished (or after it, when its cursor was saved).
    expect(mentionReads.slice(firstTokens.length)).toEqual(resumedTokens);

    // No loss: every post is stored and announced once, in a ticket of its own.
    await b.waitForIdle();
    const stored = new Set((await b.scanTable()).map((item) => item.pk));
    expect(posts.filter((post) => !stored.has(`X#${post.id}`)).map((post) => post.id)).toEqual([]);
    const created = helpdesk.events.filter((e) => e.json.type === 'ticket.created');
    for (const post of posts) expect(created.filter((e) => messageXId(e) === post.id), post.id).toHaveLength(1);
  });
});

describe('one run at a time per brand', () => {
  it('two runs raced on DynamoDB Local: one takes the lease and reads, the other reports busy without reading', async () => {
    const b = await bridge();
    const posts = Array.from({ length: 3 }, () => mentionOnX());

    // Both runs start together; each is held just after its lease write succeeds, so the winner holds the lease
    // while the loser's write is refused by the condition.
    const runs = ['A', 'B'].map(() => {
      const clients = runClients(b);
      const hold = holdSwitch(clients.dynamodb).arm({ command: 'PutItemCommand', occurrence: 1, when: 'after' });
      const run = createReconcileHandler(b.config, clients, { x: smallPages(b) })!();
      return { hold, run };
    });
    const bothHeld = Promise.all(runs.map((r) => r.hold.reached)).then(() => 'both runs took the lease' as const);
    const firstDone = Promise.race(runs.map((r, i) => r.run.then((report) => ({ index: i, report }))));
    const first = await Promise.race([firstDone, bothHeld]);
    if (first === 'both runs took the lease') {
      runs.forEach((r) => r.hold.release());
      await Promise.allSettled(runs.map((r) => r.run));
      expect.fail('both runs took the lease');
    }
    expect(first.report).toMatchObject({ outcome: 'busy', requests: 0, found: 0 });
    expect(x.requestsTo('GET', mentionsPath)).toHaveLength(0);

    const winner = runs[1 - first.index]!;
    await winner.hold.reached;
    winner.hold.release();
    const report: ReconcileReport = await winner.run;
    expect(report).toMatchObject({ outcome: 'done', found: posts.length, missed: posts.length });
    expect(x.requestsTo('GET', mentionsPath)).toHaveLength(1);

    // The winner freed the lease: the next run reads again, from the winner's cursor.
    const next = await b.reconcileOnce();
    expect(next).toMatchObject({ outcome: 'done' });
    expect(x.requestsTo('GET', mentionsPath).map((r) => r.query.since_id)).toEqual([undefined, posts.at(-1)!.id]);
  });
});

describe('the local runner', () => {
  it('runs reconciliation on request, one run after the other, and says when it is off', async () => {
    const b = await bridge();
    expect(b.reconciliation).toEqual({ off: 'X_RECONCILE_INTERVAL_SECONDS is 0' });
    const post = mentionOnX();
    // Asked twice at once: the second waits for the first instead of finding the lease taken, and reads from the
    // first one's cursor.
    const [one, two] = await Promise.all([b.reconcileOnce(), b.reconcileOnce()]);
    expect([one?.outcome, two?.outcome]).toEqual(['done', 'done']);
    expect(x.requestsTo('GET', mentionsPath).map((r) => r.query.since_id)).toEqual([undefined, post.id]);

    const timed = await bridge({ X_RECONCILE_INTERVAL_SECONDS: '60' });
    expect(timed.reconciliation).toEqual({ every: 60 });

    const withoutX = await startTestBridge({ env: { HELPDESK_WEBHOOK_URL: helpdesk.url, HELPDESK_WEBHOOK_SECRET: SECRET, X_RECONCILE_INTERVAL_SECONDS: '60' } });
    bridges.push(withoutX);
    expect(withoutX.reconciliation).toEqual({ off: 'X_ACCESS_TOKEN is not set' });
    expect(await withoutX.reconcileOnce()).toBeUndefined();
  });
});

describe("what reconciliation tells the channel's health", () => {
  const channelEvents = () =>
    helpdesk.events
      .filter((e) => e.json.type === 'channel.health_changed')
      .map((e) => e.json.data.channel as { status: string; reason: string; sequence: number });
  const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();
  /** An explicit mention of the bot, posted `m` minutes ago on X, that the webhook never delivered. */
  const undeliveredMention = (m: number) => {
    const id = nextXId();
    const { payload } = xaaMention({ id, author: customer(), conversationId: id, createdAt: minutesAgo(m) }).data as { payload: FakeV2Post };
    x.readable.add(payload);
    return payload;
  };

  it('mentions the webhook missed in two runs degrade the channel, once; a run that finds them delivered recovers it; implicit mentions never count', async () => {
    const b = await bridge();
    // Run 1: one explicit mention the webhook missed, and a reply under a thread whose only mention of the bot is
    // the leading handle X adds (an implicit mention, never delivered by webhook): one miss.
    undeliveredMention(5);
    const ana = customer();
    const root = nextXId();
    const implicit = (xaaReply({ id: nextXId(), author: ana, text: 'and the invoice too', inReplyTo: { id: root, user: ana }, replyPrefix: [BOT, ana], conversationId: root, createdAt: minutesAgo(5) }).data as { payload: FakeV2Post }).payload;
    x.readable.add({ ...implicit, in_reply_to_user_id: ana.id });
    expect(await b.reconcileOnce()).toMatchObject({ outcome: 'done', found: 2, missed: 2, webhookMissed: 1 });
    await b.waitForIdle();
    expect(channelEvents()).toEqual([]);

    // Run 2: another one missed; a mention posted seconds ago may still be on its way, and is not held against X.
    undeliveredMention(3);
    mentionOnX();
    expect(await b.reconcileOnce()).toMatchObject({ outcome: 'done', missed: 2, webhookMissed: 1 });
    await helpdesk.waitFor(() => channelEvents().length === 1, 15_000);
    expect(channelEvents()).toEqual([expect.objectContaining({ status: 'degraded', reason: 'webhook_missing_items', sequence: 1 })]);

    // Run 3 misses one more: the channel is already degraded, nothing more is sent.
    undeliveredMention(2);
    expect(await b.reconcileOnce()).toMatchObject({ webhookMissed: 1 });

    // The webhook works again: a mention it delivered is on X's timeline too, and the run finds nothing missed.
    const ben = customer();
    const delivered = nextXId();
    expect((await b.postWebhook(xaaMention({ id: delivered, author: ben, conversationId: delivered, createdAt: minutesAgo(2) }))).status).toBe(200);
    await b.waitForIdle();
    x.readable.add((xaaMention({ id: delivered, author: ben, conversationId: delivered, createdAt: minutesAgo(2) }).data as { payload: FakeV2Post }).payload);
    expect(await b.reconcileOnce()).toMatchObject({ outcome: 'done', missed: 0, webhookMissed: 0 });
    await helpdesk.waitFor(() => channelEvents().length === 2, 15_000);
    expect(channelEvents()[1]).toMatchObject({ status: 'ok', reason: 'recovered', sequence: 2 });
  });

  it("X refusing a read for spent credits takes the channel down, once; the next read X answers brings it back", async () => {
    const b = await bridge();
    x.respondWith((r) => r.path === mentionsPath, xResponses.creditsDepleted(), { times: 2 });
    expect(await b.reconcileOnce()).toMatchObject({ outcome: 'failed', refusal: 'credits_depleted', requests: 1 });
    expect(await b.reconcileOnce()).toMatchObject({ outcome: 'failed', refusal: 'credits_depleted' });
    await helpdesk.waitFor(() => channelEvents().length === 1, 15_000);
    expect(channelEvents()).toEqual([expect.objectContaining({ status: 'down', reason: 'credits_depleted', sequence: 1 })]);

    mentionOnX();
    expect(await b.reconcileOnce()).toMatchObject({ outcome: 'done', found: 1 });
    await helpdesk.waitFor(() => channelEvents().length === 2, 15_000);
    expect(channelEvents()[1]).toMatchObject({ status: 'ok', reason: 'recovered', sequence: 2 });
    await b.waitForIdle();
    expect(channelEvents()).toHaveLength(2);
  });
});
