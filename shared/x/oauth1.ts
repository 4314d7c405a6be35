// OAuth 1.0a (RFC 5849) HMAC-SHA1 request signing, as X's docs spell it out
// (resources/fundamentals/authentication/oauth-1-0a/creating-a-signature.mdx and authorizing-a-request.mdx): the
// signature covers the method, the base URL (no query, no fragment), every query and form parameter and the oauth_*
// ones, each percent-encoded (RFC 3986 unreserved characters left as they are), sorted by key then value, under the
// key `<consumer secret>&<token secret>`. A JSON body is not signed. Only node:crypto; no library.
import { createHmac, randomBytes } from 'node:crypto';

/** The X app's consumer key and secret and the account's access token and secret. */
export type OAuth1Credentials = { apiKey: string; apiSecret: string; accessToken: string; accessTokenSecret: string };

/** RFC 5849 §3.6: RFC 3986 percent-encoding, where only ALPHA, DIGIT, `-`, `.`, `_` and `~` stay as they are. */
export function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** RFC 5849 §3.4.1: the signature base string of `method` on `url` (its query counted) with `params` added. */
export function signatureBaseString(method: string, url: string, params: [string, string][]): string {
  const parsed = new URL(url);
  const all: [string, string][] = [...parsed.searchParams, ...params];
  // §3.4.1.2: scheme and host lower-case and the default port left out (URL does both), no query or fragment.
  const baseUrl = `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  const normalized = all
    .map(([key, value]) => [percentEncode(key), percentEncode(value)] as const)
    .sort(([ka, va], [kb, vb]) => (ka === kb ? compare(va, vb) : compare(ka, kb)))
    .map(([key, value]) => `${key}=${value}`)
    .join('&');
  return [method.toUpperCase(), percentEncode(baseUrl), percentEncode(normalized)].join('&');
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** HMAC-SHA1 of the base string under `<consumer secret>&<token secret>`, base64 (RFC 5849 §3.4.2). */
export function hmacSha1Signature(baseString: string, consumerSecret: string, tokenSecret: string): string {
  return createHmac('sha1', `${percentEncode(consumerSecret)}&${percentEncode(tokenSecret)}`).update(baseString).digest('base64');
}

/**
 * The `Authorization` header for one request: `url` with its query as it will be sent, `formParams` the
 * application/x-www-form-urlencoded body's (none for X's v2 GETs). `nonce` and `timestamp` are for test vectors only.
 */
export function oauth1Header(
  method: string,
  url: string,
  credentials: OAuth1Credentials,
  options: { formParams?: [string, string][]; nonce?: string; timestamp?: number } = {},
): string {
  const oauth: [string, string][] = [
    ['oauth_consumer_key', credentials.apiKey],
    ['oauth_nonce', options.nonce ?? randomBytes(16).toString('hex')],
    ['oauth_signature_method', 'HMAC-SHA1'],
    ['oauth_timestamp', String(options.timestamp ?? Math.floor(Date.now() / 1000))],
    ['oauth_token', credentials.accessToken],
    ['oauth_version', '1.0'],
  ];
  const base = signatureBaseString(method, url, [...oauth, ...(options.formParams ?? [])]);
  const signature = hmacSha1Signature(base, credentials.apiSecret, credentials.accessTokenSecret);
  // authorizing-a-request.mdx: `OAuth ` then each key="value", both percent-encoded, joined by ", ".
  const signed: [string, string][] = [...oauth, ['oauth_signature', signature]];
  return `OAuth ${signed
    .sort(([a], [b]) => compare(a, b))
    .map(([key, value]) => `${percentEncode(key)}="${percentEncode(value)}"`)
    .join(', ')}`;
}
