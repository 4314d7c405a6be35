// DM media end to end on loopback: a fake of X's DM media host that checks OAuth 1.0a signatures, the S3 emulator
// (fauxqs, the run's shared SQS emulator, which speaks S3 on the same port), and the real use case and adapters.
// What a user would see: the photo a customer sent is in the brand's bucket, a link opens it, the API hands out a
// fresh link, and a deleted DM leaves nothing behind; a file that is too big, of the wrong type or from anywhere but
// X's media host is refused with a reason, never fetched with the account's signature.
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { createHelpdeskApiHandler } from '../../functions/helpdesk-api/handler';
import { loadFunctionHandlers, withDevDefaults } from '../../infra/local/bridge';
import { LOCAL_ATTACHMENTS_PATH } from '../../infra/local/file-attachment-store';
import { ensureResources } from '../../infra/local/services';
import { createAwsClients } from '../../shared/aws/clients';
import { dynamoEventReader } from '../../shared/aws/dynamo-event-reader';
import { dynamoTicketStore } from '../../shared/aws/dynamo-ticket-store';
import { parseConfig } from '../../shared/config';
import { notifyTicketChanges, type NotifyDeps } from '../../shared/helpdesk/notify';
import type { TicketEvent } from '../../shared/helpdesk/events';
import { ingestItem, type IngestDeps } from '../../shared/tickets/ingest';
import type { TicketStore } from '../../shared/tickets/ticket-store';
import { completeFromBody } from '../../shared/x/complete-items';
import type { InboundDelete } from '../../shared/x/inbound-event';
import { startTestBridge, type TestBridge } from '../support/test-bridge';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { dmMediaKey } from '../../shared/attachments/attachment-store';
import {
  DM_MEDIA_LIMITS,
  isPrivateAddress,
  keepDmMedia,
  loopbackDmMediaSource,
  X_DM_MEDIA_SOURCE,
  type KeepDmMediaDeps,
} from '../../shared/attachments/keep-dm-media';
import type { AttachmentStore } from '../../shared/attachments/attachment-store';
import { s3AttachmentStore, s3Client } from '../../shared/aws/s3-attachment-store';
import { RetryableError } from '../../shared/errors';
import type { InboundDm, InboundMedia } from '../../shared/x/inbound-event';
import { startFakeXMediaServer, type FakeXMediaServer } from '../support/fake-x-media-server';
import { LOCAL_AWS } from '../../infra/local/services';

const CREDENTIALS = {
  apiKey: 'media-test-consumer-key',
  apiSecret: 'media-test-consumer-secret',
  accessToken: '1602999888777666555-media-test-token',
  accessTokenSecret: 'media-test-token-secret',
};

// Real files' first bytes, padded: the use case checks them against the stated type.
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]), Buffer.from('JFIF photo of an order number 12345')]);
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('png screenshot')]);

let media: FakeXMediaServer;
let admin: S3Client;
let bucket: string;
let store: AttachmentStore;
let deps: KeepDmMediaDeps;
let dmSeq = 1_900_000_000_000_000_000n;

function dmWith(files: Partial<InboundMedia>[]): InboundDm {
  dmSeq += 1n;
  const xId = String(dmSeq);
  return {
    kind: 'dm',
    format: 'xaa',
    xId,
    sender: { xUserId: '2244994945', username: 'customer', name: 'A Customer' },
    recipientXUserId: '1602999888777666555',
    text: 'here is my receipt',
    links: [],
    media: files.map((file, i) => ({
      mediaKey: `3_${xId.slice(0, 18)}${i}`,
      type: 'photo',
      requiresAuth: true,
      ...file,
    })),
    createdAt: '2026-11-02T10:00:00.000Z',
    via: 'dm.received',
    receivedAt: '2026-11-02T10:00:01.000Z',
  };
}

