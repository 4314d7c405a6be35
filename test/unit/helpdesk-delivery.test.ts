// Contract §4: one signed POST per attempt; only a 2xx within the timeout counts as delivered.
// Runs against the loopback helpdesk receiver, which verifies signatures with the reference library.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { deliver, type DeliveryOptions } from '../../shared/helpdesk/delivery';
import { toTicketEvent, type TicketEvent } from '../../shared/helpdesk/events';
import { createHelpdeskReceiver } from '../support/helpdesk-receiver';

const secret = `whsec_${randomBytes(32).toString('base64')}`;
const receiver = createHelpdeskReceiver(secret);
let url = '';

const event: TicketEvent = toTicketEvent(
  {
    id: 'dm-2468013579-1',
    brand: 'acme',
    status: 'open',
    channel: 'dm',
    customer: { xUserId: '2468013579', username: 'sam', name: 'Sam Ü. 🚀' },
    createdAt: '2025-03-14T09:00:00.000Z',
    updatedAt: '2025-03-14T09:00:00.000Z',
    sequence: 1,
    lastChange: { type: 'ticket.created', at: '2025-03-14T09:00:00.000Z', messageXId: '1900000000000000009' },
  },
  {
    message: {
      id: 'msg-1900000000000000009',
      ticketId: 'dm-2468013579-1',
      xId: '1900000000000000009',
      direction: 'inbound',
      channel: 'dm',
      text: 'Hi, my card was charged twice 😬',
      author: { xUserId: '2468013579', username: 'sam' },
      createdAt: '2025-03-14T08:59:58.000Z',
      redacted: false,
    },
  },
);

const options = (overrides: Partial<DeliveryOptions> = {}): DeliveryOptions => ({
  endpoint: url,
  secret,
  fetch: globalThis.fetch,
  now: () => new Date(),
  ...overrides,
});

beforeAll(async () => {
  ({ url } = await receiver.start());
});
afterAll(() => receiver.stop());
beforeEach(() => receiver.reset());

describe('deliver', () => {
  it('POSTs the signed JSON body; a 2xx is delivered', async () => {
    const result = await deliver(event, options());
    expect(result).toEqual({ ok: true, status: 204 });
    expect(receiver.events).toHaveLength(1);
    const [received] = receiver.events;
    expect(received!.webhookId).toBe('evt_dm-2468013579-1_1');
    expect(received!.type).toBe('ticket.created');
    expect(received!.body).toBe(JSON.stringify(event.body));
    expect(received!.headers['content-type']).toBe('application/json');
    expect(received!.json.data.ticket?.sequence).toBe(1);
    expect(receiver.rejected).toHaveLength(0);
  });

  it('accepts any 2xx', async () => {
    receiver.respondWith([200, 202]);
    expect(await deliver(event, options())).toEqual({ ok: true, status: 200 });
    expect(await deliver(event, options())).toEqual({ ok: true, status: 202 });
  });

  it('a 503 is not delivered and worth retrying', async () => {
    receiver.respondWith([503]);
    expect(await deliver(event, options())).toEqual({ ok: false, status: 503, reason: 'HTTP 503' });
  });

  it('a 4xx is not delivered either (the helpdesk may be misconfigured for a while)', async () => {
    receiver.respondWith([410]);
    expect(await deliver(event, options())).toMatchObject({ ok: false, status: 410 });
  });

  it('a retry carries the same webhook-id and body, signed afresh', async () => {
    receiver.respondWith([503, 204]);
    const first = await deliver(event, options());
    const second = await deliver(event, options({ now: () => new Date(Date.now() + 2_000) }));
    expect([first.ok, second.ok]).toEqual([false, true]);
    const [a, b] = receiver.events;
    expect(receiver.attempts(event.webhookId)).toBe(2);
    expect([a!.attempt, b!.attempt]).toEqual([1, 2]);
    expect(b!.webhookId).toBe(a!.webhookId);
    expect(b!.body).toBe(a!.body);
    expect(b!.headers['webhook-timestamp']).not.toBe(a!.headers['webhook-timestamp']);
  });

  it('a redirect is not followed and not delivered', async () => {
    const elsewhere = createHelpdeskReceiver(secret);
    const { url: elsewhereUrl } = await elsewhere.start();
    try {
      receiver.respondWith([{ status: 307, headers: { location: elsewhereUrl } }]);
      const result = await deliver(event, options());
      expect(result).toMatchObject({ ok: false, status: 307 });
      expect(result.ok ? '' : result.reason).toMatch(/redirect not followed/);
      expect(elsewhere.events).toHaveLength(0);
    } finally {
      await elsewhere.stop();
    }
  });

  it('a helpdesk that does not answer in time is a timeout, worth retrying', async () => {
    // The receiver answers only after 3 s: a delivery without its own timeout would come back with that answer.
    receiver.hang(3_000);
    const result = await deliver(event, options({ timeoutMs: 200 }));
    expect(result).toEqual({ ok: false, reason: 'timeout after 200 ms' });
  });

  it('an unreachable helpdesk is a network error, worth retrying', async () => {
    const gone = createHelpdeskReceiver(secret);
    const { url: goneUrl } = await gone.start();
    await gone.stop();
    const result = await deliver(event, options({ endpoint: goneUrl }));
    expect(result).toEqual({ ok: false, reason: 'network error: ECONNREFUSED' });
  });

  it('a request signed with another secret is refused by the helpdesk', async () => {
    const result = await deliver(event, options({ secret: `whsec_${randomBytes(32).toString('base64')}` }));
    expect(result).toMatchObject({ ok: false, status: 400 });
    expect(receiver.events).toHaveLength(0);
    expect(receiver.rejected).toHaveLength(1);
  });

  it('without an endpoint, prints one readable line and the body, and counts as delivered', async () => {
    const printed: string[] = [];
    const failingFetch = () => Promise.reject(new Error('must not be called'));
    const result = await deliver(event, options({ endpoint: undefined, fetch: failingFetch, print: (t) => printed.push(t) }));
    expect(result).toEqual({ ok: true, status: 0 });
    expect(printed).toHaveLength(1);
    const [line, ...json] = printed[0]!.split('\n');
    expect(line).toContain('ticket.created');
    expect(line).toContain('dm-2468013579-1');
    expect(line).toContain('evt_dm-2468013579-1_1');
    expect(JSON.parse(json.join('\n'))).toEqual(event.body);
    expect(receiver.events).toHaveLength(0);
  });
});
