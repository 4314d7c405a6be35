// The inbound pipeline end to end on real local services: signed X webhook → SQS → ingest → DynamoDB → table
// stream → notify → a helpdesk that verifies Standard Webhooks signatures with the `standardwebhooks` package.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createIngestHandler } from '../../functions/ingest/handler';
import { loadFunctionHandlers } from '../../infra/local/bridge';
import type { AwsClients } from '../../shared/aws/clients';
import type { Config } from '../../shared/config';
import { createHelpdeskReceiver, type HelpdeskReceiver } from '../support/helpdesk-receiver';
import { startTestBridge, type TestBridge } from '../support/test-bridge';
import { CUSTOMER, aaaMention, nextXId, xaaDelete, xaaDm, xaaMention } from '../support/x-payloads';

const SECRET = `whsec_${Buffer.from('pipeline-test-secret-32-bytes!!!').toString('base64')}`;

let helpdesk: HelpdeskReceiver;
let helpdeskUrl: string;

beforeAll(async () => {
  helpdesk = createHelpdeskReceiver(SECRET);
  helpdeskUrl = (await helpdesk.start()).url;
});
afterAll(() => helpdesk.stop());

const bridges: TestBridge[] = [];
afterEach(async () => {
  await Promise.all(bridges.splice(0).map((b) => b.stop()));
  helpdesk.reset();
});

async function bridge() {
  const started = await startTestBridge({ env: { HELPDESK_WEBHOOK_URL: helpdeskUrl, HELPDESK_WEBHOOK_SECRET: SECRET } });
  bridges.push(started);
  return started;
}

const eventsFor = (ticketId: string) => helpdesk.events.filter((e) => e.json.data.ticket?.id === ticketId);

