// A reply's attachment: the file an agent named by URL, fetched by the bridge so it can be uploaded to X.
//
// The URL comes from outside (the helpdesk), so the fetch is bounded as an SSRF guard: https only, no credentials in
// the URL, no private, loopback or link-local address (checked on an IP literal and again after DNS, on every
// redirect hop, with the same check as DM media: shared/attachments/keep-dm-media.ts `isPrivateAddress`), a size
// limit per type counted as the bytes arrive, the type sniffed from the file's first bytes (never taken from the
// Content-Type a server claims), an idle and a total timeout. Loopback is allowed only when the caller says so: the
// tests and `npm start` (their image servers are on 127.0.0.1); the stack never does.
//
// X's limits for a post (x-api/media/quickstart/best-practices.mdx in xdevplatform/docs): JPG, PNG, GIF and WEBP
// images up to 5 MB, animated GIFs up to 15 MB, videos by chunked upload; "up to 4 photos, 1 animated GIF or 1 video
// in a Post". A video is held in memory on its way to X, so the bridge takes 32 MB of it, well inside the reply
// function's memory.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type * as Http from 'node:http';
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import { isPrivateAddress } from '../attachments/keep-dm-media';

// node:http and node:https are required at the first fetch, not imported (an ESM import loads Node's fetch
// implementation at every cold start; see keep-dm-media.ts).
const load = createRequire(import.meta.url);

/** The media types X takes on a post, with its media category (x-api/media/quickstart/media-upload-chunked.mdx). */
export type ReplyMediaType = 'image/jpeg' | 'image/png' | 'image/webp' | 'image/gif' | 'video/mp4';
export type ReplyMediaCategory = 'tweet_image' | 'tweet_gif' | 'tweet_video' | 'dm_image' | 'dm_gif' | 'dm_video';

export type ReplyMediaFile = { body: Buffer; mediaType: ReplyMediaType; category: ReplyMediaCategory };

export type ReplyMediaLimits = {
  maxBytes: Record<ReplyMediaType, number>;
  idleTimeoutMs: number;
  totalTimeoutMs: number;
  maxRedirects: number;
};

export const REPLY_MEDIA_LIMITS: ReplyMediaLimits = {
  maxBytes: { 'image/jpeg': 5 << 20, 'image/png': 5 << 20, 'image/webp': 5 << 20, 'image/gif': 15 << 20, 'video/mp4': 32 << 20 },
  idleTimeoutMs: 5_000,
  totalTimeoutMs: 20_000,
  maxRedirects: 3,
};

/** Why an attachment could not be fetched: stable codes the reply's failure carries. */
export type ReplyMediaErrorCode = 'attachment_not_allowed' | 'attachment_too_large' | 'attachment_unsupported_type' | 'attachment_fetch_failed';

export class ReplyMediaError extends Error {
  constructor(
    readonly code: ReplyMediaErrorCode,
    message: string,
    /** A timeout, a 5xx or a dropped connection: trying again later may work. */
    readonly transient = false,
  ) {
    super(message);
  }
}

export type FetchReplyMediaOptions = {
  /** Whether an http URL on loopback (127.0.0.1, localhost, ::1) may be fetched: tests and `npm start` only. */
  allowLoopback?: boolean;
  limits?: ReplyMediaLimits;
};

/** Fetches one attachment, or throws ReplyMediaError. */
export async function fetchReplyMedia(address: string, options: FetchReplyMediaOptions = {}): Promise<ReplyMediaFile> {
  const limits = options.limits ?? REPLY_MEDIA_LIMITS;
  const allowLoopback = options.allowLoopback === true;
  const deadline = AbortSignal.timeout(limits.totalTimeoutMs);
  let url = allowedUrl(address, allowLoopback);
  for (let hop = 0; hop <= limits.maxRedirects; hop++) {
    const answer = await get(url, allowLoopback, limits, deadline);
    if ('location' in answer) {
      let next: URL;
      try {
        next = new URL(answer.location, url);
      } catch {
        throw new ReplyMediaError('attachment_fetch_failed', 'The attachment redirected to an address that is not a URL.');
      }
      url = allowedUrl(next.href, allowLoopback);
      continue;
    }
    return answer;
  }
  throw new ReplyMediaError('attachment_fetch_failed', `The attachment redirected more than ${limits.maxRedirects} times.`);
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** An https URL without credentials; http only on loopback when loopback is allowed. */
export function allowedUrl(address: string, allowLoopback: boolean): URL {
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw new ReplyMediaError('attachment_not_allowed', 'The attachment URL is not a URL.');
  }
  if (url.username || url.password) throw new ReplyMediaError('attachment_not_allowed', 'The attachment URL carries credentials.');
  const loopbackHttp = allowLoopback && url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname);
  if (url.protocol !== 'https:' && !loopbackHttp) throw new ReplyMediaError('attachment_not_allowed', 'The attachment URL must be https.');
  const literal = url.hostname.replace(/^\[|\]$/g, '');
  const family = isIP(literal);
  if (family && refusedAddress(literal, family, allowLoopback)) {
    throw new ReplyMediaError('attachment_not_allowed', 'The attachment host is a private address.');
  }
  return url;
}

