// A reply's attachments and X's media ids survive the DynamoDB store (DynamoDB Local): what lets an attempt after a
// crash post with the media already uploaded instead of uploading again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoTicketStore } from '../../shared/aws/dynamo-ticket-store';
import type { StoredReply, TicketStore } from '../../shared/tickets/ticket-store';
import { startTestBridge, type TestBridge } from '../support/test-bridge';

let bridge: TestBridge;
let store: TicketStore;

beforeAll(async () => {
  bridge = await startTestBridge({
    handlers: {},
    log: (message, error) => {
      if (!/is not wired locally/.test(message)) console.error(message, error ?? '');
    },
  });
  store = dynamoTicketStore(bridge.clients.dynamodb, bridge.resources.tableName);
});
afterAll(async () => {
  await bridge?.stop();
});

describe('a reply with attachments in DynamoDB', () => {
  it('keeps its attachments, then the media ids and the processing mark written with the posting attempt', async () => {
    const at = new Date().toISOString();
    const stored: StoredReply = {
      reply: { id: 'rp_media_store_1', ticketId: 'mn-1-1', status: 'queued', text: 'Here:', createdAt: at, updatedAt: at },
      target: { kind: 'post', inReplyToXId: '1990000000000000001' },
      requestFingerprint: 'f',
      attempts: 0,
      attachments: [{ url: 'https://cdn.example.com/a.png', altText: 'The label.' }, { url: 'https://cdn.example.com/b.png' }],
    };
    expect(await store.createReply(stored)).toBe('ok');
    expect(await store.getReply(stored.reply.id)).toEqual(stored);

    const uploading: StoredReply = { ...stored, reply: { ...stored.reply, status: 'posting' }, postingSince: at, attempts: 1, mediaIds: ['1880028106020515840', '1880028106020515841'], mediaProcessing: true };
    expect(await store.updateReply(uploading, { status: 'queued', attempts: 0 })).toBe('ok');
    expect(await store.getReply(stored.reply.id)).toEqual(uploading);

    const ready: StoredReply = { ...uploading, attempts: 2 };
    delete ready.mediaProcessing;
    expect(await store.updateReply(ready, { status: 'posting', attempts: 1 })).toBe('ok');
    expect(await store.getReply(stored.reply.id)).toEqual(ready);
  });
});
