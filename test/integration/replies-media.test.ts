// A reply with an image, end to end on the worker's side: the stored reply's attachment fetched from a loopback image
// server, uploaded to the fake X (media upload v2 behind its OAuth 1.0a check) with its alt text, posted once with the
// media id; a post lost after the upload is retried with the recorded media id, never a second upload.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { postReply, type PostReplyDeps } from '../../shared/replies/post-reply';
import { pendingMedia, uploadAttachments, type ReplyAttachmentDeps } from '../../shared/replies/reply-attachments';
import { ingestItem } from '../../shared/tickets/ingest';
import type { StoredReply } from '../../shared/tickets/ticket-store';
import { createXReplyPoster } from '../../shared/x/x-client';
import type { CompletePost } from '../../shared/x/inbound-event';
import { FakeXMediaUpload } from '../support/fake-x-media-upload';
import { FakeXServer } from '../support/fake-x-server';
import { memoryTicketStore, type MemoryTicketStore } from '../support/memory-ticket-store';
import { BOT as BOT_USER } from '../support/x-payloads';

const BOT = { xUserId: BOT_USER.id, username: BOT_USER.username };
const JANE = { xUserId: '1357924680', username: 'jane_doe_dev', name: 'Jane Doe' };
const CREDENTIALS = {
  consumerKey: 'test-consumer-key',
  consumerSecret: 'test-consumer-secret',
  accessToken: `${BOT.xUserId}-test-access-token`,
  accessTokenSecret: 'test-access-token-secret',
};
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(1024, 9)]);
const MENTION = '1990000000000000001';
const MP4 = Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypmp42'), Buffer.alloc(4096, 3)]);

let x: FakeXServer;
let media: FakeXMediaUpload;
let images: http.Server;
let imageOrigin: string;
let imageFetches = 0;
let store: MemoryTicketStore;
let clock: number;
let deps: PostReplyDeps;