async function objectBytes(key: string): Promise<Buffer | undefined> {
  try {
    const got = await admin.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return Buffer.from(await got.Body!.transformToByteArray());
  } catch (error) {
    if ((error as Error).name === 'NoSuchKey') return undefined;
    throw error;
  }
}

beforeAll(async () => {
  const endpoint = inject('sqsEndpoint');
  media = await startFakeXMediaServer({
    consumerKey: CREDENTIALS.apiKey,
    consumerSecret: CREDENTIALS.apiSecret,
    accessToken: CREDENTIALS.accessToken,
    accessTokenSecret: CREDENTIALS.accessTokenSecret,
  });
  admin = new S3Client({ endpoint, ...LOCAL_AWS, forcePathStyle: true });
  bucket = `attachments-${randomUUID().slice(0, 8)}`;
  await admin.send(new CreateBucketCommand({ Bucket: bucket }));
  store = s3AttachmentStore(s3Client(endpoint), { bucket });
  deps = {
    store,
    credentials: CREDENTIALS,
    source: loopbackDmMediaSource(media.origin),
  };
});

afterAll(async () => {
  await media?.stop();
  admin?.destroy();
});

describe('a DM photo', () => {
  it('is fetched with the account\'s OAuth 1.0a signature, stored under its stable key, linked and removed', async () => {
    const dm = dmWith([{}]);
    const url = media.urlFor(dm.xId, '1900000000000000001', 'receipt.jpg');
    dm.media[0]!.url = url;
    media.serve(url, { body: JPEG, contentType: 'image/jpeg' });

    const kept = await keepDmMedia(dm, deps);

    const key = dmMediaKey(dm.xId, dm.media[0]!.mediaKey);
    expect(kept.media[0]).toMatchObject({ stored: { key, contentType: 'image/jpeg', bytes: JPEG.length } });
    expect(kept.media[0]!.error).toBeUndefined();
    expect(media.requests.filter((r) => r.path === new URL(url).pathname)).toEqual([
      expect.objectContaining({ method: 'GET', signed: true }),
    ]);
    expect(await objectBytes(key)).toEqual(JPEG);

    // The link the helpdesk gets opens the file without any credentials of its own.
    const link = await store.link(key);
    expect(new URL(link.url).searchParams.get('X-Amz-Expires')).toBe('3600');
    expect(new URL(link.url).searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    expect(Date.parse(link.expiresAt)).toBeGreaterThan(Date.now());
    const opened = await fetch(link.url);
    expect(opened.status).toBe(200);
    expect(Buffer.from(await opened.arrayBuffer())).toEqual(JPEG);

    // A redaction deletes it; a second redaction (a retried delete event) is not an error.
    await store.remove([key]);
    expect(await objectBytes(key)).toBeUndefined();
    await expect(store.remove([key])).resolves.toBeUndefined();
  });

  it('redelivered, overwrites the same object and never makes a second', async () => {
    const dm = dmWith([{}]);
    const url = media.urlFor(dm.xId, '1900000000000000002', 'screen.png');
    dm.media[0]!.url = url;
    media.serve(url, { body: PNG, contentType: 'image/png' });
    const first = await keepDmMedia(dm, deps);
    const again = await keepDmMedia(structuredClone(dm), deps);
    expect(again.media[0]!.stored).toEqual(first.media[0]!.stored);
    const listed = await admin.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `dm-media/${dm.xId}/` }));
    expect((listed.Contents ?? []).map((o) => o.Key)).toEqual([first.media[0]!.stored!.key]);
  });

  it('leaves posts, media that need no credentials and media already kept as they are', async () => {
    const dm = dmWith([{ requiresAuth: false, url: 'https://pbs.twimg.com/media/x.jpg' }, { stored: { key: 'k', contentType: 'image/png', bytes: 1 } }]);
    const before = media.requests.length;
    expect(await keepDmMedia(dm, deps)).toEqual(dm);
    expect(media.requests.length).toBe(before);
  });
});

