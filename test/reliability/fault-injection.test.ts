// Faults injected into the real functions on the real local services (DynamoDB Local, the SQS emulator, a fake X and a
// helpdesk on loopback), through SDK middleware on the clients the functions are handed: throttling and timeouts,
// workers killed at every step boundary, redelivery storms, X's 5xx bursts and hangs, and a helpdesk down for longer
// than the retry budget. After each, what a customer, an agent and a helpdesk see must be exactly what it would be
// without the fault. Nothing here waits a fixed time: each step awaits the event it needs (a kill, a delivery, an idle
// bridge), so a slow machine makes the file slower, never wrong.
import { AsyncLocalStorage } from 'node:async_hooks';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHelpdeskApiHandler } from '../../functions/helpdesk-api/handler';
import { createIngestHandler } from '../../functions/ingest/handler';
import { createNotifyHandler } from '../../functions/notify/handler';
import { createReplyHandler } from '../../functions/reply/handler';
import { loadFunctionHandlers, type HandlerFactories } from '../../infra/local/bridge';
import { LOCAL_AWS } from '../../infra/local/services';
import { createAwsClients, type AwsClients } from '../../shared/aws/clients';
import { QUEUES } from '../../shared/aws/resources';
import { toSqsBody } from '../../shared/aws/sqs-queue';
import type { Config } from '../../shared/config';
import { RETRY_COUNT, RETRY_SCHEDULE_SECONDS } from '../../shared/helpdesk/backoff';
import { normaliseWebhookBody } from '../../shared/x/normalise';
import { createReplyPoster } from '../../shared/x/x-client';
import { FakeXServer, xResponses } from '../support/fake-x-server';
import { createHelpdeskReceiver, type HelpdeskReceiver, type ReceivedEvent } from '../support/helpdesk-receiver';
import { startTestBridge, type TestBridge } from '../support/test-bridge';
import { aaaBatch, aaaDelete, aaaMention, BOT, nextXId, xaaBatch, xaaDm, xaaMention, xaaReply, type XUserRef } from '../support/x-payloads';
import { crashSwitch, holdSwitch, injectFaults, killSwitch, redrive, seededRandom, type CrashPoint, type KillPoint } from './support/faults';
import { eventProblems, tableView } from './support/outcomes';
import { compressVisibility } from '../support/compress-visibility';

const SECRET = `whsec_${Buffer.from('reliability-faults-secret-32-byt').toString('base64')}`;
const CREDENTIALS = {
  consumerKey: 'faults-consumer-key',
  consumerSecret: 'faults-consumer-secret',
  accessToken: `${BOT.id}-faults-access-token`,
  accessTokenSecret: 'faults-access-token-secret',
};
const SEED = Number(process.env.FAULT_SEED ?? Date.now() % 1_000_000);

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
  await Promise.all(bridges.splice(0).map((b) => b.stop()));
  for (const clients of ownClients.splice(0)) {
    clients.dynamodb.destroy();
    clients.sqs.destroy();
  }
  await helpdesk.stop();
  await x.stop();
});

const env = () => ({
  HELPDESK_WEBHOOK_URL: helpdesk.url,
  HELPDESK_WEBHOOK_SECRET: SECRET,
  X_API_BASE_URL: x.url,
  X_API_KEY: CREDENTIALS.consumerKey,
  X_API_SECRET: CREDENTIALS.consumerSecret,
  X_ACCESS_TOKEN: CREDENTIALS.accessToken,
  X_ACCESS_TOKEN_SECRET: CREDENTIALS.accessTokenSecret,
});

/** Clients of one function alone, so a fault or a kill hits that function and not the others. */
function clientsOf(config: Config): AwsClients {
  const clients = createAwsClients(config);
  ownClients.push(clients);
  return clients;
}

let customerSerial = 0;
/** A customer no other test in this run uses (ticket ids, and so webhook-ids, are per customer). */
function newCustomer(label: string): XUserRef {
  customerSerial++;
  const id = String(7_100_000_000 + (SEED % 10_000) * 1000 + customerSerial);
  return { id, username: `${label}_${customerSerial}`.slice(0, 15), name: `${label} ${customerSerial}` };
}

/** Posts like X: a non-200 is retried (X retries a few times; the test a few more, as the replay command would). */
async function postLikeX(b: TestBridge, body: unknown, attempts = 8): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < attempts; i++) {
    const answer = await b.postWebhook(body);
    statuses.push(answer.status);
    if (answer.status === 200) return statuses;
  }
  throw new Error(`X gave up after ${attempts} attempts: ${statuses.join(', ')}`);
}

/**
 * Calls the API like a helpdesk integrator: a 5xx (503 for a fault, 500 for a function that died) is retried at once,
 * the harshest timing for the bridge; anything else is the answer.
 */
