import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allowedUrl, fetchReplyMedia, ReplyMediaError, sniff } from '../../shared/replies/reply-media';

const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(64, 1)]);

async function refusal(run: () => unknown): Promise<string> {
  try {
    await run();
  } catch (error) {
    if (error instanceof ReplyMediaError) return error.code;
    throw error;
  }
  throw new Error('expected a ReplyMediaError');
}

describe('the SSRF guard on attachment URLs', () => {
  it.each([
    ['http://example.com/a.png', 'plain http'],
    ['https://user:pw@example.com/a.png', 'credentials in the URL'],
    ['https://127.0.0.1/a.png', 'loopback'],
    ['https://[::1]/a.png', 'IPv6 loopback'],
    ['https://10.0.0.5/a.png', 'a private network'],
    ['https://169.254.169.254/latest/meta-data/', 'the instance metadata service'],
    ['https://[::ffff:169.254.169.254]/', 'the metadata service as IPv4-mapped IPv6'],
    ['https://192.168.1.1/a.png', 'a home network'],
    ['not a url', 'no URL'],
  ])('refuses %s (%s)', async (url) => {
    expect(await refusal(() => allowedUrl(url, false))).toBe('attachment_not_allowed');
  });

  it('allows a public https URL', () => {
    expect(allowedUrl('https://cdn.example.com/a.png', false).href).toBe('https://cdn.example.com/a.png');
  });

  it('allows http on loopback only when loopback is allowed, and still refuses other private addresses then', async () => {
    expect(allowedUrl('http://127.0.0.1:8080/a.png', true).port).toBe('8080');
    expect(await refusal(() => allowedUrl('https://10.0.0.5/a.png', true))).toBe('attachment_not_allowed');
    expect(await refusal(() => allowedUrl('http://example.com/a.png', true))).toBe('attachment_not_allowed');
  });

  it('refuses a name that resolves to loopback, after DNS', async () => {
    expect(await refusal(() => fetchReplyMedia('https://localhost:1/a.png'))).toBe('attachment_not_allowed');
  });
});

describe('fetching an attachment', () => {
  let server: http.Server;
  let origin: string;
  const routes = new Map<string, (res: http.ServerResponse) => void>();
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const route = routes.get(req.url ?? '');
      if (route) route(res);
      else res.writeHead(404).end();
    });
    await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((done) => server.close(() => done())));

  it('refuses the loopback server unless loopback is allowed', async () => {
    routes.set('/a.png', (res) => res.writeHead(200, { 'content-type': 'image/png' }).end(PNG));
    expect(await refusal(() => fetchReplyMedia(`${origin}/a.png`))).toBe('attachment_not_allowed');
    const file = await fetchReplyMedia(`${origin}/a.png`, { allowLoopback: true });
    expect(file).toMatchObject({ mediaType: 'image/png', category: 'tweet_image' });
    expect(file.body.equals(PNG)).toBe(true);
  });

  it('sniffs the type from the bytes, not from the Content-Type', async () => {
    routes.set('/lie.png', (res) => res.writeHead(200, { 'content-type': 'image/png' }).end('<html>not a picture</html>'));
    expect(await refusal(() => fetchReplyMedia(`${origin}/lie.png`, { allowLoopback: true }))).toBe('attachment_unsupported_type');
    expect(sniff(Buffer.from('GIF89a....'))).toBe('image/gif');
  });

  it('cuts off a file over the limit even when its length is not declared', async () => {
    routes.set('/big.png', (res) => {
      res.writeHead(200, { 'content-type': 'image/png' });
      res.write(PNG);
      res.end(Buffer.alloc(4096));
    });
    const limits = { maxBytes: { 'image/jpeg': 100, 'image/png': 100, 'image/webp': 100, 'image/gif': 100, 'video/mp4': 1000 }, idleTimeoutMs: 1000, totalTimeoutMs: 2000, maxRedirects: 1 };
    expect(await refusal(() => fetchReplyMedia(`${origin}/big.png`, { allowLoopback: true, limits }))).toBe('attachment_too_large');
  });

  it('re-checks a redirect: to a private address it is refused', async () => {
    routes.set('/hop', (res) => res.writeHead(302, { location: 'https://169.254.169.254/latest/meta-data/' }).end());
    expect(await refusal(() => fetchReplyMedia(`${origin}/hop`, { allowLoopback: true }))).toBe('attachment_not_allowed');
  });

  it('gives up on a host that does not answer in time', async () => {
    routes.set('/slow', () => undefined);
    const limits = { maxBytes: { 'image/jpeg': 100, 'image/png': 100, 'image/webp': 100, 'image/gif': 100, 'video/mp4': 100 }, idleTimeoutMs: 200, totalTimeoutMs: 500, maxRedirects: 1 };
    expect(await refusal(() => fetchReplyMedia(`${origin}/slow`, { allowLoopback: true, limits }))).toBe('attachment_fetch_failed');
  });
});
