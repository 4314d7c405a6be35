// Use case: a DM's media that X serves only with the account's credentials → the bridge's own copies.
// In: one inbound item as queued. Out: the same item, each of its DM media marked `stored` (where the copy is) or
// `error` (why there is none). Posts, deletes and media that need no credentials pass through untouched.
//
// X serves DM media from its TON host, ton.twitter.com, at `/1.1/ton/data/dm/{dm_id}/{media_id}/{resource_id}`, and
// only to a request signed with OAuth 1.0a user context by a participant of the conversation: X's docs,
// `x-api/direct-messages/media/introduction.mdx` and `media/migrate.mdx` in `xdevplatform/docs` (the newer
// `/2/dm_conversations/media` endpoint takes OAuth 2.0 user tokens only, which the bridge does not hold).
//
// Safe to retry: each copy's key comes from the DM's X id and X's media key (dmMediaKey), so a redelivery writes the
// same object again and never a second one. Bounded: only X's DM media host (no other host, no redirect elsewhere, no
// private or loopback address unless a test's source says so), a size limit per type, a content-type allowlist
// checked against the file's first bytes, timeouts, and at most two downloads at a time per process.
import { BlockList, isIP } from 'node:net';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type * as Http from 'node:http';
import { createRequire } from 'node:module';
import { RetryableError } from '../errors';
import { oauth1Header } from '../x/oauth1';
import type { InboundEvent, InboundMedia } from '../x/inbound-event';
import type { XCredentials } from '../x/x-client';
import { dmMediaKey, type AttachmentStore } from './attachment-store';

// node:http and node:https are required at the first download, not imported: an ESM import of either builds its
// export list, which loads Node's fetch implementation (undici, ~20 ms) at every cold start.
const load = createRequire(import.meta.url);

/** Where DM media may be fetched from. */
export type DmMediaSource = {
  /** Origins (`https://host[:port]`) X serves DM media from; a URL on any other origin is refused. */
  origins: string[];
  /** Path every media URL must start with. */
  pathPrefix: string;
  /**
   * Whether an origin may resolve to a private, loopback or link-local address. Never on AWS (a redirect or a
   * tampered DNS answer must not reach the VPC, the metadata service or the runner itself); only the tests' and the
   * local runner's fake media servers on 127.0.0.1 need it.
   */
  allowPrivateAddresses: boolean;
};

/** X's DM media host, as X documents it. The only source in production. */
export const X_DM_MEDIA_SOURCE: DmMediaSource = {
  origins: ['https://ton.twitter.com'],
  pathPrefix: '/1.1/ton/data/dm/',
  allowPrivateAddresses: false,
};

/** A fake media server on loopback (tests, the local runner's X playground): its origin only, private addresses allowed. */
export function loopbackDmMediaSource(origin: string): DmMediaSource {
  const url = new URL(origin);
  if (url.hostname !== '127.0.0.1' && url.hostname !== 'localhost' && url.hostname !== '[::1]') {
    throw new Error(`a loopback media source must be on loopback, got ${origin}`);
  }
  return { origins: [url.origin], pathPrefix: X_DM_MEDIA_SOURCE.pathPrefix, allowPrivateAddresses: true };
}

/**
 * What is kept and how long a download may take. X's own DM limits are 5 MB for images and 15 MB for GIFs; images
 * get 15 MB here. A video is held in memory on its way to the store, so 32 MB keeps two downloads well inside the
 * ingest function's memory; a larger one is recorded `too_large` and the agent is told so.
 */
export const DM_MEDIA_LIMITS = {
  maxBytes: { 'image/jpeg': 15 << 20, 'image/png': 15 << 20, 'image/gif': 15 << 20, 'image/webp': 15 << 20, 'video/mp4': 32 << 20 },
  /** A socket idle this long (connecting, waiting for headers or the next chunk) ends the download. */
  idleTimeoutMs: 5_000,
  /** The whole download, redirects included: well inside ingest's 30 s, which also has the ticket writes to do. */
  totalTimeoutMs: 15_000,
  maxRedirects: 3,
} as const;

export type DmMediaLimits = {
  maxBytes: Record<string, number>;
  idleTimeoutMs: number;
  totalTimeoutMs: number;
  maxRedirects: number;
};