describe('inbound pipeline', () => {
  it('a signed mention becomes a stored ticket and one signed ticket.created', async () => {
    const b = await bridge();
    const id = nextXId();
    const answer = await b.postWebhook(xaaMention({ id, text: '@AcmeSupport my order #A-1234 is late & the link is dead' }));
    expect(answer.status).toBe(200);

    const [created] = await helpdesk.waitFor((events) => events.some((e) => e.type === 'ticket.created'), 15_000);
    expect(created!.webhookId).toBe(`evt_mn-${CUSTOMER.id}-1_1`);
    expect(created!.json).toMatchObject({
      type: 'ticket.created',
      data: {
        ticket: { id: `mn-${CUSTOMER.id}-1`, status: 'open', channel: 'mention', sequence: 1, customer: { username: CUSTOMER.username } },
        message: { xId: id, direction: 'inbound', text: '@AcmeSupport my order #A-1234 is late & the link is dead', redacted: false },
      },
    });
    const view = await b.api('GET', `/tickets/mn-${CUSTOMER.id}-1`);
    expect(view.status).toBe(200);
    expect(view.json).toMatchObject({ ticket: { id: `mn-${CUSTOMER.id}-1` }, messages: [{ xId: id }] });
  });

  it('a post deleted on X after its ticket opened: its text is gone from the table and the API, and the helpdesk is told', async () => {
    const b = await bridge();
    const author = { id: '555000777', username: 'regrets_it', name: 'Regrets' };
    const id = nextXId();
    const text = '@AcmeSupport my card number is 4111 1111 1111 1111, oops';
    expect((await b.postWebhook(xaaMention({ id, author, text }))).status).toBe(200);
    await helpdesk.waitFor(() => eventsFor('mn-555000777-1').length === 1, 15_000);
    expect((await b.postWebhook(xaaDelete({ id, authorId: author.id }))).status).toBe(200);
    await helpdesk.waitFor(() => eventsFor('mn-555000777-1').some((e) => e.type === 'ticket.message_redacted'), 15_000);

    expect(eventsFor('mn-555000777-1').map((e) => e.type)).toEqual(['ticket.created', 'ticket.message_redacted']);
    expect(eventsFor('mn-555000777-1')[1]!.json.data).toMatchObject({ message: { xId: id, text: '', redacted: true } });
    const view = (await b.api('GET', '/tickets/mn-555000777-1')).json as { messages: { xId: string; text: string; redacted: boolean }[] };
    expect(view.messages).toEqual([expect.objectContaining({ xId: id, text: '', redacted: true })]);
    // Not only the message item: the ticket's copy of its opening message must not keep the text either.
    const items = await b.scanTable();
    expect(items.filter((item) => JSON.stringify(item).includes('4111'))).toEqual([]);
  });

  it('six concurrent redeliveries of one post make one message and one ticket.created', async () => {
    const b = await bridge();
    const id = nextXId();
    const body = aaaMention({ id, author: { id: '777000111', username: 'dup_tester', name: 'Dup' } });
    const answers = await Promise.all(Array.from({ length: 6 }, () => b.postWebhook(body)));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 200]);
    await b.waitForIdle({ timeoutMs: 20_000 });
    await helpdesk.waitFor((events) => events.some((e) => e.type === 'ticket.created'), 10_000);

    const items = await b.scanTable();
    expect(items.filter((i) => i.type === 'message')).toHaveLength(1);
    expect(items.filter((i) => i.type === 'ticket')).toHaveLength(1);
    const events = eventsFor('mn-777000111-1');
    expect(events.filter((e) => e.type === 'ticket.created')).toHaveLength(1);
    expect(new Set(events.map((e) => e.webhookId)).size).toBe(1);
  });

  it('the same post in both formats, and a DM, stay one message each', async () => {
    const b = await bridge();
    const id = nextXId();
    const author = { id: '888000222', username: 'both_formats', name: 'Both' };
    expect((await b.postWebhook(xaaMention({ id, author }))).status).toBe(200);
    expect((await b.postWebhook(aaaMention({ id, author }))).status).toBe(200);
    expect((await b.postWebhook(xaaDm({ sender: author }))).status).toBe(200);
    await b.waitForIdle({ timeoutMs: 20_000 });
    const items = await b.scanTable();
    expect(items.filter((i) => i.type === 'message')).toHaveLength(2);
    expect(items.filter((i) => i.type === 'ticket').map((i) => i.id).sort()).toEqual(['dm-888000222-1', 'mn-888000222-1']);
  });

  it('a worker killed after its write and before acknowledging loses nothing and doubles nothing', async () => {
    let kills = 0;
    const realHandlers = await loadFunctionHandlers();
    // The ingest worker "dies" right after DynamoDB accepted its transaction: the SQS message is not deleted, so
    // SQS hands it out again after its visibility timeout.
    const dyingIngest = (config: Config, clients?: AwsClients) => {
      const handler = createIngestHandler(config, clients);
      const dynamodb = clients!.dynamodb as DynamoDBClient;
      dynamodb.middlewareStack.add(
        (next, context) => async (args) => {
          const result = await next(args);
          // A new ticket's last write is its message (the ticket is put first).
          const item = (args.input as { Item?: { type?: { S?: string } } }).Item;
          if (context.commandName === 'PutItemCommand' && item?.type?.S === 'message' && kills === 0) {
            kills++;
            throw new Error('worker killed after its write');
          }
          return result;
        },
        { step: 'initialize', name: 'killAfterWrite' },
      );
      return handler;
    };
    const b = await startTestBridge({
      env: { HELPDESK_WEBHOOK_URL: helpdeskUrl, HELPDESK_WEBHOOK_SECRET: SECRET },
      handlers: { ...realHandlers, ingest: dyingIngest },
      queueSpecs: { inbound: { visibilityTimeoutSeconds: 1 } },
    });
    bridges.push(b);
    const author = { id: '999000333', username: 'crashy', name: 'Crash' };
    expect((await b.postWebhook(xaaMention({ author }))).status).toBe(200);
    await helpdesk.waitFor((events) => events.some((e) => e.json.data.ticket?.id === 'mn-999000333-1'), 15_000);
    // Wait until SQS has handed the unacknowledged message out again and the second worker finished with it.
    await expect.poll(async () => (await b.waitForIdle({ timeoutMs: 20_000 })).queues.inbound.notVisible, { timeout: 15_000 }).toBe(0);
    expect(kills).toBe(1);
    expect(b.eventSources.ingest!.stats().received).toBeGreaterThanOrEqual(2);
    const items = await b.scanTable();
    expect(items.filter((i) => i.type === 'message')).toHaveLength(1);
    const events = eventsFor('mn-999000333-1');
    expect(events.map((e) => e.type)).toEqual(['ticket.created']);
  });

  it('a helpdesk answering 503 then 204 gets the event again with the same webhook-id and body', async () => {
    const b = await bridge();
    helpdesk.respondWith([503]);
    const author = { id: '555000444', username: 'retry_me', name: 'Retry' };
    expect((await b.postWebhook(xaaMention({ author }))).status).toBe(200);
    const events = await helpdesk.waitFor((all) => all.filter((e) => e.json.data.ticket?.id === 'mn-555000444-1').length >= 2, 20_000);
    const mine = events.filter((e) => e.json.data.ticket?.id === 'mn-555000444-1');
    expect(mine.map((e) => e.status)).toEqual([503, 204]);
    expect(mine[0]!.webhookId).toBe(mine[1]!.webhookId);
    expect(mine[0]!.body).toBe(mine[1]!.body);
  });

  it('refuses unsigned and forged deliveries with 401, before queueing anything', async () => {
    const b = await bridge();
    const body = xaaMention();
    expect((await b.postWebhook(body, { sign: false })).status).toBe(401);
    expect((await b.postWebhook(body, { secret: 'not-the-secret' })).status).toBe(401);
    expect((await b.postWebhook('{"not json', {})).status).toBe(400);
    expect((await b.postWebhook(Buffer.alloc(1024 * 1024 + 1, 32))).status).toBe(413);
    const sends = () => Object.entries(b.requestCounts().sqs).filter(([name]) => name.startsWith('SendMessage'));
    expect(sends()).toEqual([]);
    // The counter does see a signed delivery's send, so the zero above is not a misnamed counter.
    expect((await b.postWebhook(body)).status).toBe(200);
    expect(sends().map(([name, c]) => [name, c.calls])).toEqual([['SendMessageBatch', 1]]);
  });

  it('answers the CRC challenge and refuses odd tokens', async () => {
    const b = await bridge();
    const ok = await fetch(`${b.url}/x/webhook?crc_token=challenge_string`);
    expect(ok.status).toBe(200);
    const expected = (await import('../../shared/x/signature')).crcResponseToken(b.config.x.apiSecret, 'challenge_string');
    expect(await ok.json()).toEqual({ response_token: expected });
    expect((await fetch(`${b.url}/x/webhook`)).status).toBe(400);
    expect((await fetch(`${b.url}/x/webhook?crc_token=${'a'.repeat(257)}`)).status).toBe(400);
  });

  it('the helpdesk API needs the bearer token and pages newest first', async () => {
    const b = await bridge();
    for (let i = 0; i < 3; i++) {
      await b.postWebhook(xaaMention({ author: { id: `12345000${i}`, username: `pager${i}`, name: 'P' }, createdAt: `2026-11-16T14:0${i}:00.000Z` }));
    }
    await b.waitForIdle({ timeoutMs: 20_000 });
    expect((await b.api('GET', '/tickets', undefined, null)).status).toBe(401);
    expect((await b.api('GET', '/tickets', undefined, 'wrong-token-wrong-token')).status).toBe(401);
    const first = await b.api('GET', '/tickets?limit=2');
    expect(first.status).toBe(200);
    type Page = { tickets: { id: string; createdAt: string }[]; nextCursor: string | null };
    const page1 = first.json as Page;
    expect(page1.tickets).toHaveLength(2);
    expect(page1.nextCursor).toBeTruthy();
    const second = await b.api('GET', `/tickets?limit=2&cursor=${page1.nextCursor}`);
    const page2 = second.json as Page;
    expect(page2.tickets).toHaveLength(1);
    expect(page2.nextCursor).toBeNull();
    // Newest first across pages, by when the ticket opened (ingest may open one batch's tickets in any order), the id
    // breaking a tie; every ticket once.
    const listed = [...page1.tickets, ...page2.tickets];
    const newestFirst = [...listed].sort((x, y) => `${y.createdAt}#${y.id}`.localeCompare(`${x.createdAt}#${x.id}`));
    expect(listed.map((t) => t.id)).toEqual(newestFirst.map((t) => t.id));
    expect(listed.map((t) => t.id).sort()).toEqual(['mn-123450000-1', 'mn-123450001-1', 'mn-123450002-1']);
    expect((await b.api('GET', '/tickets?status=closed')).status).toBe(400);
    expect((await b.api('GET', '/tickets/mn-1-1')).status).toBe(404);
    expect((await b.api('GET', '/healthz', undefined, null)).status).toBe(200);
  });
});

describe('npm run simulate', () => {
  it('sends a mention with a photo and a link, and the helpdesk gets both: the link the customer typed, the photo as an attachment', async () => {
    const b = await bridge();
    const port = new URL(b.url).port;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'infra/local/simulate.ts', 'mention', '--photo', '--link', 'https://shop.example/orders/A-1234', 'this is what arrived'],
      { env: { ...process.env, PORT: port, X_API_SECRET: b.config.x.apiSecret }, timeout: 60_000 },
    );
    expect(stdout).toContain('200 OK');
    const [created] = await helpdesk.waitFor((events) => events.some((e) => e.type === 'ticket.created'), 15_000);
    const message = created!.json.data.message as { text: string; links: unknown[]; attachments: unknown[] };
    expect(message.text).toBe('@AcmeSupport this is what arrived https://shop.example/orders/A-1234');
    expect(message.links).toEqual([expect.objectContaining({ expandedUrl: 'https://shop.example/orders/A-1234', displayUrl: 'shop.example/orders/A-1234' })]);
    expect(message.attachments).toEqual([expect.objectContaining({ type: 'photo', altText: 'a photo from simulate', url: expect.stringMatching(/^https:\/\/pbs\.twimg\.com\/media\//) })]);
  });
});
