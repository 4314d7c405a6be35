// XChat items from the webhook to ingest's intake: X's chat.received / chat.sent (event-payloads.mdx) become DMs that
// carry their encrypted fields; ingest's intake opens them or marks why they stay encrypted, counts it and tells the
// channel's health, and never touches X's SDK for a brand without XChat or for a message already stored.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { inboundEventSchema, type InboundDm } from '../../shared/x/inbound-event';
import { normaliseWebhookBody } from '../../shared/x/normalise';
import { xchatIntake, type XChatDm, type XChatOpener } from '../../shared/x/xchat-inbound';
import { messageFromItem } from '../../shared/tickets/rules';
import { XCHAT_NOTICE } from '../../shared/x/xchat-event';
import { memoryChannelHealthStore } from '../support/memory-ticket-store';
import { captureLogs } from '../support/log-capture';
import { BOT } from '../support/x-payloads';

const FIXTURES = fileURLToPath(new URL('../fixtures/x/', import.meta.url));
const ctx = { botUserId: BOT.id, botUsername: BOT.username, receivedAt: '2026-08-12T18:00:01.000Z' };
const OTHER_USER = '2222222222222222222';
const sample = (eventType: string) =>
  JSON.parse(readFileSync(`${FIXTURES}xaa-doc-${eventType}.json`, 'utf8')) as { data: { payload: Record<string, unknown> } };

function onlyDm(body: unknown): XChatDm {
  const { events, ignored } = normaliseWebhookBody(body, ctx);
  expect(ignored).toEqual({});
  expect(events).toHaveLength(1);
  return inboundEventSchema.parse(events[0]) as XChatDm;
}

describe('chat.received and chat.sent, as the webhook queues them', () => {
  it("X's chat.received sample: a DM from the customer to the bot, keyed by the message's UUID, its encrypted fields kept", () => {
    const dm = onlyDm(sample('chat.received'));
    expect(dm).toEqual({
      kind: 'dm',
      format: 'xaa',
      xId: 'e4f4d3fc-8bbf-4928-92eb-e5058d6bb6f6',
      sender: { xUserId: OTHER_USER },
      recipientXUserId: BOT.id,
      text: '',
      links: [],
      media: [],
      createdAt: '2026-07-23T21:13:03.370Z',
      via: 'chat.received',
      receivedAt: ctx.receivedAt,
      xchat: {
        conversationId: `${OTHER_USER}:${BOT.id}`,
        encodedEvent: 'CwABAAAAEzIwODA0MDA4MjUyMjcxMDAxNjALAAIA…(truncated)',
        conversationKeyVersion: '1768236281331',
        keyChangeEvent: 'CwABAAAAEzIwMTA3NTQ4MTkxMTY0NDk5MDULAAIA…(truncated)',
        signature: {
          publicKeyVersion: '1765382634817',
          signature: expect.stringMatching(/^6IK9SZ/),
          signatureVersion: '7',
          signingPublicKey: expect.stringMatching(/^MFkw/),
        },
      },
    });
  });

  it("X's chat.sent sample: the bot's own message, to the other participant of the conversation (an echo, matched like DMs)", () => {
    const dm = onlyDm(sample('chat.sent'));
    expect(dm).toMatchObject({ xId: '8e75466b-56ec-4e88-bddf-b18f7cc6030e', sender: { xUserId: BOT.id, username: BOT.username }, recipientXUserId: OTHER_USER, via: 'chat.sent' });
  });

  it.each([
    ['a group conversation: no support ticket', { conversation_id: 'g1234567890123456789' }, 'unsupported'],
    ["a conversation the bot is not in (another account's subscription)", { conversation_id: '2222222222222222222:4444' }, 'other_account'],
    ['no encoded_event', { encoded_event: '' }, 'malformed'],
    ['an id that is not a UUID', { id: '../../etc' }, 'malformed'],
    ['a numeric sender_id (JSON.parse rounded it)', { sender_id: Number(OTHER_USER) }, 'malformed'],
    ['a conversation id of another shape', { conversation_id: '2222:x' }, 'malformed'],
    ['a sender who is neither the bot nor the other participant', { sender_id: '3333' }, 'malformed'],
  ])('%s is acknowledged as %s', (_label, change, reason) => {
    const body = sample('chat.received');
    Object.assign(body.data.payload, change);
    expect(normaliseWebhookBody(body, ctx)).toEqual({ events: [], ignored: { [reason]: 1 } });
  });
});

