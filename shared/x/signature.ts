// X webhook cryptography: the CRC challenge answer and the `x-twitter-webhooks-signature` check. Both are
// HMAC-SHA256 keyed with the app's consumer secret (X_API_SECRET), never a bearer or access token.
import { createHmac, timingSafeEqual } from 'node:crypto';

const PREFIX = 'sha256=';
const DIGEST_BYTES = 32;
// base64 of 32 bytes is always 43 characters and one `=`; anything else cannot be X's signature.
const SIGNATURE_HEADER = /^sha256=([A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=)$/;
// X's crc_token is URL-safe text. Space (0x20) is refused too: a space means the query string was decoded wrongly
// (a raw `+`), and answering 400 is safer than answering 200 with a wrong token, which X takes as "invalid webhook"
// at once while it treats a 4xx as transient.
const CRC_TOKEN = /^[\x21-\x7E]{1,256}$/;

function hmac(consumerSecret: string, data: Buffer | Uint8Array | string): Buffer {
  return createHmac('sha256', consumerSecret).update(data).digest();
}

/**
 * The `response_token` for X's CRC challenge: `sha256=` + base64(HMAC-SHA256(consumerSecret, crcToken)).
 * Check the token with `isValidCrcToken` first: this function signs whatever it is given.
 */
export function crcResponseToken(consumerSecret: string, crcToken: string): string {
  return PREFIX + hmac(consumerSecret, crcToken).toString('base64');
}

/**
 * True when `token` is a string of 1 to 256 printable ASCII characters without space (0x21 to 0x7E); anything else
 * (missing, repeated query parameter, empty, too long, spaces, control or non-ASCII characters) gets a 400.
 */
export function isValidCrcToken(token: unknown): token is string {
  return typeof token === 'string' && CRC_TOKEN.test(token);
}

/**
 * Signs a webhook body the way X does (`sha256=` + base64 HMAC-SHA256 over the exact bytes), for tests and the
 * local simulate command. A string body is signed as its UTF-8 bytes.
 */
export function signWebhookBody(consumerSecret: string, rawBody: Buffer | Uint8Array | string): string {
  return PREFIX + hmac(consumerSecret, rawBody).toString('base64');
}

/**
 * True only when `header` is `sha256=<base64 of 32 bytes>` and those bytes equal HMAC-SHA256(consumerSecret,
 * rawBody). The digests are compared with `timingSafeEqual`, so the time taken does not depend on how many bytes
 * match. A missing, repeated or malformed header, or an empty secret (anyone could sign with it), is refused.
 */
export function verifyWebhookSignature(
  consumerSecret: string,
  rawBody: Buffer | Uint8Array,
  header: string | undefined,
): boolean {
  if (typeof consumerSecret !== 'string' || consumerSecret.length === 0) return false;
  // The digest is computed before looking at the header, so a malformed header costs as long as a wrong one.
  const expected = hmac(consumerSecret, rawBody);
  // Node gives a repeated header as an array; X sends it once, so anything but one string is refused.
  if (typeof header !== 'string') return false;
  const match = SIGNATURE_HEADER.exec(header.trim());
  const encoded = match?.[1];
  if (encoded === undefined) return false;
  const received = Buffer.from(encoded, 'base64');
  if (received.length !== DIGEST_BYTES) return false;
  return timingSafeEqual(received, expected);
}