async function apiLikeHelpdesk(b: TestBridge, method: string, path: string, body?: unknown, key?: string) {
  const statuses: number[] = [];
  for (let i = 0; i < 10; i++) {
    const response = await fetch(`${b.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${b.config.helpdesk.apiToken}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(key ? { 'idempotency-key': key } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    statuses.push(response.status);
    const json = (await response.json()) as unknown;
    if (response.status < 500) return { status: response.status, json, statuses };
  }
  return { status: statuses.at(-1)!, json: undefined, statuses };
}

const ticketsOf = (items: Record<string, unknown>[]) => tableView(items);

describe('DynamoDB throttling and timeouts', () => {
  it('with a fifth of DynamoDB calls throttled or timed out (some after the write applied) every item is stored once and every change announced once', async () => {
    const real = await loadFunctionHandlers();
    const b = await startTestBridge({
      env: env(),
      handlers: {
        ...real,
        reply: (config, clients) => createReplyHandler(config, clients, { inFlightGraceMs: 300 }),
        notify: (config, clients) => createNotifyHandler(config, clients, { retryDelaySeconds: () => 1, maxRetries: 5 }),
      },
      queueSpecs: {
        inbound: { visibilityTimeoutSeconds: 1 },
        reply: { visibilityTimeoutSeconds: 1 },
        notifyRetry: { visibilityTimeoutSeconds: 1, maxReceiveCount: 5 },
      },
      streamRetry: { baseDelayMs: 50, maxDelayMs: 400 },
      sqsConcurrency: 3,
    });
    bridges.push(b);
    const random = seededRandom(SEED);
    // Inside the SDK's retries: most are absorbed by them. Outside: the function sees the error, the queue redelivers.
    const inside = injectFaults(b.clients.dynamodb, { fraction: 0.2, random, kinds: ['throttle', 'timeout', 'timeout-after-write'], placement: 'inside-retries' }, 'faultsInside');
    const outside = injectFaults(b.clients.dynamodb, { fraction: 0.04, random, kinds: ['throttle', 'timeout', 'timeout-after-write'], placement: 'outside-retries' }, 'faultsOutside');
    helpdesk.respondWith([503, 204, 503]);

    const customers = Array.from({ length: 16 }, (_, i) => newCustomer(`thr${i}`));
    const mentions = customers.map((author) => ({ author, id: nextXId() }));
    for (let i = 0; i < mentions.length; i += 4) {
      await postLikeX(b, aaaBatch(mentions.slice(i, i + 4).map((m) => aaaMention({ id: m.id, author: m.author }))));
    }
    const replies = mentions.slice(0, 8).map((m) => ({ ...m, replyId: nextXId() }));
    await postLikeX(
      b,
      xaaBatch(replies.map((r) => xaaReply({ id: r.replyId, author: r.author, text: 'any news?', inReplyTo: { id: r.id, user: r.author } }))),
    );
    await postLikeX(b, xaaBatch(customers.slice(8).map((author) => xaaDm({ sender: author, text: 'DM with the order number' }))));
    // Until empty: an item whose ingest a fault failed is invisible for its visibility timeout, not done, and the
    // agents below act on every ticket.
    await b.waitForIdle({ timeoutMs: 60_000, untilEmpty: true });
    // The customer deletes half of the replies; agents answer four tickets and solve two.
    await postLikeX(b, aaaBatch(replies.slice(0, 4).map((r) => aaaDelete({ id: r.replyId, authorId: r.author.id }))));
    const answered = customers.slice(8, 12);
    const api = await Promise.all([
      ...answered.map((c, i) => apiLikeHelpdesk(b, 'POST', `/tickets/mn-${c.id}-1/replies`, { text: `Fault answer ${SEED}-${i}` }, `fault-${SEED}-${i}`)),
      ...customers.slice(12, 14).map((c) => apiLikeHelpdesk(b, 'PATCH', `/tickets/mn-${c.id}-1`, { status: 'solved' })),
    ]);
    const ticketIds = [...customers.map((c) => `mn-${c.id}-1`), ...customers.slice(8).map((c) => `dm-${c.id}-1`)];
    // Settled: on X, and recorded (a settle that failed under a fault is retried from the queue, after the grace).
    await expect
      .poll(async () => {
        const views = await Promise.all(answered.map((c) => b.api('GET', `/tickets/mn-${c.id}-1`)));
        return views.filter((v) => (v.json as { replies?: { status: string }[] } | undefined)?.replies?.[0]?.status === 'posted').length;
        // A reply worker hit by faults twice waits out the transient backoff (10 s, then 30 s) before its next try.
      }, { timeout: 150_000 })
      .toBe(answered.length);
    await b.waitForIdle({ timeoutMs: 60_000, untilEmpty: true });
    const { tickets, messages } = ticketsOf(await b.scanTable());
    // Events are at least once: a stream batch replayed after a fault can repeat a delivered id, never invent one.
    await expect
      .poll(() => eventProblems(tickets, helpdesk.events, { maxDeliveriesPerId: 3 }), { timeout: 30_000, message: `seed ${SEED}` })
      .toEqual([]);
    inside.enabled = false;
    outside.enabled = false;

    const injected = { ...inside.injected, ...Object.fromEntries(Object.entries(outside.injected).map(([k, v]) => [`outside ${k}`, v])) };
    const context = `seed ${SEED}; injected ${JSON.stringify(injected)}`;
    expect(Object.values(outside.injected).reduce((a, n) => a + n, 0), context).toBeGreaterThan(0);
    // The API answers a fault as "try again" (503), never as an internal error.
    expect(api.flatMap((a) => a.statuses).filter((s) => s >= 500 && s !== 503), context).toEqual([]);
    expect(api.map((a) => a.status), context).toEqual([202, 202, 202, 202, 200, 200]);
    expect(tickets.map((t) => t.id).sort(), context).toEqual([...ticketIds].sort());
    // 16 mentions + 8 replies + 8 DMs from customers, 4 agent replies: each once, the deleted ones redacted.
    expect(messages.filter((m) => m.direction === 'inbound'), context).toHaveLength(32);
    expect(messages.filter((m) => m.direction === 'outbound'), context).toHaveLength(4);
    expect(messages.filter((m) => m.redacted).map((m) => m.xId).sort(), context).toEqual(replies.slice(0, 4).map((r) => r.replyId).sort());
    expect(x.posts.filter((p) => p.text.startsWith(`Fault answer ${SEED}-`)), context).toHaveLength(4);
    const expectedSequence = (id: string) => {
      const c = customers.find((cu) => id.includes(cu.id))!;
      if (id.startsWith('dm-')) return 1;
      const i = customers.indexOf(c);
      // created, + reply (i < 8), + its redaction (i < 4), + agent reply (8 ≤ i < 12), + solved (12 ≤ i < 14)
      return 1 + (i < 8 ? 1 : 0) + (i < 4 ? 1 : 0) + (i >= 8 && i < 12 ? 1 : 0) + (i >= 12 && i < 14 ? 1 : 0);
    };
    expect(Object.fromEntries(tickets.map((t) => [t.id, t.sequence])), context).toEqual(
      Object.fromEntries(ticketIds.map((id) => [id, expectedSequence(id)])),
    );
  }, 300_000);

  it('DynamoDB or SQS unavailable past the SDK retries: 503 with Retry-After (never 200 for an event not queued, never 500), and the retry succeeds', async () => {
    const b = await startTestBridge({ env: env() });
    bridges.push(b);
    const customer = newCustomer('outage');
    const id = nextXId();
    const down = {
      dynamodb: injectFaults(b.clients.dynamodb, { fraction: 1, random: Math.random, kinds: ['throttle', 'timeout'], placement: 'outside-retries' }, 'outageDb'),
      sqs: injectFaults(b.clients.sqs, { fraction: 1, random: Math.random, kinds: ['throttle'], placement: 'outside-retries', commands: new Set(['SendMessageBatchCommand']) }, 'outageSqs'),
    };
    const webhook = await b.postWebhook(xaaMention({ id, author: customer }));
    const list = await b.api('GET', '/tickets');
    const reply = await b.api('POST', '/tickets/mn-1-1/replies', { text: 'hello' });
    expect([webhook.status, list.status, reply.status]).toEqual([503, 503, 503]);
    expect(list.headers.get('retry-after')).toBe('1');
    expect(list.json).toMatchObject({ error: { code: 'unavailable' } });
    down.dynamodb.enabled = false;
    down.sqs.enabled = false;
    // X's retry of the delivery, and the helpdesk's retry of its read, now succeed; the post is stored once.
    expect((await b.postWebhook(xaaMention({ id, author: customer }))).status).toBe(200);
    await b.waitForIdle({ timeoutMs: 15_000 });
    expect((await b.api('GET', '/tickets')).status).toBe(200);
    const { messages } = tableView(await b.scanTable());
    expect(messages.map((m) => m.xId)).toEqual([id]);
  });
});

describe('a worker killed at every step boundary', () => {
  let b: TestBridge;
  let ingestKill: ReturnType<typeof killSwitch>;
  let replyKill: ReturnType<typeof killSwitch>;
  let apiKill: ReturnType<typeof killSwitch>;
  let apiHold: ReturnType<typeof holdSwitch>;
  const notifyCrash = crashSwitch();
  let notifySendFaults: ReturnType<typeof injectFaults>;

  beforeAll(async () => {
    const real = await loadFunctionHandlers();
    const handlers: HandlerFactories = {
      ...real,
      ingest: (config) => {
        const own = clientsOf(config);
        ingestKill = killSwitch(own.dynamodb);
        return createIngestHandler(config, own);
      },
      reply: (config) => {
        const own = clientsOf(config);
        replyKill = killSwitch(own.dynamodb);
        return createReplyHandler(config, own, { inFlightGraceMs: 300 });
      },
      helpdeskApi: (config) => {
        const own = clientsOf(config);
        apiKill = killSwitch(own.dynamodb);
        apiHold = holdSwitch(own.dynamodb);
        return createHelpdeskApiHandler(config, own);
      },
      notify: (config) => {
        const own = clientsOf(config);
        notifyCrash.watch(own.dynamodb);
        notifyCrash.watch(own.sqs);
        // No faults until a test gives it a budget.
        notifySendFaults = injectFaults(
          own.sqs,
          { fraction: 1, random: Math.random, kinds: ['timeout'], placement: 'outside-retries', commands: new Set(['SendMessageCommand']), budget: 0 },
          'notifySendFaults',
        );
        // The retry schedule compressed to one second per step.
        const notify = createNotifyHandler(config, own, { fetch: notifyCrash.fetch(globalThis.fetch), retryDelaySeconds: () => 1 });
        return notifyCrash.worker(notify);
      },
    };
    b = await startTestBridge({
      env: env(),
      handlers,
      queueSpecs: {
        inbound: { visibilityTimeoutSeconds: 1 },
        reply: { visibilityTimeoutSeconds: 1 },
        notifyRetry: { visibilityTimeoutSeconds: 1 },
      },
      log: (message, error) => {
        if (!/WorkerKilled|killed (before|after)/.test(`${message} ${String(error)}`)) console.error(message, error ?? '');
      },
    });
    bridges.push(b);
  });

  const ingestPoints: [string, KillPoint][] = [
    ['before its first read', { command: 'BatchGetItemCommand', occurrence: 1, when: 'before' }],
    ["after the dedupe read (the batch's X ids)", { command: 'BatchGetItemCommand', occurrence: 1, when: 'after' }],
    ["after reading the parent's item", { command: 'GetItemCommand', occurrence: 1, when: 'after' }],
    ["after reading the parent's ticket", { command: 'GetItemCommand', occurrence: 2, when: 'after' }],
    ["after reading the author's tickets", { command: 'QueryCommand', occurrence: 1, when: 'after' }],
    ['before its transaction', { command: 'TransactWriteItemsCommand', occurrence: 1, when: 'before' }],
    ['after its transaction, before acknowledging the message', { command: 'TransactWriteItemsCommand', occurrence: 1, when: 'after' }],
  ];

  it.each(ingestPoints)('ingest killed %s: the reply joins its thread once, one event', async (_label, point) => {
    const owner = newCustomer('kown');
    const other = newCustomer('kother');
    const mentionId = nextXId();
    await postLikeX(b, xaaMention({ id: mentionId, author: owner }));
    await b.waitForIdle({ timeoutMs: 15_000 });
    // Another customer replies in the owner's thread: the longest ingest path (parent item, then its ticket).
    const replyId = nextXId();
    const killed = ingestKill.arm(point);
    await postLikeX(b, xaaReply({ id: replyId, author: other, text: 'same problem here', inReplyTo: { id: mentionId, user: owner } }));
    await killed;
    // Redelivered after the 1 s visibility timeout, by another worker.
    await expect.poll(async () => tableView(await b.scanTable()).messages.some((m) => m.xId === replyId), { timeout: 20_000 }).toBe(true);
    await expect.poll(async () => (await b.waitForIdle({ timeoutMs: 15_000 })).queues.inbound.notVisible, { timeout: 10_000 }).toBe(0);
    const { tickets, messages } = tableView(await b.scanTable());
    const mine = tickets.filter((t) => t.id.includes(owner.id) || t.id.includes(other.id));
    expect(mine.map((t) => [t.id, t.sequence])).toEqual([[`mn-${owner.id}-1`, 2]]);
    expect(messages.filter((m) => m.xId === replyId || m.xId === mentionId).map((m) => m.ticketId)).toEqual([
      `mn-${owner.id}-1`,
      `mn-${owner.id}-1`,
    ]);
    await helpdesk.waitFor((events) => events.some((e) => e.webhookId === `evt_mn-${owner.id}-1_2`), 10_000);
    expect(eventProblems(mine, helpdesk.events)).toEqual([]);
  });

  const openPoints: [string, KillPoint][] = [
    ['before opening the ticket', { command: 'PutItemCommand', occurrence: 1, when: 'before' }],
    ['after opening the ticket, before storing its message', { command: 'PutItemCommand', occurrence: 1, when: 'after' }],
    ['after storing the message, before acknowledging', { command: 'PutItemCommand', occurrence: 2, when: 'after' }],
  ];

  it.each(openPoints)('ingest killed %s: one ticket, its message, one ticket.created carrying the text', async (_label, point) => {
    const customer = newCustomer('kopen');
    const mentionId = nextXId();
    const text = `@${BOT.username} opened once (${point.when} put ${point.occurrence})`;
    const killed = ingestKill.arm(point);
    await postLikeX(b, xaaMention({ id: mentionId, author: customer, text }));
    await killed;
    await expect.poll(async () => tableView(await b.scanTable()).messages.some((m) => m.xId === mentionId), { timeout: 20_000 }).toBe(true);
    const ticketId = `mn-${customer.id}-1`;
    await helpdesk.waitFor((events) => events.some((e) => e.webhookId === `evt_${ticketId}_1`), 10_000);
    await b.waitForIdle({ timeoutMs: 15_000 });
    const { tickets, messages } = tableView(await b.scanTable());
    expect(tickets.filter((t) => t.id.includes(customer.id)).map((t) => [t.id, t.sequence])).toEqual([[ticketId, 1]]);
    expect(messages.filter((m) => m.xId === mentionId).map((m) => m.ticketId)).toEqual([ticketId]);
    const events = helpdesk.events.filter((e) => e.json.data.ticket?.id === ticketId);
    expect(events.map((e) => [e.type, (e.json.data as { message?: { text?: string } }).message?.text])).toEqual([['ticket.created', text]]);
    expect(eventProblems([{ id: ticketId, sequence: 1 }], helpdesk.events)).toEqual([]);
  });

  const replyPoints: [string, 'reply' | 'api', KillPoint][] = [
    ['the API, after recording the reply and before queueing it', 'api', { command: 'PutItemCommand', occurrence: 1, when: 'after' }],
    ['the reply worker, after marking the reply posting and before calling X', 'reply', { command: 'PutItemCommand', occurrence: 1, when: 'after' }],
    ["the reply worker, after X's 201 and before recording the post", 'reply', { command: 'TransactWriteItemsCommand', occurrence: 1, when: 'before' }],
    ['the reply worker, after recording the post and before acknowledging the message', 'reply', { command: 'TransactWriteItemsCommand', occurrence: 1, when: 'after' }],
  ];

  it.each(replyPoints)('killed: %s; the reply is posted on X once, recorded once, announced once', async (_label, where, point) => {
    const customer = newCustomer('krep');
    const mentionId = nextXId();
    await postLikeX(b, xaaMention({ id: mentionId, author: customer }));
    const ticketId = `mn-${customer.id}-1`;
    await helpdesk.waitFor((events) => events.some((e) => e.webhookId === `evt_${ticketId}_1`), 15_000);
    const text = `Answer to ${customer.username} (${point.when} ${point.command})`;
    const key = `kill-${customer.id}`;
    const kill = where === 'api' ? apiKill : replyKill;
    const killed = kill.arm(point);
    // A helpdesk retries a failed request with the same Idempotency-Key (the API answers 500 when it dies).
    const answer = await apiLikeHelpdesk(b, 'POST', `/tickets/${ticketId}/replies`, { text }, key);
    expect(answer.status).toBe(202);
    expect(answer.statuses.length).toBe(where === 'api' ? 2 : 1);
    await killed;
    await helpdesk.waitFor((events) => events.some((e) => e.json.data.ticket?.id === ticketId && e.type.startsWith('ticket.reply_')), 20_000);
    await b.waitForIdle({ timeoutMs: 15_000 });
    const view = (await b.api('GET', `/tickets/${ticketId}`)).json as {
      ticket: { sequence: number };
      replies: { text: string; status: string; xId?: string }[];
      messages: { direction: string; xId: string }[];
    };
    expect(view.replies.map((r) => [r.text, r.status])).toEqual([[text, 'posted']]);
    expect(x.posts.filter((p) => p.text === text)).toHaveLength(1);
    expect(view.messages.filter((m) => m.direction === 'outbound').map((m) => m.xId)).toEqual([view.replies[0]!.xId]);
    expect(view.ticket.sequence).toBe(2);
    expect(eventProblems([{ id: ticketId, sequence: 2 }], helpdesk.events)).toEqual([]);
    expect(helpdesk.events.filter((e) => e.json.data.ticket?.id === ticketId).map((e) => e.type)).toEqual(['ticket.created', 'ticket.reply_posted']);
  });

  // Room for the waits below to fail first, with what they saw, on a machine busy enough to stretch every step.
  const SLOW_TEST_MS = 60_000;

  // Waits recognise an event by its ticket and sequence, not by its webhook-id, so a wrong id fails an assertion that
  // says so instead of a wait that times out.
  const isChange = (e: ReceivedEvent, ticketId: string, sequence: number) =>
    e.json.data.ticket?.id === ticketId && e.json.data.ticket?.sequence === sequence;

  /**
   * A customer's new ticket, announced, with nothing else in flight: a crash point or a scripted helpdesk answer armed
   * next falls on this test's work.
   */
  async function announcedTicket(label: string) {
    const customer = newCustomer(label);
    const mentionId = nextXId();
    await postLikeX(b, xaaMention({ id: mentionId, author: customer }));
    const ticketId = `mn-${customer.id}-1`;
    await helpdesk.waitFor((events) => events.some((e) => isChange(e, ticketId, 1) && e.status === 204), 15_000);
    await b.waitForIdle({ timeoutMs: 15_000 });
    return { customer, mentionId, ticketId };
  }

  type TicketView = { ticket: { status: string; sequence: number }; messages: { xId: string; text: string }[] };
  const messageText = (e: ReceivedEvent) => (e.json.data as { message?: { text?: string } }).message?.text;

  // The helpdesk's answers to the follow-up's event, in order, when notify dies there: a crash before the delivery
  // costs nothing, one after it costs the same event once more.
  const notifyPoints: [string, CrashPoint, number[]][] = [
    ['after reading the message its event carries, before delivering', { at: 'GetItemCommand', occurrence: 1, when: 'after' }, [204]],
    ['as it delivers (the request never leaves)', { at: 'fetch', occurrence: 1, when: 'before' }, [204]],
    ['after the helpdesk accepted the event, before returning the batch result', { at: 'fetch', occurrence: 1, when: 'after' }, [204, 204]],
    ['after queueing the retry of a refused delivery, before returning the batch result', { at: 'SendMessageCommand', occurrence: 1, when: 'after' }, [503, 204, 204]],
    ['on the retry queue, after the helpdesk accepted the retry, before the message is deleted', { at: 'fetch', occurrence: 2, when: 'after' }, [503, 204, 204]],
  ];

  it.each(notifyPoints)('notify killed %s: the follow-up reaches the helpdesk under its one webhook-id, the same body every time', async (_label, point, answers) => {
    const { customer, mentionId, ticketId } = await announcedTicket('knotify');
    const followUpId = nextXId();
    const webhookId = `evt_${ticketId}_2`;
    if (answers[0] === 503) helpdesk.respondWith([503]);
    const killed = notifyCrash.arm(point);
    await postLikeX(b, xaaReply({ id: followUpId, author: customer, text: 'still waiting', inReplyTo: { id: mentionId, user: customer } }));
    await killed;
    // The stream replays a failed batch; a retry message stays on its queue until an invocation succeeds for it.
    await helpdesk.waitFor((events) => events.filter((e) => isChange(e, ticketId, 2)).length >= answers.length, 20_000);
    const idle = await b.waitForIdle({ timeoutMs: 20_000, untilEmpty: true });
    expect(idle.queues.notifyRetry.deadLetters).toBe(0);

    const view = (await b.api('GET', `/tickets/${ticketId}`)).json as TicketView;
    expect(view.ticket.sequence).toBe(2);
    expect(view.messages.map((m) => m.xId)).toEqual([mentionId, followUpId]);
    const mine = helpdesk.events.filter((e) => e.json.data.ticket?.id === ticketId);
    expect([...new Set(mine.map((e) => e.webhookId))]).toEqual([`evt_${ticketId}_1`, webhookId]);
    const attempts = mine.filter((e) => isChange(e, ticketId, 2));
    expect(attempts.map((e) => e.status)).toEqual(answers);
    expect(attempts.map((e) => [e.webhookId, e.type, messageText(e)])).toEqual(
      answers.map(() => [webhookId, 'ticket.message_added', view.messages[1]!.text]),
    );
    expect(new Set(attempts.map((e) => e.body)).size).toBe(1);
    expect(eventProblems([{ id: ticketId, sequence: 2 }], helpdesk.events, { maxDeliveriesPerId: 2 })).toEqual([]);
  }, SLOW_TEST_MS);

  it('notify-retry refusing the retry of a refused delivery: notify fails the record back to the stream, whose replay delivers it', async () => {
    const { customer, mentionId, ticketId } = await announcedTicket('krefuse');
    const webhookId = `evt_${ticketId}_2`;
    helpdesk.respondWith([503]);
    notifySendFaults.remaining = 1;
    await postLikeX(b, xaaReply({ id: nextXId(), author: customer, text: 'hello?', inReplyTo: { id: mentionId, user: customer } }));
    await helpdesk.waitFor((events) => events.some((e) => isChange(e, ticketId, 2) && e.status === 204), 20_000);
    const idle = await b.waitForIdle({ timeoutMs: 20_000, untilEmpty: true });

    expect(notifySendFaults.injected).toEqual({ 'SendMessageCommand:timeout': 1 });
    expect(idle.queues.notifyRetry.deadLetters).toBe(0);
    expect(helpdesk.events.filter((e) => isChange(e, ticketId, 2)).map((e) => [e.webhookId, e.status])).toEqual([
      [webhookId, 503],
      [webhookId, 204],
    ]);
    expect(eventProblems([{ id: ticketId, sequence: 2 }], helpdesk.events)).toEqual([]);
  }, SLOW_TEST_MS);

  const statusPoints: [string, KillPoint][] = [
    ['before its conditional write', { command: 'PutItemCommand', occurrence: 1, when: 'before' }],
    ['after its conditional write, before answering', { command: 'PutItemCommand', occurrence: 1, when: 'after' }],
  ];

  it.each(statusPoints)('the status API killed %s: the helpdesk retries the PATCH; one ticket.status_changed, the sequence grows once', async (_label, point) => {
    const { ticketId } = await announcedTicket('kstatus');
    const killed = apiKill.arm(point);
    // The API answers 500 when it dies; the helpdesk sends the same PATCH again.
    const answer = await apiLikeHelpdesk(b, 'PATCH', `/tickets/${ticketId}`, { status: 'solved' });
    await killed;
    expect(answer.json).toMatchObject({ ticket: { id: ticketId, status: 'solved', sequence: 2 } });
    const view = (await b.api('GET', `/tickets/${ticketId}`)).json as TicketView;
    expect(view.ticket).toMatchObject({ status: 'solved', sequence: 2 });
    await helpdesk.waitFor((events) => events.some((e) => isChange(e, ticketId, 2) && e.status === 204), 15_000);
    await b.waitForIdle({ timeoutMs: 15_000 });

    const mine = helpdesk.events.filter((e) => e.json.data.ticket?.id === ticketId);
    expect(mine.map((e) => [e.webhookId, e.type, (e.json.data as { previousStatus?: string }).previousStatus])).toEqual([
      [`evt_${ticketId}_1`, 'ticket.created', undefined],
      [`evt_${ticketId}_2`, 'ticket.status_changed', 'open'],
    ]);
    expect(eventProblems([{ id: ticketId, sequence: 2 }], helpdesk.events)).toEqual([]);
    expect(answer.statuses, 'the dead API answered 500 and the helpdesk sent the PATCH again').toEqual([500, 200]);
  }, SLOW_TEST_MS);

  it("the status API held between reading the ticket and writing it while the customer's follow-up is stored: the status applies on top, both changes announced in order", async () => {
    const { customer, mentionId, ticketId } = await announcedTicket('khold');
    const hold = apiHold.arm({ command: 'PutItemCommand', occurrence: 1, when: 'before' });
    const patch = b.api('PATCH', `/tickets/${ticketId}`, { status: 'solved' });
    await hold.reached;
    // The API decided on the ticket at sequence 1; the customer's follow-up moves it to 2 before that write lands.
    const followUpId = nextXId();
    await postLikeX(b, xaaReply({ id: followUpId, author: customer, text: 'any update?', inReplyTo: { id: mentionId, user: customer } }));
    await helpdesk.waitFor((events) => events.some((e) => isChange(e, ticketId, 2) && e.status === 204), 15_000);
    hold.release();
    const answer = await patch;
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ ticket: { status: 'solved', sequence: 3 } });
    await helpdesk.waitFor((events) => events.some((e) => isChange(e, ticketId, 3) && e.status === 204), 15_000);
    await b.waitForIdle({ timeoutMs: 15_000 });

    const view = (await b.api('GET', `/tickets/${ticketId}`)).json as TicketView;
    expect(view.ticket).toMatchObject({ status: 'solved', sequence: 3 });
    expect(view.messages.map((m) => m.xId)).toEqual([mentionId, followUpId]);
    const mine = helpdesk.events.filter((e) => e.json.data.ticket?.id === ticketId);
    expect(mine.map((e) => [e.webhookId, e.type])).toEqual([
      [`evt_${ticketId}_1`, 'ticket.created'],
      [`evt_${ticketId}_2`, 'ticket.message_added'],
      [`evt_${ticketId}_3`, 'ticket.status_changed'],
    ]);
    expect(eventProblems([{ id: ticketId, sequence: 3 }], helpdesk.events)).toEqual([]);
  }, SLOW_TEST_MS);
});

describe('SQS redelivery storms', () => {
  it('every item sent six times, handled by workers slower than the visibility timeout: one message each, one event per change', async () => {
    const real = await loadFunctionHandlers();
    let overlapped = 0;
    const b = await startTestBridge({
      env: env(),
      handlers: {
        ...real,
        ingest: (config) => {
          const own = clientsOf(config);
          // Each running invocation's messages, and whether SQS has handed one of them to another worker yet.
          type Invocation = { messageIds: string[]; handedOn: boolean; resume?: () => void };
          const running = new Set<Invocation>();
          const holding = new AsyncLocalStorage<Invocation>();
          let held = 0;
          // A third of the writes are slower than the 1 s visibility timeout, by construction rather than by a sleep:
          // the write waits until SQS has handed one of its invocation's messages to another worker, so two workers
          // hold the same item at once. At most two wait at a time, so the other pollers are free to receive.
          const random = seededRandom(SEED + 1);
          (own.dynamodb.middlewareStack as unknown as { add: (m: unknown, o: unknown) => void }).add(
            (next: (a: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
              const mine = holding.getStore();
              if (context.commandName === 'TransactWriteItemsCommand' && mine && !mine.handedOn && held < 2 && random() < 0.33) {
                overlapped++;
                held++;
                await new Promise<void>((resume) => (mine.resume = resume));
                held--;
              }
              return next(args);
            },
            { step: 'initialize', name: 'slowWorker' },
          );
          const ingest = createIngestHandler(config, own);
          return (event) => {
            const messageIds = event.Records.map((r) => r.messageId);
            for (const other of running) {
              if (other.handedOn || !other.messageIds.some((id) => messageIds.includes(id))) continue;
              other.handedOn = true;
              other.resume?.();
            }
            const mine: Invocation = { messageIds, handedOn: false };
            running.add(mine);
            return holding.run(mine, () => ingest(event)).finally(() => running.delete(mine));
          };
        },
      },
      queueSpecs: { inbound: { visibilityTimeoutSeconds: 1 } },
      sqsConcurrency: 5,
    });
    bridges.push(b);
    const customers = Array.from({ length: 6 }, (_, i) => newCustomer(`storm${i}`));
    // Each customer: two mentions (merged into one ticket), a reply in another customer's thread, a DM.
    const mentions = customers.flatMap((author) => [0, 1].map(() => ({ id: nextXId(), author })));
    const bodies: Record<string, unknown>[] = mentions.map((m) => xaaMention({ id: m.id, author: m.author }));
    const dms = customers.map((sender) => ({ id: nextXId(), sender }));
    bodies.push(...dms.map((d) => xaaDm({ id: d.id, sender: d.sender })));
    const events = bodies.flatMap((body) => normaliseWebhookBody(body, { botUserId: BOT.id, botUsername: BOT.username, receivedAt: new Date().toISOString() }).events);
    const sqs = new SQSClient({ endpoint: b.endpoints.sqs, ...LOCAL_AWS });
    try {
      // Six copies of every item go straight onto the queue, shuffled, ten per batch.
      const copies = events.flatMap((event) => Array.from({ length: 6 }, () => toSqsBody(event)));
      const random = seededRandom(SEED + 2);
      copies.sort(() => random() - 0.5);
      for (let i = 0; i < copies.length; i += 10) {
        await sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: b.resources.queues.inbound.url,
            Entries: copies.slice(i, i + 10).map((body, j) => ({ Id: String(j), MessageBody: body })),
          }),
        );
      }
      await b.waitForIdle({ timeoutMs: 60_000, untilEmpty: true });
      // Then the cross-thread replies, each POSTed three times at once.
      const replies = customers.map((author, i) => {
        const parent = mentions[((i + 1) % customers.length) * 2]!;
        return { id: nextXId(), author, parent };
      });
      await Promise.all(
        replies.flatMap((r) => {
          const body = xaaReply({ id: r.id, author: r.author, text: 'me too', inReplyTo: { id: r.parent.id, user: r.parent.author } });
          return [postLikeX(b, body), postLikeX(b, body), postLikeX(b, body)];
        }),
      );
      await b.waitForIdle({ timeoutMs: 60_000, untilEmpty: true });
    } finally {
      sqs.destroy();
    }
    const { tickets, messages } = tableView(await b.scanTable());
    expect(overlapped).toBeGreaterThan(0);
    expect(b.eventSources.ingest!.stats().received).toBeGreaterThan(events.length * 6);
    expect(messages).toHaveLength(mentions.length + dms.length + customers.length);
    expect(new Set(messages.map((m) => m.xId)).size).toBe(messages.length);
    expect(Object.fromEntries(tickets.map((t) => [t.id, t.sequence]))).toEqual(
      Object.fromEntries(customers.flatMap((c) => [[`mn-${c.id}-1`, 3], [`dm-${c.id}-1`, 1]])),
    );
    await expect.poll(() => eventProblems(tickets, helpdesk.events), { timeout: 15_000 }).toEqual([]);
  }, 120_000);
});

describe("X's timeouts and 5xx bursts", () => {
  let b: TestBridge;
  const requestedDelays: number[] = [];

  beforeAll(async () => {
    const real = await loadFunctionHandlers();
    b = await startTestBridge({
      env: env(),
      handlers: {
        ...real,
        reply: (config) => {
          const own = clientsOf(config);
          // Time compression: the worker's backoff (10 s, 30 s, 90 s, ...) becomes at most 1 s on the queue; the
          // delays it asked for are kept to check the schedule grows.
          compressVisibility(own.sqs, requestedDelays);
          const poster = createReplyPoster(config.x, { timeoutMs: 500 });
          return createReplyHandler(config, own, { poster, inFlightGraceMs: 300 });
        },
      },
      queueSpecs: { reply: { visibilityTimeoutSeconds: 1, maxReceiveCount: 20 } },
      log: () => undefined,
    });
    bridges.push(b);
  });
  afterEach(() => x.clearScripts());

  const onPost = { method: 'POST', path: '/2/tweets' };
  const onLookup = { method: 'GET', path: /^\/2\/users\/\d+\/tweets$/ };
  // The backoff after each 5xx (10 s, 30 s, 90 s, ...) is compressed on the queue, but it must still grow.
  const cases: [string, () => void, { posts: number; delays?: number[] }][] = [
    ['a burst of three 503s', () => x.failNext(3, xResponses.serviceUnavailable(), onPost), { posts: 4, delays: [10, 30, 90] }],
    ['a 503 for a post X kept', () => x.failNext(1, xResponses.keptThenServiceUnavailable(), onPost), { posts: 1 }],
    ['a request that times out unanswered', () => x.failNext(1, xResponses.hang(), onPost), { posts: 2 }],
    ['a post X kept but never answered', () => x.failNext(1, xResponses.keptThenHang(), onPost), { posts: 1 }],
    ['dropped connections, then 5xx on the look-up too', () => {
      x.failNext(2, xResponses.connectionReset(), onPost);
      x.failNext(2, xResponses.serviceUnavailable(), onLookup);
    }, { posts: 3 }],
  ];

  it.each(cases)('%s: the reply is on X exactly once and reported posted once', async (_label, script, expected) => {
    requestedDelays.length = 0;
    const customer = newCustomer('xflaky');
    await postLikeX(b, xaaMention({ id: nextXId(), author: customer }));
    const ticketId = `mn-${customer.id}-1`;
    await helpdesk.waitFor((events) => events.some((e) => e.webhookId === `evt_${ticketId}_1`), 15_000);
    script();
    const text = `Flaky X answer for ${customer.username}`;
    expect((await b.api('POST', `/tickets/${ticketId}/replies`, { text }, undefined)).status).toBe(202);
    await helpdesk.waitFor((events) => events.some((e) => e.json.data.ticket?.id === ticketId && e.type.startsWith('ticket.reply_')), 30_000);
    await b.waitForIdle({ timeoutMs: 15_000 });
    expect(x.posts.filter((p) => p.text === text)).toHaveLength(1);
    expect(x.requestsTo('POST', '/2/tweets').filter((r) => (r.body as { text?: string }).text === text)).toHaveLength(expected.posts);
    const events = helpdesk.events.filter((e) => e.json.data.ticket?.id === ticketId);
    expect(events.map((e) => e.type)).toEqual(['ticket.created', 'ticket.reply_posted']);
    expect(eventProblems([{ id: ticketId, sequence: 2 }], helpdesk.events)).toEqual([]);
    if (expected.delays) expect(requestedDelays.filter((d) => d >= 10)).toEqual(expected.delays);
  });
});

describe('the helpdesk down for a long time', () => {
  it('events wait, reach the dead-letter queue after the retry budget, and a redrive delivers them with their original webhook-id', async () => {
    const RETRIES = 3;
    const real = await loadFunctionHandlers();
    const b = await startTestBridge({
      env: env(),
      handlers: {
        ...real,
        // The real schedule takes a day (checked below); compressed here to one second per step.
        notify: (config, clients) => createNotifyHandler(config, clients, { retryDelaySeconds: () => 1, maxRetries: RETRIES }),
      },
      queueSpecs: { notifyRetry: { maxReceiveCount: RETRIES, visibilityTimeoutSeconds: 1 } },
    });
    bridges.push(b);
    helpdesk.setDefault(503);
    try {
      const customers = Array.from({ length: 4 }, (_, i) => newCustomer(`down${i}`));
      const mentions = customers.map((author) => ({ id: nextXId(), author }));
      await postLikeX(b, xaaBatch(mentions.map((m) => xaaMention({ id: m.id, author: m.author }))));
      await b.waitForIdle({ timeoutMs: 15_000 });
      // More changes while the helpdesk is down: a follow-up in one ticket, a status change on another.
      await postLikeX(b, xaaReply({ id: nextXId(), author: customers[0]!, text: 'hello?', inReplyTo: { id: mentions[0]!.id, user: customers[0]! } }));
      expect((await b.api('PATCH', `/tickets/mn-${customers[1]!.id}-1`, { status: 'pending' })).status).toBe(200);
      const tickets = [
        { id: `mn-${customers[0]!.id}-1`, sequence: 2 },
        ...customers.slice(1).map((c, i) => ({ id: `mn-${c.id}-1`, sequence: i === 0 ? 2 : 1 })),
      ];
      const webhookIds = tickets.flatMap((t) => Array.from({ length: t.sequence }, (_, i) => `evt_${t.id}_${i + 1}`));
      const dlq = b.resources.queues.notifyRetry.dlq.url;
      await expect
        .poll(async () => (await b.waitForIdle({ timeoutMs: 15_000 })).queues.notifyRetry.deadLetters, { timeout: 30_000 })
        .toBeGreaterThanOrEqual(webhookIds.length);
      const down = helpdesk.events.filter((e) => webhookIds.includes(e.webhookId));
      expect(down.filter((e) => e.status >= 200 && e.status < 300)).toEqual([]);
      for (const id of webhookIds) {
        // The stream's attempt (when it was first in its ticket's line) plus one per receive of the retry message.
        expect(helpdesk.attempts(id), id).toBeGreaterThanOrEqual(RETRIES);
        expect(helpdesk.attempts(id), id).toBeLessThanOrEqual(RETRIES + 1);
      }

      // The helpdesk is back; ops redrive the dead-letter queue into the retry queue.
      helpdesk.setDefault(204);
      const sqs = new SQSClient({ endpoint: b.endpoints.sqs, ...LOCAL_AWS });
      let moved: string[];
      try {
        moved = await redrive(sqs, dlq, b.resources.queues.notifyRetry.url);
      } finally {
        sqs.destroy();
      }
      expect(moved.map((body) => (JSON.parse(body) as { webhookId: string }).webhookId).sort()).toEqual([...webhookIds].sort());
      await helpdesk.waitFor((events) => webhookIds.every((id) => events.some((e) => e.webhookId === id && e.status === 204)), 15_000);
      for (const id of webhookIds) {
        const attempts = helpdesk.events.filter((e) => e.webhookId === id);
        // Delivered once, with the bytes every failed attempt carried.
        expect(attempts.filter((e) => e.status === 204), id).toHaveLength(1);
        expect(new Set(attempts.map((e) => e.body)).size, id).toBe(1);
      }
      expect(eventProblems(tickets, helpdesk.events)).toEqual([]);
    } finally {
      helpdesk.setDefault(204);
    }
  }, 90_000);

  it('the real retry schedule keeps an event about a day before the dead-letter queue, within what SQS allows', () => {
    const total = RETRY_SCHEDULE_SECONDS.reduce((sum, s) => sum + s, 0);
    expect(total).toBeGreaterThan(22 * 3600);
    expect(total).toBeLessThan(26 * 3600);
    expect(QUEUES.notifyRetry.maxReceiveCount).toBe(RETRY_COUNT);
    expect(RETRY_SCHEDULE_SECONDS[0]).toBeLessThanOrEqual(10);
    expect(Math.max(...RETRY_SCHEDULE_SECONDS)).toBeLessThanOrEqual(12 * 3600);
  });
});