describe("ingest's XChat intake", () => {
  const now = () => new Date('2026-08-12T18:00:05.000Z');

  it('without XChat set up: the message stays encrypted (not_set_up), counted, and the channel is degraded once', async () => {
    const channel = memoryChannelHealthStore('acme');
    const seen: string[] = [];
    const metrics = { opened: () => seen.push('opened'), unreadable: (reason: string) => seen.push(reason) };
    const intake = xchatIntake({ opener: undefined, channel, now, metrics });
    const logs = captureLogs();
    let first: InboundDm, second: InboundDm;
    try {
      first = (await intake(onlyDm(sample('chat.received')), false)) as InboundDm;
      second = (await intake(onlyDm(sample('chat.sent')), false)) as InboundDm;
    } finally {
      logs.stop();
    }
    expect(first.xchat?.unreadable).toBe('not_set_up');
    expect(second.xchat?.unreadable).toBe('not_set_up');
    expect(first.text).toBe('');
    expect(seen).toEqual(['not_set_up', 'not_set_up']);
    expect(channel.changes.map((c) => [c.status, c.reason])).toEqual([['degraded', 'xchat_unreadable']]);
    // The message says so, and invents no text.
    const message = messageFromItem({ ...first, sender: { xUserId: OTHER_USER, username: 'OtherUser', name: 'OtherUser' } }, 'dm-1-1', BOT.id);
    expect(message).toMatchObject({ text: '', transport: 'xchat', encrypted: true, notice: XCHAT_NOTICE.not_set_up });
  });

  it('a message already stored (a redelivery) and items that are not XChat are passed through without opening anything', async () => {
    let built = 0;
    const intake = xchatIntake({ opener: async () => ((built += 1), { open: () => Promise.reject(new Error('not called')) }), now });
    const dm = onlyDm(sample('chat.received'));
    expect(await intake(dm, true)).toBe(dm);
    const plain = inboundEventSchema.parse(normaliseWebhookBody(JSON.parse(readFileSync(`${FIXTURES}xaa-doc-dm.received.json`, 'utf8')), ctx).events[0]);
    expect(await intake(plain, false)).toBe(plain);
    expect(built).toBe(0);
  });

  it('keys that cannot be unlocked keep the message encrypted (keys_unavailable); the next message tries to unlock again', async () => {
    let attempts = 0;
    const opener = async (): Promise<XChatOpener> => {
      attempts += 1;
      if (attempts === 1) throw new Error('Juicebox recovery failed: reason=Transient');
      return { open: async () => ({ ok: true, text: 'hello', links: [] }) };
    };
    const channel = memoryChannelHealthStore('acme');
    const seen: string[] = [];
    const metrics = { opened: () => seen.push('opened'), unreadable: (reason: string) => seen.push(reason) };
    const intake = xchatIntake({ opener, channel, now, metrics });
    const logs = captureLogs();
    try {
      const first = (await intake(onlyDm(sample('chat.received')), false)) as InboundDm;
      expect(first.xchat?.unreadable).toBe('keys_unavailable');
      const second = (await intake(onlyDm(sample('chat.received')), false)) as InboundDm;
      expect(second.text).toBe('hello');
      expect(second.xchat?.unreadable).toBeUndefined();
    } finally {
      logs.stop();
    }
    expect(attempts).toBe(2);
    expect(seen).toEqual(['keys_unavailable', 'opened']);
    // The message that opened arrived before the condition was found (same receivedAt): it does not clear it.
    expect(channel.changes.map((c) => c.status)).toEqual(['degraded']);
  });

  it('X failing a look-up while opening is thrown: SQS redelivers the item, nothing is stored encrypted for it', async () => {
    const intake = xchatIntake({ opener: async () => ({ open: () => Promise.reject(new Error('X answered 503')) }), now });
    await expect(intake(onlyDm(sample('chat.received')), false)).rejects.toThrow('503');
  });
});