/** Receives of one SQS message before a transient failure is recorded on the media instead of retried. */
export const MEDIA_RETRY_RECEIVES = 3;

/** Why a copy could not be made; stable codes the helpdesk may show or count. */
export type DmMediaErrorCode =
  | 'no_credentials'
  | 'not_allowed'
  | 'unauthorized'
  | 'not_found'
  | 'too_large'
  | 'unsupported_type'
  | 'fetch_failed'
  | 'store_failed';

export type KeepDmMediaDeps = {
  store: Pick<AttachmentStore, 'put'>;
  /** The account's OAuth 1.0a credentials; without an access token nothing can be fetched (`no_credentials`). */
  credentials: Partial<XCredentials> | undefined;
  /** X_DM_MEDIA_SOURCE unless a test or the local runner hands in its fake's. */
  source?: DmMediaSource;
  limits?: DmMediaLimits;
};

export type KeepDmMediaOptions = {
  /**
   * The SQS receive count of the item (ApproximateReceiveCount). A transient failure (X answering 5xx or 429, a
   * timeout, a network error, the store failing) throws RetryableError while this is below MEDIA_RETRY_RECEIVES, so
   * SQS tries the item again after its visibility timeout; from then on (and when it is not given) the failure is
   * recorded on the media as `fetch_failed` or `store_failed` and the DM goes on to its ticket: a customer's message
   * is never dead-lettered because of its picture.
   */
  receiveCount?: number;
};

/**
 * The item with every DM media that `requiresAuth` copied into the store (`stored: {key, contentType, bytes}`) or
 * marked `error: {code, message}`. Media already `stored` or in `error`, media that need no credentials, posts and
 * deletes are returned as they are. Never throws for a refused or bad file; throws RetryableError only for a
 * transient failure while `receiveCount` allows a retry (see KeepDmMediaOptions).
 */
export async function keepDmMedia<T extends InboundEvent>(item: T, deps: KeepDmMediaDeps, options: KeepDmMediaOptions = {}): Promise<T> {
  if (item.kind !== 'dm' || !item.media.some(needsCopy)) return item;
  const media: InboundMedia[] = [];
  // One at a time within an item: a DM carries one attachment on X, and this keeps memory to one file per lane.
  for (const entry of item.media) media.push(needsCopy(entry) ? await keepOne(item.xId, entry, deps, options) : entry);
  return { ...item, media };
}

function needsCopy(media: InboundMedia): boolean {
  return media.requiresAuth && media.stored === undefined && media.error === undefined;
}

class MediaFailure extends Error {
  constructor(
    readonly code: DmMediaErrorCode,
    message: string,
    readonly transient = false,
  ) {
    super(message);
  }
}

async function keepOne(dmXId: string, media: InboundMedia, deps: KeepDmMediaDeps, options: KeepDmMediaOptions): Promise<InboundMedia> {
  const finalAttempt = options.receiveCount === undefined || options.receiveCount >= MEDIA_RETRY_RECEIVES;
  try {
    const { accessToken, accessTokenSecret, apiKey, apiSecret } = deps.credentials ?? {};
    if (!accessToken || !accessTokenSecret || !apiKey || !apiSecret) {
      throw new MediaFailure('no_credentials', 'The bridge has no X access token, and X serves DM media only to the account.');
    }
    if (!media.url) throw new MediaFailure('not_found', 'X gave no address for this media.');
    const key = dmMediaKey(dmXId, media.mediaKey);
    const file = await withDownloadSlot(() =>
      download(media.url!, { apiKey, apiSecret, accessToken, accessTokenSecret }, deps.source ?? X_DM_MEDIA_SOURCE, deps.limits ?? DM_MEDIA_LIMITS),
    );
    try {
      const stored = await deps.store.put({ key, body: file.body, contentType: file.contentType });
      return { ...media, stored };
    } catch (error) {
      throw new MediaFailure('store_failed', `The copy could not be stored: ${(error as Error).message ?? String(error)}`, true);
    }
  } catch (error) {
    if (!(error instanceof MediaFailure)) throw error;
    if (error.transient && !finalAttempt) throw new RetryableError(`DM ${dmXId} media ${media.mediaKey}: ${error.message}`);
    return { ...media, error: { code: error.code, message: error.message } };
  }
}

