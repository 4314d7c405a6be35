// Channel health end to end on real local services: X's own `oauth.revoke` sample, signed and POSTed to the webhook,
// goes through SQS, ingest (the channel item in DynamoDB Local), the table stream and notify, and reaches a helpdesk
// that verifies the Standard Webhooks signature as one `channel.health_changed` (`down`). Redelivered, by either
// format, it changes nothing and sends nothing more.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { dynamoChannelHealthStore } from '../../shared/aws/dynamo-ticket-store';
import { APP_REVOKED, READ_BUDGET_SPENT } from '../../shared/channel/channel-health';
import { createHelpdeskReceiver, type HelpdeskReceiver } from '../support/helpdesk-receiver';
import { startTestBridge, type TestBridge } from '../support/test-bridge';
import { BOT } from '../support/x-payloads';

const SECRET = `whsec_${Buffer.from('channel-health-test-secret-32by!').toString('base64')}`;
const FIXTURES = fileURLToPath(new URL('../fixtures/x/', import.meta.url));
const fixture = (name: string): unknown => JSON.parse(readFileSync(`${FIXTURES}${name}`, 'utf8'));

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

const channelEvents = () => helpdesk.events.filter((e) => e.type === 'channel.health_changed');

describe('channel health', () => {
  it("the account's oauth.revoke becomes one signed channel.health_changed (down); redeliveries send no second", async () => {
    const b = await bridge();
    expect(b.config.x.botUserId).toBe(BOT.id);
    expect((await b.postWebhook(fixture('xaa-doc-oauth.revoke.json'))).status).toBe(200);

    const [event] = await helpdesk.waitFor((events) => events.some((e) => e.type === 'channel.health_changed'), 15_000);
    // The receiver accepts only bodies whose signature verifies with the secret (standardwebhooks).
    expect(event!.webhookId).toBe('evt_channel_1');
    expect(event!.json).toEqual({
      type: 'channel.health_changed',
      timestamp: expect.any(String),
      data: {
        channel: {
          brand: b.config.brand,
          status: 'down',
          reason: 'app_revoked',
          detail: expect.stringMatching(/withdrew the app's access.*Re-authorise.*subscribe/s),
          previousStatus: 'ok',
          sequence: 1,
        },
      },
    });
    expect(event!.json.data).not.toHaveProperty('ticket');

    // X's retry of the same delivery, and the same news in the Account Activity API's format.
    expect((await b.postWebhook(fixture('xaa-doc-oauth.revoke.json'))).status).toBe(200);
    expect((await b.postWebhook(fixture('aaa-user-event-revoke.json'))).status).toBe(200);
    await b.drain();

    expect(channelEvents().map((e) => [e.webhookId, e.attempt])).toEqual([['evt_channel_1', 1]]);
    const items = await b.scanTable();
    expect(items.filter((item) => item.type === 'channel')).toEqual([
      expect.objectContaining({ status: 'down', reason: 'app_revoked', sequence: 1 }),
    ]);
    // No ticket came of it.
    expect(items.filter((item) => item.type === 'ticket')).toEqual([]);
  });

  it("the table's conditions keep the channel's rules: one write per change, never a milder status over a worse one", async () => {
    const b = await bridge();
    const store = dynamoChannelHealthStore(b.clients.dynamodb, b.resources.tableName, b.config.brand);
    expect(await store.raise(READ_BUDGET_SPENT, '2026-12-01T20:00:00.000Z')).toBe('changed');
    expect(await store.raise(READ_BUDGET_SPENT, '2026-12-01T20:00:01.000Z')).toBe('unchanged');
    // Found today: today's reservation does not clear it, nor does clearing another reason.
    expect(await store.clear({ reason: 'read_budget_spent', foundBefore: '2026-12-01T00:00:00.000Z' }, 'back', '2026-12-01T21:00:00.000Z')).toBe('unchanged');
    expect(await store.clear({ reason: 'app_revoked' }, 'back', '2026-12-02T00:00:01.000Z')).toBe('unchanged');
    expect(await store.raise(APP_REVOKED, '2026-12-01T22:00:00.000Z')).toBe('changed');
    expect(await store.raise(READ_BUDGET_SPENT, '2026-12-01T22:00:01.000Z')).toBe('unchanged');
    expect(await store.clear({ reason: 'read_budget_spent', foundBefore: '2026-12-02T00:00:00.000Z' }, 'back', '2026-12-02T00:00:01.000Z')).toBe('unchanged');
    expect(await store.getChannel()).toEqual({
      brand: b.config.brand,
      status: 'down',
      reason: 'app_revoked',
      detail: APP_REVOKED.detail,
      sequence: 2,
      lastChange: { at: '2026-12-01T22:00:00.000Z', previousStatus: 'degraded' },
    });
    expect(await store.clear({ reason: 'app_revoked' }, 'access back', '2026-12-02T09:00:00.000Z')).toBe('changed');
    expect(await store.getChannel()).toMatchObject({ status: 'ok', reason: 'recovered', detail: 'access back', sequence: 3 });
    // Every change reached the helpdesk, in order, each once.
    await helpdesk.waitFor(() => channelEvents().length >= 3, 15_000);
    await b.drain();
    expect(channelEvents().map((e) => [e.webhookId, (e.json.data.channel as { status: string }).status])).toEqual([
      ['evt_channel_1', 'degraded'],
      ['evt_channel_2', 'down'],
      ['evt_channel_3', 'ok'],
    ]);
  });
});
