// X's answers in the bridge's vocabulary, shared by every client that talks to X (shared/x/x-client.ts, which posts
// through twitter-api-v2, and shared/x/x-read-client.ts, which reads with a signed fetch): RetryableError (with X's
// rate-limit reset) or PermanentError (with X's own reason and a stable code). Nothing here loads an HTTP client, so
// a function that only reads X does not carry twitter-api-v2.
import * as z from 'zod/mini';
import { ConfigError, PermanentError, RetryableError } from '../errors';

/**
 * Why X refused for good. `duplicate_content`, `not_summoned`, `reply_restricted`, `target_deleted`, `too_long`,
 * `dm_closed` are about the reply; `credits_depleted` (pay-per-use balance at zero), `usage_capped` (monthly cap) and
 * `unauthorized` (credentials or app permissions) need ops; `rejected` is any other 4xx. None is worth retrying: no
 * wait for a rate-limit reset changes any of them.
 */
export type XRefusalCode =
  | 'duplicate_content'
  | 'not_summoned'
  | 'reply_restricted'
  | 'target_deleted'
  | 'too_long'
  | 'dm_closed'
  | 'credits_depleted'
  | 'usage_capped'
  | 'unauthorized'
  | 'rejected';

/** The X app's consumer key/secret and the bot account's OAuth 1.0a user token. */
export type XCredentials = {
  apiKey: string;
  apiSecret: string;
  accessToken: string;
  accessTokenSecret: string;
};

export type XClientOptions = XCredentials & {
  /** X API origin; `http://` is allowed for loopback fakes. Default https://api.x.com. */
  apiBaseUrl?: string;
  /** Gives up on a request when its socket has been idle this long (ms): a RetryableError. Default 10 s. */
  timeoutMs?: number;
};

/** Where X's API lives unless X_API_BASE_URL says otherwise. */
export const X_DEFAULT_API_BASE_URL = 'https://api.x.com';
export const X_DEFAULT_TIMEOUT_MS = 10_000;

/** Which kind of call an answer came to: the same status means different things on the DM, token and other endpoints. */
export type XEndpoint = 'post' | 'dm' | 'lookup' | 'ops' | 'read' | 'token';

/** X's answer as the mapping needs it: the HTTP status, the parsed body (X's problem JSON), the headers. */
export type XAnswer = { status: number; data: unknown; headers: Record<string, string | string[] | undefined> };

/** An X id as it may appear in a URL path: digits only. */
export const xIdSchema = z.string().check(z.regex(/^\d{1,20}$/));
const xId = xIdSchema;

export function parseBaseUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError('Invalid configuration: X_API_BASE_URL must be an http(s) URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError('Invalid configuration: X_API_BASE_URL must be an http(s) URL');
  }
  return (url.origin + url.pathname).replace(/\/+$/, '');
}


export function parseAnswer<T>(schema: z.ZodMiniType<T>, body: unknown, what: string): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new RetryableError(`X's answer to the ${what} request has an unexpected shape`);
  return parsed.data;
}


// Ids go into X's URL paths: anything but digits is refused before a request is made.
export function checkedId(value: string, name: string): string {
  if (!xId.safeParse(value).success) {
    throw new PermanentError(`${name} must be a numeric X id, got ${JSON.stringify(value)}`, 'rejected');
  }
  return value;
}

const USAGE_CAPPED = /\/2\/problems\/usage-capped$/;
// Pay-per-use: the account's credit balance is at zero (x-api/getting-started/pricing.mdx, "Credit balance").
const CREDITS_DEPLETED = /\/2\/problems\/credits-depleted$/;
// Problem types that mean the app itself may not do this (read-only app, no project, wrong auth type): ops must act.
const APP_NOT_ALLOWED = /\/2\/problems\/(oauth1-permissions|client-forbidden|unsupported-authentication)$/;
// Refusals told apart by X's wording; the first match wins, so "not summoned" is tried before "reply restricted"
// (its detail also says a reply "is not allowed").
const REFUSALS: [XRefusalCode, RegExp][] = [
  ['too_long', /too long/i],
  ['duplicate_content', /duplicate content|is a duplicate/i],
  // Since 2026-02-23 self-serve apps may reply only where the author mentioned or quoted the bot; X has worded the
  // refusal two ways ("…not been mentioned or otherwise engaged by the author…", then "You can only reply to or quote
  // posts where you are mentioned or are the author.").
  ['not_summoned', /not been mentioned|otherwise engaged|where you are mentioned/i],
  // X's error 385: the post replied to is gone (or hidden from the bot); no retry brings it back.
  ['target_deleted', /deleted or not visible to you/i],
  ['dm_closed', /cannot send messages|not allowed to send (direct )?messages/i],
  ['reply_restricted', /(restricted|limited) who can reply|(reply|replies|conversation)\b[^.]*\b(restricted|limited)/i],
];

