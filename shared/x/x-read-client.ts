// X's v2 reads as the bot account (users and posts look-ups, the reconciler's timelines and searches, XChat's key
// look-ups): GETs signed with OAuth 1.0a user context (shared/x/oauth1.ts) and sent with fetch, their answers mapped
// by the one mapping every call to X goes through (shared/x/x-answers.ts). Functions that only read X (ingest,
// reconcile) load this instead of twitter-api-v2, which only posting and ops need. shared/x/x-client.ts re-exports
// everything here.
import * as z from 'zod/mini';
import { lazySchema } from '../lazy-schema';
import { PermanentError, RetryableError } from '../errors';
import { oauth1Header, percentEncode } from './oauth1';
import { storedText } from './text';
import {
  checkedId,
  mapXAnswer,
  parseAnswer,
  parseBaseUrl,
  X_DEFAULT_API_BASE_URL,
  X_DEFAULT_TIMEOUT_MS,
  xIdSchema as xId,
  type XClientOptions,
} from './x-answers';
import type { XLookups, XPostRecord, XUserRecord } from './x-reads';

/**
 * The user fields a ticket's customer shows (X's OpenAPI `user.fields`): the handle and name, and for agents the
 * profile image, verification, follower count and whether the account is protected.
 */
export const X_LOOKUP_USER_FIELDS = 'username,name,profile_image_url,verified_type,public_metrics,protected';

const lookedUpUserSchema = lazySchema(() => z.object({
  id: xId,
  username: z.string(),
  name: z.string(),
  profile_image_url: z.optional(z.string()),
  verified_type: z.optional(z.string()),
  public_metrics: z.optional(z.object({ followers_count: z.optional(z.number()) })),
  protected: z.optional(z.boolean()),
}));
const usersAnswerSchema = lazySchema(() => z.object({ data: z._default(z.array(lookedUpUserSchema), []) }));
const postsAnswerSchema = lazySchema(() => z.object({
  data: z._default(
    z.array(
      z.object({
        id: xId,
        text: z.string(),
        author_id: z.optional(xId),
        // A post over 280 characters: `text` is cut and the whole text is here (tweet.fields=note_tweet).
        note_tweet: z.optional(z.object({ text: z.string() })),
      }),
    ),
    [],
  ),
  includes: z.optional(z.object({ users: z._default(z.array(lookedUpUserSchema), []) })),
}));

function toUserRecord(user: z.infer<typeof lookedUpUserSchema>): XUserRecord {
  const followersCount = user.public_metrics?.followers_count;
  return {
    xUserId: user.id,
    username: user.username,
    name: user.name,
    profile: {
      ...(user.profile_image_url ? { profileImageUrl: user.profile_image_url } : {}),
      ...(user.verified_type ? { verifiedType: user.verified_type } : {}),
      ...(followersCount !== undefined ? { followersCount } : {}),
      ...(user.protected !== undefined ? { protected: user.protected } : {}),
    },
  };
}

/**
 * The users and posts look-ups (`GET /2/users?ids=`, `GET /2/tweets?ids=` with `expansions=author_id`), at most 100
 * ids each, signed as the bot account: X's OpenAPI document accepts OAuth 1.0a user context (UserToken) or an
 * app-only Bearer token on both, and the brand's secret holds the account's token; per user X allows 900 users
 * look-ups in 15 minutes, three times the app-only allowance (`x-api/fundamentals/rate-limits.mdx`).
 * X answers a 200 even when some ids do not exist, listing them in `errors`; every id asked for and not returned is
 * reported in `notFound`. Call these only through shared/x/x-reads.ts, which budgets and prices them. Throws
 * RetryableError or PermanentError like the other calls, and PermanentError `rejected` for a non-numeric id.
 */
export function createXLookups(options: XClientOptions): XLookups {
  const get = signedGetter(options);
  const checkedIds = (ids: string[], name: string) => {
    if (ids.length === 0 || ids.length > 100) {
      throw new PermanentError(`${name} must hold 1 to 100 ids, got ${ids.length}`, 'rejected');
    }
    return ids.map((id) => checkedId(id, name));
  };
  return {
    async users(ids) {
      const query = { ids: checkedIds(ids, 'ids').join(','), 'user.fields': X_LOOKUP_USER_FIELDS };
      const body = await get('users', query);
      const users = parseAnswer(usersAnswerSchema, body, 'users look-up').data.map(toUserRecord);
      const returned = new Set(users.map((u) => u.xUserId));
      return { users, notFound: ids.filter((id) => !returned.has(id)) };
    },
    async posts(ids) {
      const query = {
        ids: checkedIds(ids, 'ids').join(','),
        'tweet.fields': 'author_id,note_tweet',
        expansions: 'author_id',
        'user.fields': X_LOOKUP_USER_FIELDS,
      };
      const body = await get('tweets', query);
      const answer = parseAnswer(postsAnswerSchema, body, 'posts look-up');
      const posts: XPostRecord[] = answer.data.map((post) => ({
        xId: post.id,
        text: storedText(post.note_tweet?.text ?? post.text),
        ...(post.author_id ? { authorId: post.author_id } : {}),
      }));
      const returned = new Set(posts.map((p) => p.xId));
      return {
        posts,
        users: (answer.includes?.users ?? []).map(toUserRecord),
        notFound: ids.filter((id) => !returned.has(id)),
      };
    },
  };
}

