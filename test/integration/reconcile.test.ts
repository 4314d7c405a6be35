// Reconciliation end to end on DynamoDB Local, the SQS emulator, the fake X and the real ingest function: a customer's
// follow-up under their own post, which X Activity API webhooks never deliver, is found by the reconciler's
// conversation search and ticketed in the right ticket, once, however it arrives.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createReconcileHandler } from '../../functions/reconcile/handler';
import { createAwsClients } from '../../shared/aws/clients';
import { FakeXServer } from '../support/fake-x-server';
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
  await Promise.all(bridges.splice(0).map((b) => b.stop()));
  helpdesk.reset();
  x.reset();
});

async function bridge(): Promise<TestBridge> {
  const b = await startTestBridge({
    env: {
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
    await helpdesk.waitFor((events) => events.some((e) => e.json.data.ticket.id === ticketId), 15_000);

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
    expect(event.json.data.ticket.id).toBe(ticketId);
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