/**
 * Maps X's answer (any non-2xx) to the bridge's vocabulary, keyed on HTTP status, X's problem `type` and `detail`: the
 * one mapping every call to X goes through, whichever client made it (twitter-api-v2's answers for posts, DMs and
 * ops; the signed fetch of shared/x/x-read-client.ts for reads).
 */
export function mapXAnswer(answer: XAnswer, endpoint: XEndpoint, redact: (text: string) => string): Error {
  const status = answer.status;
  const data = (typeof answer.data === 'object' && answer.data !== null ? answer.data : {}) as Record<string, unknown>;
  const type = typeof data.type === 'string' ? data.type : '';
  const messages = (Array.isArray(data.errors) ? (data.errors as unknown[]) : []).flatMap((e) => {
    const message = typeof e === 'object' && e !== null ? (e as { message?: unknown }).message : undefined;
    return typeof message === 'string' ? [message] : [];
  });
  const detail = firstString(data.detail, data.title, messages[0], data.error) ?? `X answered HTTP ${status}`;
  // X's own words, for a person to act on: its detail, plus its per-parameter messages when it gave any.
  const reason = redact([detail, ...messages.filter((m) => m !== detail)].join(' — '));
  const refuse = (code: XRefusalCode) => new PermanentError(reason, code);

  // A 429 (sometimes a 403) whose type is the monthly usage cap (title UsageCapExceeded): no wait within the month
  // helps, so it is not a rate limit and its reset headers are not waited for.
  if (USAGE_CAPPED.test(type) || data.title === 'UsageCapExceeded') return refuse('usage_capped');
  // Out of pay-per-use credits: nothing passes until someone adds credits.
  if (status === 402 || CREDITS_DEPLETED.test(type)) return refuse('credits_depleted');
  // POST /oauth2/token answers wrong consumer credentials (and too frequent asking) with 403 code 99.
  if (endpoint === 'token' && status >= 400 && status < 500 && status !== 429) return refuse('unauthorized');
  if (status === 429) return new RetryableError(`X rate limit: ${reason}`, rateLimitResetMs(answer.headers));
  if (status >= 500) return new RetryableError(`X answered ${status}: ${reason}`);
  if (status === 401) return refuse('unauthorized');
  if (status === 403 && APP_NOT_ALLOWED.test(type)) return refuse('unauthorized');
  if (status === 400 || status === 403) {
    const words = [detail, ...messages].join(' ');
    const known = REFUSALS.find(([, pattern]) => pattern.test(words));
    if (known) return refuse(known[0]);
    // On the DM endpoint X's remaining 403 is the recipient not taking DMs from the bot.
    if (status === 403 && endpoint === 'dm') return refuse('dm_closed');
  }
  return refuse('rejected');
}

function firstString(...values: unknown[]): string | undefined {
  return values.find((v): v is string => typeof v === 'string' && v.length > 0);
}

/**
 * When trying again makes sense after a 429 (epoch ms): the 15-minute window's reset, or the 24-hour window's when that
 * one is exhausted (a 429 can come from the daily window while the 15-minute one still has room). Undefined when X sent
 * no reset header.
 */
function rateLimitResetMs(headers: XAnswer['headers']): number | undefined {
  const header = (name: string): number | undefined => {
    const raw = headers[name];
    const value = Array.isArray(raw) ? raw[0] : raw;
    if (value === undefined || value.trim() === '') return undefined;
    const n = Number(value);
    return Number.isFinite(n) ? n : undefined;
  };
  const resets = [header('x-rate-limit-reset')];
  for (const window of ['x-user-limit-24hour', 'x-app-limit-24hour']) {
    if (header(`${window}-remaining`) === 0) resets.push(header(`${window}-reset`));
  }
  const known = resets.filter((r): r is number => r !== undefined);
  return known.length > 0 ? Math.max(...known) * 1000 : undefined;
}