/**
 * Signed GETs of X's v2 read endpoints as the bot account (the reconciler's timeline and search pages), with the same
 * base URL, timeout and error vocabulary as every other call here: RetryableError (429 with X's reset, 5xx, network)
 * or PermanentError. Call it only through shared/x/x-reads.ts, which budgets and prices reads.
 */
export function createXReadClient(options: XClientOptions): { get(path: string, query: Record<string, string | number>): Promise<unknown> } {
  const get = signedGetter(options);
  return { get: (path, query) => get(path, query) };
}

/**
 * The look-ups for the bridge's X configuration, or undefined when the bot's access token is not configured (local
 * mode without X): then nothing is read and unnamed authors stay `unresolved`.
 */
export function createXLookupsFor(
  x: { apiKey: string; apiSecret: string; accessToken?: string; accessTokenSecret?: string; apiBaseUrl?: string },
  options: { timeoutMs?: number } = {},
): XLookups | undefined {
  if (!x.accessToken || !x.accessTokenSecret) return undefined;
  return createXLookups({
    apiKey: x.apiKey,
    apiSecret: x.apiSecret,
    accessToken: x.accessToken,
    accessTokenSecret: x.accessTokenSecret,
    ...(x.apiBaseUrl ? { apiBaseUrl: x.apiBaseUrl } : {}),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  });
}

/**
 * `get(path, query)`: `GET <base>/2/<path>?<query>` signed as the account, resolving with X's JSON. A non-2xx answer
 * throws what mapXAnswer makes of it; no answer within `timeoutMs` (default 10 s) or a connection that fails throws a
 * RetryableError, as does a 2xx whose body is not JSON. Errors never carry the request (its header holds the token).
 */
function signedGetter(options: XClientOptions): (path: string, query: Record<string, string | number>) => Promise<unknown> {
  const base = parseBaseUrl(options.apiBaseUrl ?? X_DEFAULT_API_BASE_URL);
  const timeoutMs = options.timeoutMs ?? X_DEFAULT_TIMEOUT_MS;
  const secrets = [options.apiKey, options.apiSecret, options.accessToken, options.accessTokenSecret].filter((s) => s.length >= 4);
  const redact = (text: string) => secrets.reduce((out, secret) => out.split(secret).join('[redacted]'), text);
  return async (path, query) => {
    // Keys and values percent-encoded as RFC 5849 signs them, so the URL sent is the URL signed.
    const search = Object.entries(query)
      .map(([key, value]) => `${percentEncode(key)}=${percentEncode(String(value))}`)
      .join('&');
    const url = `${base}/2/${path.replace(/^\/+/, '')}${search ? `?${search}` : ''}`;
    let response: Response;
    try {
      response = await fetch(url, {
        headers: { authorization: oauth1Header('GET', url, options), accept: 'application/json' },
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw transportError(error, redact);
    }
    let text: string;
    try {
      text = await response.text();
    } catch {
      throw new RetryableError(`X closed the connection in the middle of its answer (HTTP ${response.status})`);
    }
    const data = parseJson(text);
    if (!response.ok) {
      throw mapXAnswer({ status: response.status, data: data ?? {}, headers: Object.fromEntries(response.headers) }, 'read', redact);
    }
    if (data === undefined) throw new RetryableError(`X's answer (HTTP ${response.status}) is not JSON`);
    return data;
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

// What fetch throws before any answer: the timeout, or the connection's failure (its code in `cause`).
function transportError(error: unknown, redact: (text: string) => string): RetryableError {
  if (error instanceof DOMException && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return new RetryableError('X did not answer in time (the request may or may not have been applied)');
  }
  const cause = (error as { cause?: NodeJS.ErrnoException }).cause;
  const reason = cause?.code ? `${cause.code}: ${cause.message}` : (cause?.message ?? (error instanceof Error ? error.message : 'request failed'));
  return new RetryableError(redact(`X could not be reached (${reason})`));
}
