// A fake of X's DM media host (ton.twitter.com) on 127.0.0.1: it serves a file at
// `/1.1/ton/data/dm/{dm_id}/{media_id}/{resource_id}` only to a GET signed with OAuth 1.0a (HMAC-SHA1) by the test
// credentials, checked as RFC 5849 §3.4 says, independently of the signing code under test. Answers like X: 401 with
// X's "Could not authenticate you" body without a valid signature, 404 with "Sorry, that page does not exist" for an
// unknown file. Tests script other answers per path (a redirect, a 503, a lying Content-Length) and read what came in.
import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type MediaCredentials = { consumerKey: string; consumerSecret: string; accessToken: string; accessTokenSecret: string };

/** What the fake answers for one path. */
export type MediaFile =
  | { body: Buffer; contentType: string; headers?: Record<string, string> }
  | { status: number; body?: string; headers?: Record<string, string> }
  /** Answers 200 with headers, then sends `body` forever in chunks until the client hangs up (a never-ending file). */
  | { endless: true; contentType: string; chunk: Buffer };

export type MediaRequest = { method: string; path: string; signed: boolean; authorization?: string };

export type FakeXMediaServer = {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  /** The URL X would give for this DM's media: `<origin>/1.1/ton/data/dm/<dmId>/<mediaId>/<name>`. */
  urlFor(dmId: string, mediaId: string, name: string): string;
  /** Sets what a path answers (after the signature check, which always comes first). */
  serve(path: string, file: MediaFile): void;
  requests: MediaRequest[];
  stop(): Promise<void>;
};

const UNAUTHORIZED = JSON.stringify({ errors: [{ code: 32, message: 'Could not authenticate you.' }] });
const NOT_FOUND = JSON.stringify({ errors: [{ code: 34, message: 'Sorry, that page does not exist.' }] });

/** Starts the fake on a free port of 127.0.0.1. */
export async function startFakeXMediaServer(credentials: MediaCredentials): Promise<FakeXMediaServer> {
  const files = new Map<string, MediaFile>();
  const requests: MediaRequest[] = [];
  const server = http.createServer((req, res) => {
    const target = new URL(req.url ?? '/', 'http://placeholder');
    const signed = validSignature(req, target, credentials);
    requests.push({ method: req.method ?? 'GET', path: target.pathname, signed, ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) });
    if (!signed) return void res.writeHead(401, { 'content-type': 'application/json' }).end(UNAUTHORIZED);
    const file = files.get(target.pathname);
    if (!file || req.method !== 'GET') return void res.writeHead(404, { 'content-type': 'application/json' }).end(NOT_FOUND);
    if ('endless' in file) {
      res.writeHead(200, { 'content-type': file.contentType });
      const pump = () => {
        while (!res.destroyed && res.write(file.chunk));
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
      return;
    }
    if ('status' in file) return void res.writeHead(file.status, file.headers ?? {}).end(file.body ?? '');
    res.writeHead(200, { 'content-type': file.contentType, 'content-length': String(file.body.length), ...file.headers }).end(file.body);
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    urlFor: (dmId, mediaId, name) => `${origin}/1.1/ton/data/dm/${dmId}/${mediaId}/${name}`,
    serve: (path, file) => void files.set(path.startsWith('http') ? new URL(path).pathname : path, file),
    requests,
    stop: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}

function validSignature(req: http.IncomingMessage, target: URL, creds: MediaCredentials): boolean {
  const header = req.headers.authorization ?? '';
  if (!header.startsWith('OAuth ')) return false;
  const oauth: Record<string, string> = {};
  for (const match of header.slice(6).matchAll(/([\w-]+)="([^"]*)"/g)) oauth[match[1]!] = decodeURIComponent(match[2]!);
  if (oauth.oauth_signature_method !== 'HMAC-SHA1' || oauth.oauth_version !== '1.0') return false;
  if (oauth.oauth_consumer_key !== creds.consumerKey || oauth.oauth_token !== creds.accessToken) return false;
  if (!oauth.oauth_nonce || !oauth.oauth_signature) return false;
  // X refuses timestamps far from its clock.
  if (Math.abs(Number(oauth.oauth_timestamp) - Date.now() / 1000) > 300) return false;
  const params = [
    ...Object.entries(oauth).filter(([key]) => key !== 'oauth_signature' && key !== 'realm'),
    ...target.searchParams.entries(),
  ]
    .map(([key, value]) => [encode(key), encode(value)] as const)
    .sort(([ka, va], [kb, vb]) => (ka === kb ? (va < vb ? -1 : 1) : ka < kb ? -1 : 1))
    .map(([key, value]) => `${key}=${value}`)
    .join('&');
  const baseUrl = `http://${(req.headers.host ?? '').toLowerCase()}${target.pathname}`;
  const base = [(req.method ?? 'GET').toUpperCase(), encode(baseUrl), encode(params)].join('&');
  const key = `${encode(creds.consumerSecret)}&${encode(creds.accessTokenSecret)}`;
  const expected = Buffer.from(createHmac('sha1', key).update(base).digest('base64'));
  const given = Buffer.from(oauth.oauth_signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

// RFC 5849 §3.6 percent-encoding.
function encode(value: string): string {
  return encodeURIComponent(value).replace(/[!*'()]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}