/** A private address is refused; with `allowLoopback`, loopback ones (127.0.0.0/8, ::1) are not. */
function refusedAddress(address: string, family: number, allowLoopback: boolean): boolean {
  if (allowLoopback && (address === '::1' || (family === 4 && address.startsWith('127.')))) return false;
  return isPrivateAddress(address, family);
}

type Answer = ReplyMediaFile | { location: string };

function get(url: URL, allowLoopback: boolean, limits: ReplyMediaLimits, deadline: AbortSignal): Promise<Answer> {
  return new Promise<Answer>((resolve, reject) => {
    const transport = load(url.protocol === 'https:' ? 'node:https' : 'node:http') as typeof Http;
    const req = transport.request(url, {
      method: 'GET',
      headers: { accept: Object.keys(limits.maxBytes).join(', '), 'user-agent': 'support-bridge' },
      // Checked after DNS, before connecting: a public-looking name that resolves to a private address is refused.
      lookup: guardedLookup(allowLoopback),
      timeout: limits.idleTimeoutMs,
      signal: deadline,
      agent: false,
    });
    const fail = (error: unknown) => reject(asFailure(error, deadline));
    req.on('timeout', () => req.destroy(new ReplyMediaError('attachment_fetch_failed', 'The attachment host did not answer in time.', true)));
    req.on('error', fail);
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      const drop = (failure: ReplyMediaError) => {
        reject(failure);
        res.destroy();
      };
      if (status >= 300 && status < 400 && status !== 304) {
        const location = res.headers.location;
        res.resume();
        if (!location) return drop(new ReplyMediaError('attachment_fetch_failed', `The attachment host answered ${status} without a location.`));
        return resolve({ location });
      }
      if (status !== 200) return drop(new ReplyMediaError('attachment_fetch_failed', `The attachment host answered HTTP ${status}.`, status === 429 || status >= 500));
      const largest = Math.max(...Object.values(limits.maxBytes));
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > largest) return drop(tooLarge(largest));
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        // Counted as it arrives: a server that lies about (or omits) its length is cut off at the limit.
        if (size > largest) return drop(tooLarge(largest));
        chunks.push(chunk);
      });
      res.on('error', fail);
      res.on('aborted', () => fail(new ReplyMediaError('attachment_fetch_failed', 'The attachment host closed the connection mid-file.', true)));
      res.on('end', () => {
        if (size > largest) return;
        const body = Buffer.concat(chunks);
        const mediaType = sniff(body);
        if (!mediaType) {
          return reject(new ReplyMediaError('attachment_unsupported_type', 'The attachment is not a JPEG, PNG, WEBP, GIF or MP4 file.'));
        }
        if (body.length > limits.maxBytes[mediaType]) return reject(tooLarge(limits.maxBytes[mediaType], mediaType));
        resolve({ body, mediaType, category: categoryOf(mediaType) });
      });
    });
    req.end();
  });
}

function tooLarge(maxBytes: number, mediaType?: string): ReplyMediaError {
  return new ReplyMediaError('attachment_too_large', `The attachment is larger than ${maxBytes} bytes, the most X takes${mediaType ? ` for ${mediaType}` : ''}.`);
}

function categoryOf(mediaType: ReplyMediaType): ReplyMediaCategory {
  return mediaType === 'image/gif' ? 'tweet_gif' : mediaType === 'video/mp4' ? 'tweet_video' : 'tweet_image';
}

/** The file's type from its first bytes, or undefined when it is none X takes. */
export function sniff(body: Buffer): ReplyMediaType | undefined {
  const starts = (...bytes: number[]) => bytes.every((b, i) => body[i] === b);
  if (starts(0xff, 0xd8, 0xff)) return 'image/jpeg';
  if (starts(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'image/png';
  const head = body.subarray(0, 6).toString('latin1');
  if (head === 'GIF87a' || head === 'GIF89a') return 'image/gif';
  if (body.subarray(0, 4).toString('latin1') === 'RIFF' && body.subarray(8, 12).toString('latin1') === 'WEBP') return 'image/webp';
  if (body.subarray(4, 8).toString('latin1') === 'ftyp') return 'video/mp4';
  return undefined;
}

function asFailure(error: unknown, deadline: AbortSignal): ReplyMediaError {
  if (error instanceof ReplyMediaError) return error;
  if (deadline.aborted) return new ReplyMediaError('attachment_fetch_failed', 'The attachment took too long to fetch.', true);
  const code = (error as NodeJS.ErrnoException).code;
  return new ReplyMediaError('attachment_fetch_failed', `The attachment host could not be reached${code ? ` (${code})` : ''}.`, true);
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

function guardedLookup(allowLoopback: boolean) {
  return (hostname: string, options: object, callback: LookupCallback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      const usable = addresses.filter((a) => !refusedAddress(a.address, a.family, allowLoopback));
      if (usable.length === 0) {
        return callback(new ReplyMediaError('attachment_not_allowed', 'The attachment host resolves to a private address.') as NodeJS.ErrnoException, []);
      }
      if ((options as { all?: boolean }).all === true) return callback(null, usable);
      return callback(null, usable[0]!.address, usable[0]!.family);
    });
  };
}