beforeAll(async () => {
  images = http.createServer((req, res) => {
    imageFetches += 1;
    if (req.url === '/serial.png') res.writeHead(200, { 'content-type': 'image/png' }).end(PNG);
    else if (req.url === '/howto.mp4') res.writeHead(200, { 'content-type': 'video/mp4' }).end(MP4);
    else res.writeHead(404).end();
  });
  await new Promise<void>((ready) => images.listen(0, '127.0.0.1', ready));
  imageOrigin = `http://127.0.0.1:${(images.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((done) => images.close(() => done())));

beforeEach(async () => {
  await x?.stop();
  media = new FakeXMediaUpload();
  x = new FakeXServer({ credentials: CREDENTIALS, extraRoutes: media.routes });
  const { url } = await x.start();
  store = memoryTicketStore();
  clock = Date.now();
  const now = () => new Date(clock);
  const mediaDeps: ReplyAttachmentDeps = {
    baseUrl: url,
    credentials: { apiKey: CREDENTIALS.consumerKey, apiSecret: CREDENTIALS.consumerSecret, accessToken: CREDENTIALS.accessToken, accessTokenSecret: CREDENTIALS.accessTokenSecret },
    allowLoopback: true,
  };
  deps = {
    store,
    x: createXReplyPoster({ ...mediaDeps.credentials, botUserId: BOT.xUserId, apiBaseUrl: url, timeoutMs: 2_000 }),
    bot: BOT,
    now,
    inFlightGraceMs: 60_000,
    media: {
      upload: (attachments, channel) => uploadAttachments(attachments, channel, mediaDeps),
      pending: (ids) => pendingMedia(ids, mediaDeps),
    },
  };
  const mention: CompletePost = {
    kind: 'post',
    format: 'xaa',
    xId: MENTION,
    author: JANE,
    text: '@AcmeSupport where is the serial number?',
    createdAt: new Date(clock).toISOString(),
    mentionsBot: true,
    via: 'post.mention.create',
    receivedAt: new Date(clock).toISOString(),
    links: [],
    media: [],
  };
  await ingestItem(mention, { store, brand: 'acme', botUserId: BOT.xUserId, botUsername: BOT.username, windows: { mentionMergeHours: 24, reopenHours: 168 }, now });
});
afterAll(() => x?.stop());

async function queueImageReply(id: string): Promise<void> {
  const [ticket] = (await store.listTickets({ limit: 10 })).tickets;
  const at = new Date(clock).toISOString();
  const stored: StoredReply = {
    reply: { id, ticketId: ticket!.id, status: 'queued', text: 'It is under the stand, here:', createdAt: at, updatedAt: at },
    target: { kind: 'post', inReplyToXId: MENTION },
    requestFingerprint: 'f',
    attempts: 0,
    attachments: [{ url: `${imageOrigin}/serial.png`, altText: 'The serial number label under the stand.' }],
  };
  expect(await store.createReply(stored)).toBe('ok');
}

const sent = (method: string, path: string | RegExp) =>
  x.requests.filter((r) => r.method === method && (typeof path === 'string' ? r.path === path : path.test(r.path)));

describe('a reply with an image', () => {
  it('is uploaded with its alt text and posted once with the media id', async () => {
    await queueImageReply('rp_image1');
    const outcome = await postReply('rp_image1', deps);
    expect(outcome).toMatchObject({ outcome: 'posted' });
    const [session] = [...media.sessions.values()];
    expect(session).toMatchObject({ mediaType: 'image/png', category: 'tweet_image', finalized: true, altText: 'The serial number label under the stand.' });
    const posts = sent('POST', '/2/tweets');
    expect(posts).toHaveLength(1);
    expect(posts[0]!.body).toMatchObject({ reply: { in_reply_to_tweet_id: MENTION }, media: { media_ids: [session!.id] } });
    expect((await store.getReply('rp_image1'))?.mediaIds).toEqual([session!.id]);
    // X requests for one image reply: initialize, append, finalize, metadata, the post.
    expect(x.requests.map((r) => `${r.method} ${r.path.replace(/\d{6,}/, ':id')}`)).toEqual([
      'POST /2/media/upload/initialize',
      'POST /2/media/upload/:id/append',
      'POST /2/media/upload/:id/finalize',
      'POST /2/media/metadata',
      'POST /2/tweets',
    ]);
  });

  it('after a post lost once the media was uploaded, is posted with the recorded media id and not uploaded again', async () => {
    await queueImageReply('rp_image2');
    const fetchesBefore = imageFetches;
    x.failNext(1, { reset: true }, { method: 'POST', path: '/2/tweets' });
    const first = await postReply('rp_image2', deps);
    expect(first).toMatchObject({ outcome: 'retry' });
    const recorded = await store.getReply('rp_image2');
    expect(recorded?.reply.status).toBe('posting');
    expect(recorded?.mediaIds).toHaveLength(1);

    clock += 61_000;
    const second = await postReply('rp_image2', deps);
    expect(second).toMatchObject({ outcome: 'posted' });
    expect(sent('POST', '/2/media/upload/initialize')).toHaveLength(1);
    expect(imageFetches - fetchesBefore).toBe(1);
    const posts = sent('POST', '/2/tweets');
    expect(posts).toHaveLength(2);
    expect(posts[1]!.body).toMatchObject({ media: { media_ids: recorded!.mediaIds } });
    expect(x.posts).toHaveLength(1);
  });

  it('with a video X still processes, waits in the queue and posts once STATUS says it is ready', async () => {
    await queueImageReply('rp_video1');
    const stored = (await store.getReply('rp_video1'))!;
    await store.updateReply({ ...stored, attachments: [{ url: `${imageOrigin}/howto.mp4` }] }, { status: 'queued', attempts: 0 });
    const first = await postReply('rp_video1', deps);
    expect(first).toMatchObject({ outcome: 'retry', afterSeconds: 1 });
    const waiting = await store.getReply('rp_video1');
    expect(waiting).toMatchObject({ reply: { status: 'queued' }, mediaProcessing: true });
    expect(sent('POST', '/2/tweets')).toHaveLength(0);

    clock += 1_000;
    expect(await postReply('rp_video1', deps)).toMatchObject({ outcome: 'posted' });
    expect(sent('GET', '/2/media/upload')).toHaveLength(1);
    expect(sent('POST', '/2/media/upload/initialize')).toHaveLength(1);
    expect(sent('POST', '/2/tweets')[0]!.body).toMatchObject({ media: { media_ids: waiting!.mediaIds } });
    expect([...media.sessions.values()][0]).toMatchObject({ category: 'tweet_video' });
  });

  it('is refused for good, with nothing posted, when its URL is not allowed', async () => {
    await queueImageReply('rp_image3');
    const stored = (await store.getReply('rp_image3'))!;
    await store.updateReply({ ...stored, attachments: [{ url: 'https://169.254.169.254/latest/meta-data/' }] }, { status: 'queued', attempts: 0 });
    expect(await postReply('rp_image3', deps)).toMatchObject({ outcome: 'failed', code: 'attachment_not_allowed' });
    expect(x.requests).toHaveLength(0);
  });
});