describe('what the fake media host refuses', () => {
  it('answers 401 without a valid signature and 404 for an unknown file, as X does', async () => {
    const url = media.urlFor('1900000000000000100', '1900000000000000101', 'a.jpg');
    media.serve(url, { body: JPEG, contentType: 'image/jpeg' });
    const unsigned = await fetch(url);
    expect(unsigned.status).toBe(401);
    expect(await unsigned.json()).toEqual({ errors: [{ code: 32, message: 'Could not authenticate you.' }] });

    const wrongSecret = await keepDmMedia(dmWith([{ url }]), { ...deps, credentials: { ...CREDENTIALS, accessTokenSecret: 'not-the-secret' } });
    expect(wrongSecret.media[0]).toMatchObject({ error: { code: 'unauthorized' } });
    expect(wrongSecret.media[0]!.stored).toBeUndefined();

    const missing = await keepDmMedia(dmWith([{ url: media.urlFor('1900000000000000100', '1', 'gone.jpg') }]), deps);
    expect(missing.media[0]).toMatchObject({ error: { code: 'not_found' } });
  });
});

describe('bounds', () => {
  it('refuses a file over the size limit, whether its length is stated or not, and stores nothing', async () => {
    const limits = { ...DM_MEDIA_LIMITS, maxBytes: { ...DM_MEDIA_LIMITS.maxBytes, 'image/jpeg': 1024 } };
    const stated = dmWith([{}]);
    stated.media[0]!.url = media.urlFor(stated.xId, '1', 'big.jpg');
    media.serve(stated.media[0]!.url, { body: Buffer.concat([JPEG, Buffer.alloc(2048)]), contentType: 'image/jpeg' });
    const endless = dmWith([{}]);
    endless.media[0]!.url = media.urlFor(endless.xId, '1', 'endless.jpg');
    media.serve(endless.media[0]!.url, { endless: true, contentType: 'image/jpeg', chunk: Buffer.concat([JPEG, Buffer.alloc(500)]) });

    for (const dm of [stated, endless]) {
      const kept = await keepDmMedia(dm, { ...deps, limits });
      expect(kept.media[0]).toMatchObject({ error: { code: 'too_large', message: expect.stringContaining('1024') } });
      expect(await objectBytes(dmMediaKey(dm.xId, dm.media[0]!.mediaKey))).toBeUndefined();
    }
  });

  it('refuses a type outside the allowlist, and a file whose bytes are not the type it claims', async () => {
    const html = dmWith([{}]);
    html.media[0]!.url = media.urlFor(html.xId, '1', 'page.html');
    media.serve(html.media[0]!.url, { body: Buffer.from('<script>alert(1)</script>'), contentType: 'text/html' });
    const disguised = dmWith([{}]);
    disguised.media[0]!.url = media.urlFor(disguised.xId, '1', 'fake.png');
    media.serve(disguised.media[0]!.url, { body: Buffer.from('<svg onload=alert(1)>'), contentType: 'image/png' });
    for (const dm of [html, disguised]) {
      const kept = await keepDmMedia(dm, deps);
      expect(kept.media[0]).toMatchObject({ error: { code: 'unsupported_type' } });
      expect(await objectBytes(dmMediaKey(dm.xId, dm.media[0]!.mediaKey))).toBeUndefined();
    }
  });

  it('never sends the account\'s signature to another host, or follows a redirect off X\'s media host', async () => {
    const other = await startFakeXMediaServer({
      consumerKey: CREDENTIALS.apiKey,
      consumerSecret: CREDENTIALS.apiSecret,
      accessToken: CREDENTIALS.accessToken,
      accessTokenSecret: CREDENTIALS.accessTokenSecret,
    });
    try {
      const elsewhere = other.urlFor('1900000000000000200', '1', 'a.jpg');
      other.serve(elsewhere, { body: JPEG, contentType: 'image/jpeg' });
      const direct = await keepDmMedia(dmWith([{ url: elsewhere }]), deps);
      expect(direct.media[0]).toMatchObject({ error: { code: 'not_allowed' } });

      const hop = media.urlFor('1900000000000000200', '2', 'hop.jpg');
      media.serve(hop, { status: 302, headers: { location: elsewhere } });
      const redirected = await keepDmMedia(dmWith([{ url: hop }]), deps);
      expect(redirected.media[0]).toMatchObject({ error: { code: 'not_allowed' } });
      expect(other.requests).toEqual([]);

      // A redirect within X's media host is followed, signed again for its own URL.
      const moved = media.urlFor('1900000000000000200', '3', 'moved.jpg');
      const target = media.urlFor('1900000000000000200', '3', 'target.jpg');
      media.serve(moved, { status: 301, headers: { location: new URL(target).pathname } });
      media.serve(target, { body: JPEG, contentType: 'image/jpeg' });
      const followed = await keepDmMedia(dmWith([{ url: moved }]), deps);
      expect(followed.media[0]!.stored).toMatchObject({ bytes: JPEG.length });

      // A path outside X's DM media path is refused too, on the right host.
      const offPath = await keepDmMedia(dmWith([{ url: `${media.origin}/1.1/account/verify_credentials.json` }]), deps);
      expect(offPath.media[0]).toMatchObject({ error: { code: 'not_allowed' } });
    } finally {
      await other.stop();
    }
  });

  it('in production, takes only https://ton.twitter.com and no private or loopback address', async () => {
    const url = media.urlFor('1900000000000000300', '1', 'a.jpg');
    media.serve(url, { body: JPEG, contentType: 'image/jpeg' });
    const before = media.requests.length;
    const kept = await keepDmMedia(dmWith([{ url }]), { ...deps, source: X_DM_MEDIA_SOURCE });
    expect(kept.media[0]).toMatchObject({ error: { code: 'not_allowed' } });
    // An allowed origin that is a private address literal is refused before connecting.
    const literal = await keepDmMedia(dmWith([{ url }]), { ...deps, source: { ...loopbackDmMediaSource(media.origin), allowPrivateAddresses: false } });
    expect(literal.media[0]).toMatchObject({ error: { code: 'not_allowed' } });
    expect(media.requests.length).toBe(before);
    expect(X_DM_MEDIA_SOURCE.origins).toEqual(['https://ton.twitter.com']);
    for (const address of ['127.0.0.1', '10.1.2.3', '169.254.169.254', '172.20.0.1', '192.168.1.1', '::1', 'fd00::1', 'fe80::1', '::ffff:127.0.0.1']) {
      expect(isPrivateAddress(address), address).toBe(true);
    }
    for (const address of ['104.244.42.1', '2606:1f80::1']) expect(isPrivateAddress(address), address).toBe(false);
  });

  it('retries a transient failure through SQS while receives remain, then records it and lets the DM through', async () => {
    const url = media.urlFor('1900000000000000400', '1', 'busy.jpg');
    media.serve(url, { status: 503, body: '{"title":"Service Unavailable"}' });
    const dm = dmWith([{ url }]);
    await expect(keepDmMedia(dm, deps, { receiveCount: 1 })).rejects.toBeInstanceOf(RetryableError);
    const last = await keepDmMedia(dm, deps, { receiveCount: 3 });
    expect(last.media[0]).toMatchObject({ error: { code: 'fetch_failed' } });
  });

  it('without the account\'s access token, records why instead of fetching', async () => {
    const url = media.urlFor('1900000000000000500', '1', 'a.jpg');
    const before = media.requests.length;
    const kept = await keepDmMedia(dmWith([{ url }]), { ...deps, credentials: { apiKey: 'k', apiSecret: 's' } });
    expect(kept.media[0]).toMatchObject({ error: { code: 'no_credentials' } });
    expect(media.requests.length).toBe(before);
  });
});