// At most two downloads at once per process: a Lambda instance runs one batch, whose lanes run in parallel.
const MAX_DOWNLOADS = 2;
let downloading = 0;
const waiting: (() => void)[] = [];

async function withDownloadSlot<T>(run: () => Promise<T>): Promise<T> {
  if (downloading >= MAX_DOWNLOADS) await new Promise<void>((go) => waiting.push(go));
  else downloading += 1;
  try {
    return await run();
  } finally {
    const next = waiting.shift();
    if (next) next();
    else downloading -= 1;
  }
}

type Downloaded = { body: Buffer; contentType: string };

/** Fetches `address` signed for the account, following redirects only within the source. */
async function download(address: string, credentials: XCredentials, source: DmMediaSource, limits: DmMediaLimits): Promise<Downloaded> {
  const deadline = AbortSignal.timeout(limits.totalTimeoutMs);
  let url = allowedUrl(address, source);
  for (let hop = 0; hop <= limits.maxRedirects; hop++) {
    // Signed per hop: an OAuth 1.0a signature covers the exact URL requested.
    const authorization = oauth1Header('GET', url.href, credentials);
    const answer = await request(url, authorization, source, limits, deadline);
    if ('location' in answer) {
      let next: URL;
      try {
        next = new URL(answer.location, url);
      } catch {
        throw new MediaFailure('fetch_failed', 'X redirected to an address that is not a URL.');
      }
      url = allowedUrl(next.href, source, 'X redirected the download to an address that is not X\'s DM media host.');
      continue;
    }
    return answer;
  }
  throw new MediaFailure('fetch_failed', `X redirected the download more than ${limits.maxRedirects} times.`);
}

function allowedUrl(address: string, source: DmMediaSource, refusal = 'The media address is not X\'s DM media host.'): URL {
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw new MediaFailure('not_allowed', refusal);
  }
  // Credentials in the URL, or any origin or path outside the source: never sent the account's signature.
  if (url.username || url.password || !source.origins.includes(url.origin) || !url.pathname.startsWith(source.pathPrefix)) {
    throw new MediaFailure('not_allowed', refusal);
  }
  return url;
}

type Answer = Downloaded | { location: string };

function request(url: URL, authorization: string, source: DmMediaSource, limits: DmMediaLimits, deadline: AbortSignal): Promise<Answer> {
  return new Promise<Answer>((resolve, reject) => {
    const literal = isIP(url.hostname.replace(/^\[|\]$/g, ''));
    if (literal && !source.allowPrivateAddresses && isPrivateAddress(url.hostname.replace(/^\[|\]$/g, ''), literal)) {
      reject(new MediaFailure('not_allowed', 'The media host is a private address.'));
      return;
    }
    const transport = load(url.protocol === 'https:' ? 'node:https' : 'node:http') as typeof Http;
    const req = transport.request(url, {
      method: 'GET',
      headers: { authorization, accept: Object.keys(limits.maxBytes).join(', '), 'user-agent': 'support-bridge' },
      // Checked after DNS, before connecting: an allowed name that resolves to a private address is refused.
      lookup: guardedLookup(source.allowPrivateAddresses),
      timeout: limits.idleTimeoutMs,
      signal: deadline,
      agent: false,
    });
    const fail = (error: unknown) => reject(asFailure(error, deadline));
    req.on('timeout', () => req.destroy(new MediaFailure('fetch_failed', 'X did not answer in time.', true)));
    req.on('error', fail);
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      // Rejected before the socket is destroyed: destroying emits its own errors, which must not win.
      const drop = (failure: MediaFailure) => {
        reject(failure);
        res.destroy();
      };
      if (status >= 300 && status < 400 && status !== 304) {
        const location = res.headers.location;
        res.resume();
        if (!location) return drop(new MediaFailure('fetch_failed', `X answered ${status} without a location.`));
        return resolve({ location });
      }
      if (status === 401 || status === 403) {
        return drop(new MediaFailure('unauthorized', `X refused the account's credentials for this media (HTTP ${status}).`));
      }
      if (status === 404 || status === 410) return drop(new MediaFailure('not_found', `X no longer has this media (HTTP ${status}).`));
      if (status === 429 || status >= 500) return drop(new MediaFailure('fetch_failed', `X answered HTTP ${status}.`, true));
      if (status !== 200) return drop(new MediaFailure('fetch_failed', `X answered HTTP ${status}.`));

      const contentType = (res.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      const maxBytes = limits.maxBytes[contentType];
      if (maxBytes === undefined) {
        return drop(new MediaFailure('unsupported_type', `The file is ${contentType || 'of no stated type'}; the bridge keeps ${Object.keys(limits.maxBytes).join(', ')}.`));
      }
      const tooLarge = () => new MediaFailure('too_large', `The file is larger than ${maxBytes} bytes, the most the bridge keeps for ${contentType}.`);
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > maxBytes) return drop(tooLarge());
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        // Counted as it arrives: a server that lies about (or omits) its length is cut off at the limit.
        if (size > maxBytes) return drop(tooLarge());
        chunks.push(chunk);
      });
      res.on('error', fail);
      res.on('aborted', () => fail(new MediaFailure('fetch_failed', 'X closed the connection mid-file.', true)));
      res.on('end', () => {
        if (size > maxBytes) return;
        const body = Buffer.concat(chunks);
        if (!looksLike(contentType, body)) {
          return reject(new MediaFailure('unsupported_type', `The file's content is not the ${contentType} X said it was.`));
        }
        resolve({ body, contentType });
      });
    });
    req.end();
  });
}

