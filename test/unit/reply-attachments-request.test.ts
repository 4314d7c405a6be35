// Attachments at the API: what X or the SSRF guard would refuse is 422 with a stable code naming the field, before
// anything is queued; what passes is recorded on the reply for the worker to upload.
import { beforeEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../../shared/errors';
import { replyRequestSchema, requestReply, type RequestReplyDeps } from '../../shared/replies/request-reply';
import { ingestItem } from '../../shared/tickets/ingest';
import type { CompletePost } from '../../shared/x/inbound-event';
import { memoryTicketStore, type MemoryTicketStore } from '../support/memory-ticket-store';

const BOT = { xUserId: '1602999888777666555', username: 'AcmeSupport' };
const JANE = { xUserId: '1357924680', username: 'jane_doe_dev', name: 'Jane Doe' };
const T0 = Date.parse('2026-11-16T14:00:00.000Z');
const PHOTO = { url: 'https://cdn.example.com/serial.png', altText: 'The label under the stand.' };

let store: MemoryTicketStore;
let deps: RequestReplyDeps;
let queued: string[];
let ticketId: string;

beforeEach(async () => {
  store = memoryTicketStore();
  queued = [];
  const now = () => new Date(T0);
  deps = { store, now, enqueue: async (id) => void queued.push(id), posting: { policy: 'summoned', account: BOT }, media: { allowLoopback: false } };
  const mention: CompletePost = {
    kind: 'post',
    format: 'xaa',
    xId: '1990000000000000001',
    author: JANE,
    text: '@AcmeSupport where is the serial number?',
    createdAt: new Date(T0).toISOString(),
    mentionsBot: true,
    via: 'post.mention.create',
    receivedAt: new Date(T0).toISOString(),
    links: [],
    media: [],
  };
  await ingestItem(mention, { store, brand: 'acme', botUserId: BOT.xUserId, botUsername: BOT.username, windows: { mentionMergeHours: 24, reopenHours: 168 }, now });
  ticketId = (await store.listTickets({ limit: 1 })).tickets[0]!.id;
});

async function refusal(attachments: unknown): Promise<{ field?: string; status: number; code: unknown }> {
  const request = replyRequestSchema.parse({ text: 'Here it is', attachments });
  try {
    await requestReply(ticketId, request, 'k', deps);
  } catch (error) {
    if (error instanceof ValidationError) return { field: error.field, status: error.status, code: error.details?.['code'] };
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('attachments on a reply request', () => {
  it('records up to 4 photos on the queued reply', async () => {
    const request = replyRequestSchema.parse({ text: 'Here it is', attachments: [PHOTO, PHOTO, PHOTO, { url: PHOTO.url }] });
    const reply = await requestReply(ticketId, request, 'k', deps);
    expect(queued).toEqual([reply.id]);
    expect((await store.getReply(reply.id))?.attachments).toEqual([PHOTO, PHOTO, PHOTO, { url: PHOTO.url }]);
  });

  it('refuses a fifth: 422 too_many_attachments', async () => {
    expect(await refusal([PHOTO, PHOTO, PHOTO, PHOTO, PHOTO])).toEqual({ field: 'attachments', status: 422, code: 'too_many_attachments' });
    expect(queued).toEqual([]);
  });

  it('refuses alt text over 1,000 characters: 422 alt_text_too_long', async () => {
    expect(await refusal([PHOTO, { url: PHOTO.url, altText: 'a'.repeat(1001) }])).toEqual({
      field: 'attachments[1].altText',
      status: 422,
      code: 'alt_text_too_long',
    });
  });

  it.each(['http://cdn.example.com/a.png', 'https://169.254.169.254/latest/meta-data/', 'https://10.1.2.3/a.png', 'http://127.0.0.1:9/a.png'])(
    'refuses %s: 422 attachment_not_allowed',
    async (url) => {
      expect(await refusal([{ url }])).toEqual({ field: 'attachments[0].url', status: 422, code: 'attachment_not_allowed' });
      expect(queued).toEqual([]);
    },
  );

  it('takes a loopback URL only when X_REPLY_MEDIA_ALLOW_LOOPBACK allows it', async () => {
    deps.media = { allowLoopback: true };
    const request = replyRequestSchema.parse({ text: 'Here it is', attachments: [{ url: 'http://127.0.0.1:9/a.png' }] });
    await expect(requestReply(ticketId, request, 'k', deps)).resolves.toMatchObject({ status: 'queued' });
  });
});