// The pipeline around the copy: ingest stores the DM with its copy, notify's event links to it, the API hands out a
// fresh link, and a delete on X removes the copy before the message is redacted.
describe('a kept DM photo through the bridge, on S3', () => {
  let tickets: TicketStore;
  let ingestDeps: IngestDeps;
  let api: ReturnType<typeof createHelpdeskApiHandler>;
  let reader: NotifyDeps['reader'];
  let token: string;
  const dynamodb = () => new DynamoDBClient({ endpoint: inject('dynamodbEndpoint'), ...LOCAL_AWS });

  beforeAll(async () => {
    const prefix = `att-${randomUUID().slice(0, 8)}`;
    const adminDb = dynamodb();
    const adminSqs = new SQSClient({ endpoint: inject('sqsEndpoint'), ...LOCAL_AWS });
    const resources = await ensureResources({ dynamodb: adminDb, sqs: adminSqs }, { tableName: `${prefix}-tickets`, queuePrefix: prefix });
    adminDb.destroy();
    adminSqs.destroy();
    const { env } = withDevDefaults({
      TABLE_NAME: resources.tableName,
      REPLY_QUEUE_URL: resources.queues.reply.url,
      DYNAMODB_ENDPOINT: inject('dynamodbEndpoint'),
      SQS_ENDPOINT: inject('sqsEndpoint'),
    });
    const config = parseConfig(env);
    token = config.helpdesk.apiToken;
    const clients = createAwsClients(config);
    tickets = dynamoTicketStore(clients.dynamodb, resources.tableName);
    reader = dynamoEventReader(clients.dynamodb, resources.tableName);
    ingestDeps = {
      store: tickets,
      brand: config.brand,
      botUserId: config.x.botUserId,
      botUsername: config.x.botUsername,
      windows: config.windows,
      now: () => new Date(),
      media: store,
    };
    api = createHelpdeskApiHandler(config, clients, { attachments: store });
  });

  const get = (path: string, bearer: string | null = token) =>
    api({
      version: '2.0',
      routeKey: 'GET /tickets/{ticketId}/attachments/{attachmentId}',
      rawPath: path,
      rawQueryString: '',
      headers: bearer === null ? {} : { authorization: `Bearer ${bearer}` },
      requestContext: { http: { method: 'GET', path } },
      isBase64Encoded: false,
    } as unknown as APIGatewayProxyEventV2);

  it('is linked in the ticket event, re-linked by the API, and removed with the message when X deletes the DM', async () => {
    const dm = dmWith([{}]);
    const url = media.urlFor(dm.xId, '1900000000000000600', 'order.jpg');
    dm.media[0]!.url = url;
    media.serve(url, { body: JPEG, contentType: 'image/jpeg' });

    const kept = await keepDmMedia(dm, deps);
    const created = await ingestItem(completeFromBody(kept), ingestDeps);
    expect(created.outcome).toBe('created');
    const ticketId = (created as { ticketId: string }).ticketId;
    const key = kept.media[0]!.stored!.key;

    // The event the helpdesk receives links to the copy, with the link's expiry.
    const delivered: TicketEvent[] = [];
    const ticket = (await tickets.getTicket(ticketId))!;
    await notifyTicketChanges([{ recordId: '1', ticket }], {
      reader,
      retryQueue: { send: async () => undefined, delay: async () => undefined },
      deliver: async (event) => (delivered.push(event as TicketEvent), { ok: true, status: 204 }),
      now: () => new Date(),
      attachments: store,
    });
    const message = (delivered[0]!.body.data as { message: { attachments: { id: string; url: string; expiresAt?: string }[] } }).message;
    const attachment = message.attachments[0]!;
    expect(attachment.id).toBe(`att-${dm.media[0]!.mediaKey}`);
    expect(new URL(attachment.url).searchParams.get('X-Amz-Signature')).toBeTruthy();
    expect(JSON.stringify(delivered[0]!.body)).not.toContain(url);
    expect(Date.parse(attachment.expiresAt!) - Date.now()).toBeLessThanOrEqual(3600 * 1000);
    expect(Buffer.from(await (await fetch(attachment.url)).arrayBuffer())).toEqual(JPEG);

    // The API answers with a fresh link, only to the bearer, only for attachments of that ticket.
    const path = `/tickets/${ticketId}/attachments/${attachment.id}`;
    const answer = await get(path);
    expect(answer.statusCode).toBe(302);
    const location = answer.headers!.location as string;
    expect(JSON.parse(answer.body!)).toEqual({ url: location, expiresAt: expect.any(String) });
    expect(Buffer.from(await (await fetch(location)).arrayBuffer())).toEqual(JPEG);
    expect((await get(path, null)).statusCode).toBe(401);
    expect((await get(path, 'wrong-token-wrong-token')).statusCode).toBe(401);
    expect((await get(`/tickets/${ticketId}/attachments/att-3_0`)).statusCode).toBe(404);
    expect((await get(`/tickets/dm-1-1/attachments/${attachment.id}`)).statusCode).toBe(404);

    // X deletes the DM: the copy is gone before the message is redacted, and the API has nothing to link.
    const deletion: InboundDelete = {
      kind: 'delete',
      format: 'xaa',
      xId: dm.xId,
      authorXUserId: dm.sender.xUserId,
      deletedAt: '2026-11-02T11:00:00.000Z',
      via: 'dm.delete',
      receivedAt: '2026-11-02T11:00:01.000Z',
    };
    expect((await ingestItem(deletion, ingestDeps)).outcome).toBe('redacted');
    expect(await objectBytes(key)).toBeUndefined();
    expect((await get(path)).statusCode).toBe(404);
  });
});

