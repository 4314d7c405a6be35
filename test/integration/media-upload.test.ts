// X's media upload v2 against the fake X server (its OAuth 1.0a check, with test/support/fake-x-media-upload.ts),
// the file fetched from a loopback image server as a reply's attachment is.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PermanentError } from '../../shared/errors';
import { fetchReplyMedia } from '../../shared/replies/reply-media';
import { mediaStatus, SEGMENT_BYTES, uploadMedia, type MediaUploadDeps } from '../../shared/x/media-upload';
import { FakeXMediaUpload } from '../support/fake-x-media-upload';
import { FakeXServer } from '../support/fake-x-server';
import { BOT } from '../support/x-payloads';

const CREDENTIALS = {
  consumerKey: 'test-consumer-key',
  consumerSecret: 'test-consumer-secret',
  accessToken: `${BOT.id}-test-access-token`,
  accessTokenSecret: 'test-access-token-secret',
};
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(2048, 7)]);
const MP4 = Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypmp42'), Buffer.alloc(SEGMENT_BYTES + 1000, 3)]);

let x: FakeXServer;
let media: FakeXMediaUpload;
let images: http.Server;
let imageOrigin: string;
let deps: MediaUploadDeps;

beforeAll(async () => {
  media = new FakeXMediaUpload({ videoStatusChecks: 2 });
  x = new FakeXServer({ credentials: CREDENTIALS, extraRoutes: media.routes });
  const { url } = await x.start();
  deps = {
    baseUrl: url,
    credentials: {
      apiKey: CREDENTIALS.consumerKey,
      apiSecret: CREDENTIALS.consumerSecret,
      accessToken: CREDENTIALS.accessToken,
      accessTokenSecret: CREDENTIALS.accessTokenSecret,
    },
  };
  images = http.createServer((req, res) => {
    if (req.url === '/serial.png') res.writeHead(200, { 'content-type': 'image/png' }).end(PNG);
    else if (req.url === '/howto.mp4') res.writeHead(200, { 'content-type': 'video/mp4' }).end(MP4);
    else res.writeHead(404).end();
  });
  await new Promise<void>((ready) => images.listen(0, '127.0.0.1', ready));
  imageOrigin = `http://127.0.0.1:${(images.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await x.stop();
  await new Promise<void>((done) => images.close(() => done()));
});

describe("X's media upload v2", () => {
  it('uploads an image in one initialize, one append and one finalize, signed as the account, and sets its alt text', async () => {
    const before = x.requests.length;
    const file = await fetchReplyMedia(`${imageOrigin}/serial.png`, { allowLoopback: true });
    const uploaded = await uploadMedia(file, 'The serial number is under the stand.', deps);
    expect(uploaded.processing).toBeUndefined();
    const session = media.sessions.get(uploaded.mediaId)!;
    expect(session).toMatchObject({ mediaType: 'image/png', category: 'tweet_image', totalBytes: PNG.length, finalized: true, altText: 'The serial number is under the stand.' });
    expect(Buffer.concat(session.segments).equals(PNG)).toBe(true);
    const sent = x.requests.slice(before);
    expect(sent.map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /2/media/upload/initialize',
      `POST /2/media/upload/${uploaded.mediaId}/append`,
      `POST /2/media/upload/${uploaded.mediaId}/finalize`,
      'POST /2/media/metadata',
    ]);
    expect(sent.every((r) => String(r.headers.authorization).startsWith('OAuth '))).toBe(true);
  });

  it('sends a video in 5 MB segments and reports it processing until STATUS says succeeded', async () => {
    const file = await fetchReplyMedia(`${imageOrigin}/howto.mp4`, { allowLoopback: true });
    const uploaded = await uploadMedia(file, undefined, deps);
    expect(uploaded.processing).toEqual({ state: 'pending', checkAfterSecs: 1 });
    expect(media.sessions.get(uploaded.mediaId)!.segments).toHaveLength(2);
    expect((await mediaStatus(uploaded.mediaId, deps)).processing).toEqual({ state: 'in_progress', checkAfterSecs: 1 });
    expect((await mediaStatus(uploaded.mediaId, deps)).processing).toBeUndefined();
  });

  it('is refused without the account\'s signature', async () => {
    const file = await fetchReplyMedia(`${imageOrigin}/serial.png`, { allowLoopback: true });
    const wrong = { ...deps, credentials: { ...deps.credentials, accessTokenSecret: 'not-the-secret' } };
    await expect(uploadMedia(file, undefined, wrong)).rejects.toBeInstanceOf(PermanentError);
  });
});
