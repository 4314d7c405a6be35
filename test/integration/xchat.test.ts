// XChat end to end on real local services: X's `chat.received`, signed and POSTed to the webhook, goes through SQS
// and ingest into the customer's DM ticket. A brand without XChat set up (or an event its keys cannot open) gets a
// message that says an encrypted message came (`encrypted: true`, no text) and one `channel.health_changed`
// (degraded, `xchat_unreadable`); a redelivery is a duplicate.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHelpdeskReceiver, type HelpdeskReceiver } from '../support/helpdesk-receiver';
import { startTestBridge, type TestBridge } from '../support/test-bridge';
import { XCHAT_NOTICE } from '../../shared/x/xchat-event';

const SECRET = `whsec_${Buffer.from('xchat-integration-test-secret-32b').toString('base64')}`;
const FIXTURES = fileURLToPath(new URL('../fixtures/x/', import.meta.url));
const fixture = (name: string): unknown => JSON.parse(readFileSync(`${FIXTURES}${name}`, 'utf8'));
const OTHER_USER = '2222222222222222222';

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

type ViewMessage = { xId: string; text: string; channel: string; transport?: string; encrypted?: boolean; notice?: string; direction: string };

describe('XChat, for a brand that has not set it up', () => {
  it("X's chat.received sample becomes an encrypted message in the customer's DM ticket, one health event, and a redelivery is a duplicate", async () => {
    const b = await startTestBridge({ env: { HELPDESK_WEBHOOK_URL: helpdeskUrl, HELPDESK_WEBHOOK_SECRET: SECRET } });
    bridges.push(b);
    expect((await b.postWebhook(fixture('xaa-doc-chat.received.json'))).status).toBe(200);
    await helpdesk.waitFor(
      (events) => events.some((e) => e.type === 'ticket.created') && events.some((e) => e.type === 'channel.health_changed'),
      15_000,
    );
    // X's retry of the same delivery.
    expect((await b.postWebhook(fixture('xaa-doc-chat.received.json'))).status).toBe(200);
    await b.drain();

    const view = (await b.api('GET', `/tickets/dm-${OTHER_USER}-1`)).json as { messages: ViewMessage[] };
    expect(view.messages).toEqual([
      expect.objectContaining({
        xId: 'e4f4d3fc-8bbf-4928-92eb-e5058d6bb6f6',
        channel: 'dm',
        direction: 'inbound',
        transport: 'xchat',
        encrypted: true,
        text: '',
        notice: XCHAT_NOTICE.not_set_up,
      }),
    ]);
    const created = helpdesk.events.filter((e) => e.type === 'ticket.created');
    expect(created).toHaveLength(1);
    expect(helpdesk.events.filter((e) => e.type === 'ticket.message_added')).toEqual([]);
    const health = helpdesk.events.filter((e) => e.type === 'channel.health_changed');
    expect(health.map((e) => (e.json.data as { channel: { status: string; reason: string } }).channel)).toEqual([
      expect.objectContaining({ status: 'degraded', reason: 'xchat_unreadable', previousStatus: 'ok', sequence: 1 }),
    ]);
  });
});