describe('the local runner', () => {
  let bridge: TestBridge;

  beforeAll(async () => {
    const { helpdeskApi } = await loadFunctionHandlers(() => undefined);
    bridge = await startTestBridge({ handlers: { helpdeskApi } });
  });
  afterAll(async () => {
    await bridge?.stop();
  });

  it('keeps copies under its data folder and serves the API route\'s links itself, signed and expiring', async () => {
    const dm = dmWith([{}]);
    const url = media.urlFor(dm.xId, '1900000000000000700', 'local.png');
    dm.media[0]!.url = url;
    media.serve(url, { body: PNG, contentType: 'image/png' });
    const kept = await keepDmMedia(dm, { ...deps, store: bridge.attachments });
    const { config } = bridge;
    const localTickets = dynamoTicketStore(bridge.clients.dynamodb, bridge.resources.tableName);
    const created = await ingestItem(completeFromBody(kept), {
      store: localTickets,
      brand: config.brand,
      botUserId: config.x.botUserId,
      botUsername: config.x.botUsername,
      windows: config.windows,
      now: () => new Date(),
      media: bridge.attachments,
    });
    const ticketId = (created as { ticketId: string }).ticketId;

    const answer = await fetch(`${bridge.url}/tickets/${ticketId}/attachments/att-${dm.media[0]!.mediaKey}`, {
      headers: { authorization: `Bearer ${config.helpdesk.apiToken}` },
      redirect: 'manual',
    });
    expect(answer.status).toBe(302);
    const location = answer.headers.get('location')!;
    expect(location.startsWith(`${bridge.url}${LOCAL_ATTACHMENTS_PATH}`)).toBe(true);
    const file = await fetch(location);
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await file.arrayBuffer())).toEqual(PNG);

    // A link with its expiry stretched or its signature changed opens nothing.
    const stretched = new URL(location);
    stretched.searchParams.set('expires', String(Number(stretched.searchParams.get('expires')) + 3600));
    expect((await fetch(stretched)).status).toBe(404);
    const forged = new URL(location);
    forged.searchParams.set('signature', 'A'.repeat(43));
    expect((await fetch(forged)).status).toBe(404);

    // Removed with its message: the link stops working.
    await bridge.attachments.remove([kept.media[0]!.stored!.key]);
    expect((await fetch(location)).status).toBe(404);
  });
});