function asFailure(error: unknown, deadline: AbortSignal): MediaFailure {
  if (error instanceof MediaFailure) return error;
  if (deadline.aborted) return new MediaFailure('fetch_failed', 'The download took too long.', true);
  const code = (error as NodeJS.ErrnoException).code;
  return new MediaFailure('fetch_failed', `X's media host could not be reached${code ? ` (${code})` : ''}.`, true);
}

// The file's first bytes must agree with the type X stated: a host answering HTML or a script as "image/png" is
// refused rather than stored and served from the bridge's bucket.
function looksLike(contentType: string, body: Buffer): boolean {
  const starts = (...bytes: number[]) => bytes.every((b, i) => body[i] === b);
  switch (contentType) {
    case 'image/jpeg':
      return starts(0xff, 0xd8, 0xff);
    case 'image/png':
      return starts(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);
    case 'image/gif':
      return body.subarray(0, 6).toString('latin1') === 'GIF87a' || body.subarray(0, 6).toString('latin1') === 'GIF89a';
    case 'image/webp':
      return body.subarray(0, 4).toString('latin1') === 'RIFF' && body.subarray(8, 12).toString('latin1') === 'WEBP';
    case 'video/mp4':
      return body.subarray(4, 8).toString('latin1') === 'ftyp';
    default:
      return false;
  }
}

// Addresses no public host has: loopback, private networks, link-local (the instance metadata service), CGNAT,
// multicast and reserved ranges, and their IPv6 equivalents.
const PRIVATE = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 3],
] as const) {
  PRIVATE.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 127],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  PRIVATE.addSubnet(network, prefix, 'ipv6');
}

/** True for an address the bridge must never fetch from on AWS. IPv4-mapped IPv6 addresses are checked as IPv4. */
export function isPrivateAddress(address: string, family: number = isIP(address)): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return PRIVATE.check(mapped[1]!, 'ipv4');
  if (family === 4) return PRIVATE.check(address, 'ipv4');
  if (family === 6) return PRIVATE.check(address, 'ipv6');
  return true;
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

function guardedLookup(allowPrivate: boolean) {
  return (hostname: string, options: object, callback: LookupCallback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      const usable = allowPrivate ? addresses : addresses.filter((a) => !isPrivateAddress(a.address, a.family));
      if (usable.length === 0) {
        return callback(new MediaFailure('not_allowed', 'The media host resolves to a private address.') as NodeJS.ErrnoException, []);
      }
      const wantsAll = (options as { all?: boolean }).all === true;
      if (wantsAll) return callback(null, usable);
      return callback(null, usable[0]!.address, usable[0]!.family);
    });
  };
}
