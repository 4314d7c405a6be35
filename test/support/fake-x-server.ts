// A fake X API v2 on loopback, for tests that drive the real twitter-api-v2 client (and anything else that speaks
// HTTP to X). It answers the way X documents or has been observed to: the shapes, statuses, rate-limit headers and
// problem bodies of test/fixtures/x/x-api-responses.json, with OAuth 1.0a user context required where X requires it.
// Tests script refusals and failures on top of that (failNext / respondWith) and read what was asked (requests).
//
// Covered: POST /2/tweets, POST /2/dm_conversations/with/:participant_id/messages, the reads a crashed reply is
// reconciled with (GET /2/users/:id/tweets, GET /2/dm_conversations/with/:participant_id/dm_events), the webhook
// management endpoints
// (POST/GET /2/webhooks, PUT/DELETE /2/webhooks/:webhook_id, POST /2/webhooks/replay), X Activity API
// subscriptions (POST/GET /2/activity/subscriptions, DELETE /2/activity/subscriptions/:subscription_id), and the
// users and posts look-ups (GET /2/users?ids=, GET /2/tweets?ids= with expansions=author_id) over the accounts and
// posts a test adds (addUser, addPost), answered as test/fixtures/x/x-lookup-responses.json records them.
// App-only auth as X's OpenAPI document sets it: POST /oauth2/token hands out the app's Bearer token for its consumer
// key and secret, and GET /2/webhooks, POST /2/webhooks/replay and DELETE /2/activity/subscriptions/:id take only that
// token, answering OAuth 1.0a with X's 403 "Unsupported Authentication" (test/fixtures/x/x-ops-responses.json).
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { weightedLength } from '../../shared/x/weighted-length';
import { FakeXPostReads } from './fake-x-reads';
import opsResponses from '../fixtures/x/x-ops-responses.json';

/** One request as the fake received it. `body` is the parsed JSON body, or undefined when absent or not JSON. */
export type RecordedRequest = {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: http.IncomingHttpHeaders;
  body: unknown;
  rawBody: string;
  /** The fake clock's time (epoch ms) when it arrived. */
  at: number;
};

/**
 * A scripted answer. `{status, body, headers}` is sent as JSON (problem+json for 4xx/5xx problem bodies), with the
 * endpoint's current rate-limit headers added unless `headers` sets them; `hang` accepts the request and never
 * answers (until stop); `reset` drops the connection with a TCP RST before any answer. `afterApplying` handles the
 * request as usual (the post is kept) and then answers with its script instead of the real answer: X keeping a post
 * but answering 503, timing out or dropping the connection, the case a reply must never be posted twice after.
 */
export type ScriptedResponse =
  | { status: number; body?: unknown; headers?: Record<string, string> }
  | { hang: true }
  | { reset: true }
  | { afterApplying: { status: number; body?: unknown; headers?: Record<string, string> } | { hang: true } | { reset: true } };

/** Which requests a script applies to: a predicate, or a method and a path (exact string or RegExp). */
export type RequestMatcher = ((request: RecordedRequest) => boolean) | { method?: string; path?: string | RegExp };

export type FakeXCredentials = {
  consumerKey: string;
  consumerSecret: string;
  accessToken: string;
  accessTokenSecret: string;
};

export type FakeXServerOptions = {
  /** The fake's clock (epoch ms): rate-limit windows, resets and `created_at` follow it. Default `Date.now`. */
  now?: () => number;
  /**
   * When set, OAuth 1.0a requests must carry exactly these keys and a valid HMAC-SHA1 signature (401 otherwise);
   * without it the header must merely be well formed. `consumerSecret` also signs the CRC check of webhook URLs.
   */
  credentials?: FakeXCredentials;
  /** The authenticated user when the access token does not start with `<numeric user id>-` as X's tokens do. */
  botUserId?: string;
  /** Per-user limits. Defaults: posts 100 per 15 min and 2,400 per 24 h; DMs 15 per 15 min and 1,440 per 24 h. */
  limits?: Partial<Record<'postsPer15Min' | 'postsPer24Hours' | 'dmsPer15Min' | 'dmsPer24Hours' | 'usersLookupPer15Min', number>>;
  /** X refuses a post whose text the same account already posted (403). Default true. */
  rejectDuplicates?: boolean;
  /** Users whose DMs are closed to the bot: DMs to them get X's 403. */
  dmClosedUserIds?: Iterable<string>;
  /** How many webhooks an app may register (self-serve tiers: 1). */
  maxWebhooks?: number;
  /** X accepts only https webhook URLs; loopback tests register http ones, so this is off unless asked for. */
  requireHttpsWebhooks?: boolean;
  /** Called after a replay job is accepted, so a test can re-deliver what X would. */
  onReplay?: (job: FakeReplayJob) => void | Promise<void>;
  /** The first id handed out; ids then grow by one. Default 1990000000000000001 (above 2^53, like X's). */
  firstId?: bigint;
  /** More of X's endpoints, tried before the fake's own (XChat: test/support/fake-xchat.ts); undefined passes on. */
  extraRoutes?: (request: RecordedRequest, user: string) => Answer | undefined;
};

export type FakePost = { id: string; text: string; authorId: string; inReplyToTweetId?: string; createdAt: string };
export type FakeDm = {
  dmEventId: string;
  dmConversationId: string;
  senderId: string;
  participantId: string;
  text: string;
  createdAt: string;
};
/** An account the look-ups know, as X's v2 user object (the fields a look-up can ask for). */
export type FakeUser = {
  id: string;
  username: string;
  name: string;
  profile_image_url?: string;
  verified_type?: string;
  public_metrics?: { followers_count: number; following_count: number; tweet_count: number; listed_count: number };
  protected?: boolean;
  created_at?: string;
  description?: string;
};
export type FakeWebhook = { id: string; url: string; valid: boolean; created_at: string };
export type FakeSubscription = {
  subscription_id: string;
  event_type: string;
  filter: Record<string, string>;
  tag?: string;
  webhook_id?: string;
  created_at: string;
  updated_at: string;
};
export type FakeReplayJob = { job_id: string; webhook_id: string; from_date: string; to_date: string; created_at: string };

// Problem bodies as X sends them. The first four are the fixture's own (test/unit/x-client.test.ts checks they still
// match test/fixtures/x/x-api-responses.json); the others are marked with where their wording comes from.
const problems = {
  duplicate: {
    detail: 'You are not allowed to create a Tweet with duplicate content.',
    type: 'about:blank',
    title: 'Forbidden',
    status: 403,
  },
  notSummoned: {
    detail:
      'Reply to this conversation is not allowed because you have not been mentioned or otherwise engaged by the author of the post you are replying to.',
    type: 'about:blank',
    title: 'Forbidden',
    status: 403,
  },
  tooLong: {
    detail:
      'Your Tweet text is too long. For more information on how Twitter determines text length see https://github.com/twitter/twitter-text.',
    type: 'about:blank',
    title: 'Bad Request',
    status: 400,
  },
  tooManyRequests: { title: 'Too Many Requests', detail: 'Too Many Requests', type: 'about:blank', status: 429 },
  // Wording of X's v1.1 error 433, the closest documented text for an author who limited who can reply.
  replyRestricted: {
    detail: 'The original Tweet author restricted who can reply to this Tweet.',
    type: 'about:blank',
    title: 'Forbidden',
    status: 403,
  },
  // Wording of X's v1.1 error 349 for a user whose DMs are closed to the sender.
  dmClosed: { detail: 'You cannot send messages to this user.', type: 'about:blank', title: 'Forbidden', status: 403 },
  // As observed in public reports (xdevplatform/xdk#25): a 429 whose type names the monthly usage cap.
  usageCapped: {
    account_id: '1000000000',
    product_name: 'standard-basic',
    title: 'UsageCapExceeded',
    period: 'Monthly',
    scope: 'Product',
    detail: 'Usage cap exceeded: Monthly product cap',
    type: 'https://api.x.com/2/problems/usage-capped',
  },
  unauthorized: { title: 'Unauthorized', type: 'about:blank', status: 401, detail: 'Unauthorized' },
  serviceUnavailable: { title: 'Service Unavailable', detail: 'Service Unavailable', type: 'about:blank', status: 503 },
  notFound: { title: 'Not Found', detail: 'Sorry, that page does not exist.', type: 'about:blank', status: 404 },
  // test/fixtures/x/x-ops-responses.json, where each names its source.
  unsupportedAuthentication: opsResponses['GET /2/webhooks 403 OAuth 1.0a on an app-only endpoint'].body,
  notSummonedAuthorOnly: opsResponses['POST /2/tweets 403 reply not summoned (newer wording)'].body,
  targetDeleted: opsResponses['POST /2/tweets 403 reply target deleted'].body,
  creditsDepleted: opsResponses['ANY 402 credits depleted'].body,
  appTokenRefused: opsResponses['POST /oauth2/token 403 wrong credentials'].body,
} as const;

/** The problem bodies the fake answers with, for assertions. */
export const xProblems = problems;

/** Ready-made scripted answers for the refusals and failures X produces. `reset` is epoch seconds. */
export const xResponses = {
  /** A 429 whose 15-minute window resets at `reset`; with `dailyReset`, the user's 24-hour window is the exhausted one. */
  rateLimited(opts: { reset: number; limit?: number; dailyReset?: number; dailyLimit?: number }): ScriptedResponse {
    const headers: Record<string, string> = {
      'x-rate-limit-limit': String(opts.limit ?? 100),
      'x-rate-limit-remaining': opts.dailyReset === undefined ? '0' : '42',
      'x-rate-limit-reset': String(opts.reset),
    };
    if (opts.dailyReset !== undefined) {
      headers['x-user-limit-24hour-limit'] = String(opts.dailyLimit ?? 2400);
      headers['x-user-limit-24hour-remaining'] = '0';
      headers['x-user-limit-24hour-reset'] = String(opts.dailyReset);
    }
    return { status: 429, body: problems.tooManyRequests, headers };
  },
  /** X's monthly usage cap: a 429 that no waiting within the month fixes. */
  usageCapped: (): ScriptedResponse => ({ status: 429, body: problems.usageCapped }),
  serviceUnavailable: (): ScriptedResponse => ({ status: 503, body: problems.serviceUnavailable }),
  duplicateContent: (): ScriptedResponse => ({ status: 403, body: problems.duplicate }),
  notSummoned: (): ScriptedResponse => ({ status: 403, body: problems.notSummoned }),
  /** The newer wording of the same refusal. */
  notSummonedAuthorOnly: (): ScriptedResponse => ({ status: 403, body: problems.notSummonedAuthorOnly }),
  /** The post replied to is deleted or hidden from the bot. */
  targetDeleted: (): ScriptedResponse => ({ status: 403, body: problems.targetDeleted }),
  /** Pay-per-use credits at zero: a 402 on any call. */
  creditsDepleted: (): ScriptedResponse => ({ status: 402, body: problems.creditsDepleted }),
  replyRestricted: (): ScriptedResponse => ({ status: 403, body: problems.replyRestricted }),
  tooLong: (): ScriptedResponse => ({ status: 400, body: problems.tooLong }),
  dmClosed: (): ScriptedResponse => ({ status: 403, body: problems.dmClosed }),
  unauthorized: (): ScriptedResponse => ({ status: 401, body: problems.unauthorized }),
  hang: (): ScriptedResponse => ({ hang: true }),
  connectionReset: (): ScriptedResponse => ({ reset: true }),
  /** X keeps the post, then answers 503 instead of 201. */
  keptThenServiceUnavailable: (): ScriptedResponse => ({ afterApplying: { status: 503, body: problems.serviceUnavailable } }),
  /** X keeps the post and never answers. */
  keptThenHang: (): ScriptedResponse => ({ afterApplying: { hang: true } }),
};

type Script = { matcher: RequestMatcher; response: ScriptedResponse; remaining: number };
type Window = { resetAt: number; used: number };
type Limit = { perWindow: number; windowMs: number };
type LimitGroup = { key: string; short: Limit; daily?: Limit };
export type Answer = { status: number; body?: unknown; headers?: Record<string, string> };

const FIFTEEN_MINUTES = 15 * 60_000;
const DAY = 24 * 60 * 60_000;
const NUMERIC_ID = /^\d{1,19}$/;

// The operations whose `security` in X's OpenAPI document is [BearerToken] alone: no user context.
function appOnlyEndpoint(request: RecordedRequest): boolean {
  const { method, path } = request;
  return (
    (method === 'GET' && path === '/2/webhooks') ||
    (method === 'POST' && path === '/2/webhooks/replay') ||
    (method === 'DELETE' && /^\/2\/activity\/subscriptions\/[^/]+$/.test(path))
  );
}

/** A fake X API server on 127.0.0.1 (port 0). Start it in beforeAll, stop it in afterAll. */
export class FakeXServer {
  /** Every request received, in order, scripted or not. */
  readonly requests: RecordedRequest[] = [];
  /** Posts X accepted (201). */
  readonly posts: FakePost[] = [];
  /** DMs X accepted (201). */
  readonly dms: FakeDm[] = [];
  readonly subscriptions: FakeSubscription[] = [];
  readonly replayJobs: FakeReplayJob[] = [];
  /** Accounts the users look-up finds, by id (addUser). */
  readonly users = new Map<string, FakeUser>();
  /** Posts the mentions timeline and recent search find (test/support/fake-x-reads.ts): `readable.add(post)`. */
  readonly readable: FakeXPostReads;
  /** The app-only Bearer token POST /oauth2/token hands out: one per app, the same until invalidated, as X does. */
  readonly appBearerToken = `AAAAAAAAAAAAAAAAAAAAA${randomBytes(30).toString('base64url')}`;

  private readonly server: http.Server;
  private readonly options: FakeXServerOptions;
  private readonly now: () => number;
  private readonly queue: Script[] = [];
  private readonly rules: Script[] = [];
  private readonly windows = new Map<string, Window>();
  /** Announced resets (epoch ms) that scripted 429s hold clients to, by `<group>:<user>` (`*` for app-wide). */
  private readonly holds = new Map<string, number>();
  private readonly hung = new Set<http.ServerResponse>();
  private readonly dmClosed: Set<string>;
  private readonly webhookMap = new Map<string, FakeWebhook>();
  private nextId: bigint;
  private baseUrl?: string;

  constructor(options: FakeXServerOptions = {}) {
    this.options = options;
    this.now = options.now ?? Date.now;
    this.nextId = options.firstId ?? 1990000000000000001n;
    this.dmClosed = new Set(options.dmClosedUserIds ?? []);
    this.readable = new FakeXPostReads(this.users, this.now);
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        // A bug in the fake must fail the test loudly, not look like an X outage.
        console.error('fake X server error', error);
        if (!res.headersSent) this.send(res, { status: 500, body: { title: 'Fake X server error', detail: String(error) } });
      });
    });
  }

  /** Listens on 127.0.0.1 and a free port; `url` is the origin to use as X_API_BASE_URL. */
  async start(): Promise<{ url: string }> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = this.server.address() as AddressInfo;
    this.baseUrl = `http://127.0.0.1:${port}`;
    return { url: this.baseUrl };
  }

  /** The origin the fake listens on (after start). */
  get url(): string {
    if (!this.baseUrl) throw new Error('FakeXServer: call start() first');
    return this.baseUrl;
  }

  /** Closes the server, answering nothing more: hung requests and kept-alive connections are dropped. */
  async stop(): Promise<void> {
    for (const res of this.hung) res.destroy();
    this.hung.clear();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  /** The next `n` requests matching `matcher` (default: any) get `response`, ahead of any respondWith rule. */
  failNext(n: number, response: ScriptedResponse, matcher: RequestMatcher = () => true): this {
    this.queue.push({ matcher, response, remaining: n });
    return this;
  }

  /** Requests matching `matcher` get `response` (every time, or `times` times), until clearScripts. */
  respondWith(matcher: RequestMatcher, response: ScriptedResponse, opts: { times?: number } = {}): this {
    this.rules.push({ matcher, response, remaining: opts.times ?? Number.POSITIVE_INFINITY });
    return this;
  }

  /** Drops every pending failNext and respondWith script. */
  clearScripts(): void {
    this.queue.length = 0;
    this.rules.length = 0;
  }

  /** Forgets requests, posts, DMs, webhooks, subscriptions, rate-limit windows and scripts (the id counter goes on). */
  reset(): void {
    this.clearScripts();
    this.requests.length = 0;
    this.posts.length = 0;
    this.dms.length = 0;
    this.subscriptions.length = 0;
    this.replayJobs.length = 0;
    this.webhookMap.clear();
    this.users.clear();
    this.readable.clear();
    this.windows.clear();
    this.holds.clear();
  }

  /** Adds (or replaces) an account the users look-up finds. */
  addUser(user: FakeUser): this {
    this.users.set(user.id, user);
    return this;
  }

  /** Adds a post someone else wrote, for the posts look-up (and the author's timeline). */
  addPost(post: { id: string; text: string; authorId: string; createdAt?: string; inReplyToTweetId?: string }): this {
    this.posts.push({ ...post, createdAt: post.createdAt ?? new Date(this.now()).toISOString() });
    return this;
  }

  /** Webhooks currently registered. */
  get webhooks(): FakeWebhook[] {
    return [...this.webhookMap.values()];
  }

  /** Recorded requests with this method and path (for example to count posts attempted). */
  requestsTo(method: string, path: string | RegExp): RecordedRequest[] {
    return this.requests.filter((r) => matches({ method, path }, r));
  }

  private id(): string {
    const id = this.nextId;
    this.nextId += 1n;
    return id.toString();
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const rawBody = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const request: RecordedRequest = {
      method: (req.method ?? 'GET').toUpperCase(),
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      body: parseJson(rawBody),
      rawBody,
      at: this.now(),
    };
    this.requests.push(request);
    const group = limitGroupFor(request, this.options.limits);

    const taken = this.takeScript(request);
    const applyFirst = taken && 'afterApplying' in taken ? taken.afterApplying : undefined;
    if (applyFirst) {
      const auth = this.authenticate(req, request);
      if (auth.ok) await this.route(request, auth.user);
    }
    const script = applyFirst ?? (taken && !('afterApplying' in taken) ? taken : undefined);
    if (script) {
      if ('hang' in script) {
        this.hung.add(res);
        res.on('close', () => this.hung.delete(res));
        return;
      }
      if ('reset' in script) {
        req.socket.resetAndDestroy();
        return;
      }
      const user = authUser(request, this.options) ?? 'anonymous';
      const headers = group ? this.rateLimitHeaders(group, user, 'count') : {};
      // A scripted 429 announces a window (x-rate-limit-reset, or a 24-hour one): X holds the client to it, so every
      // request of that group before the announced reset is refused too, and an early retry shows.
      if (group && script.status === 429 && script.headers) this.exhaust(group, user, script.headers);
      this.send(res, { ...script, headers: { ...headers, ...script.headers } });
      return;
    }

    // POST /oauth2/token authenticates with the consumer key and secret (HTTP Basic), not with OAuth.
    if (request.method === 'POST' && request.path === '/oauth2/token') {
      this.send(res, this.issueAppToken(request));
      return;
    }
    const auth = this.authenticate(req, request);
    if (!auth.ok) {
      this.send(res, auth.refusal ?? { status: 401, body: problems.unauthorized });
      return;
    }
    if (group) {
      const held = this.heldUntil(group, auth.user);
      if (held !== undefined) {
        const peek = this.rateLimitHeaders(group, auth.user, 'peek');
        this.send(res, { status: 429, body: problems.tooManyRequests, headers: { ...peek, 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': String(held / 1000) } });
        return;
      }
      const headers = this.rateLimitHeaders(group, auth.user, 'check');
      if (!headers) {
        this.send(res, { status: 429, body: problems.tooManyRequests, headers: this.rateLimitHeaders(group, auth.user, 'peek') });
        return;
      }
      const answer = await this.route(request, auth.user);
      this.send(res, { ...answer, headers: { ...headers, ...answer.headers } });
      return;
    }
    this.send(res, await this.route(request, auth.user));
  }

  private takeScript(request: RecordedRequest): ScriptedResponse | undefined {
    for (const list of [this.queue, this.rules]) {
      const index = list.findIndex((s) => s.remaining > 0 && matches(s.matcher, request));
      const script = list[index];
      if (!script) continue;
      script.remaining -= 1;
      if (script.remaining <= 0) list.splice(index, 1);
      return script.response;
    }
    return undefined;
  }

  // X requires user context (OAuth 1.0a here) to post and DM; the management endpoints also take an app bearer.
  private authenticate(
    req: http.IncomingMessage,
    request: RecordedRequest,
  ): { ok: true; user: string } | { ok: false; refusal?: Answer } {
    const header = req.headers.authorization ?? '';
    if (appOnlyEndpoint(request)) {
      if (header.startsWith('OAuth ')) return { ok: false, refusal: { status: 403, body: problems.unsupportedAuthentication } };
      const bearer = /^Bearer (\S+)$/.exec(header)?.[1];
      // With the app's credentials configured, only the token the fake handed out is the app's.
      const known = bearer !== undefined && (!this.options.credentials || bearer === this.appBearerToken);
      return known ? { ok: true, user: 'app' } : { ok: false };
    }
    // GET /2/users and GET /2/tweets take either (X's OpenAPI: UserToken, OAuth2UserToken or BearerToken).
    const userContextOnly =
      (request.method === 'POST' && request.path === '/2/tweets') || request.path.startsWith('/2/dm_conversations/');
    if (!userContextOnly && /^Bearer \S+$/.test(header)) return { ok: true, user: 'app' };
    const oauth = parseOAuthHeader(header);
    if (!oauth) return { ok: false };
    for (const required of ['oauth_consumer_key', 'oauth_token', 'oauth_signature', 'oauth_nonce', 'oauth_timestamp']) {
      if (!oauth[required]) return { ok: false };
    }
    if (oauth.oauth_signature_method !== 'HMAC-SHA1') return { ok: false };
    const creds = this.options.credentials;
    if (creds) {
      if (oauth.oauth_consumer_key !== creds.consumerKey || oauth.oauth_token !== creds.accessToken) return { ok: false };
      const expected = oauthSignature(request, req.headers.host ?? '', oauth, creds);
      if (!constantTimeEqual(expected, oauth.oauth_signature ?? '')) return { ok: false };
    }
    return { ok: true, user: userIdFromToken(oauth.oauth_token ?? '', this.options.botUserId) };
  }

  // POST /oauth2/token (fundamentals/authentication/oauth-2-0/application-only.mdx): Basic auth with the RFC 1738
  // encoded consumer key and secret, form body grant_type=client_credentials; anything else is X's 403 code 99.
  private issueAppToken(request: RecordedRequest): Answer {
    const refused: Answer = { status: 403, body: problems.appTokenRefused };
    const basic = /^Basic (\S+)$/.exec(request.headers.authorization ?? '')?.[1];
    if (!basic || new URLSearchParams(request.rawBody).get('grant_type') !== 'client_credentials') return refused;
    const decoded = Buffer.from(basic, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return refused;
    let key: string;
    let secret: string;
    try {
      [key, secret] = [decodeURIComponent(decoded.slice(0, colon)), decodeURIComponent(decoded.slice(colon + 1))];
    } catch {
      return refused;
    }
    const creds = this.options.credentials;
    if (creds && (key !== creds.consumerKey || secret !== creds.consumerSecret)) return refused;
    return { status: 200, body: { token_type: 'bearer', access_token: this.appBearerToken } };
  }

  /**
   * Holds the client to the windows a 429's headers say are used up (remaining 0), until their announced resets
   * (epoch seconds): the endpoint's 15-minute window and the user's 24-hour one per user, the app's 24-hour one for all.
   */
  private exhaust(group: LimitGroup, user: string, headers: Record<string, string>): void {
    for (const [prefix, holder] of [['x-rate-limit', user], ['x-user-limit-24hour', user], ['x-app-limit-24hour', '*']] as const) {
      const reset = headers[`${prefix}-reset`];
      if (headers[`${prefix}-remaining`] !== '0' || reset === undefined || !/^\d+$/.test(reset)) continue;
      const key = `${group.key}:${holder}`;
      this.holds.set(key, Math.max(this.holds.get(key) ?? 0, Number(reset) * 1000));
    }
  }

  /** The announced reset (epoch ms) a request of this group and user must wait for, if one is still ahead. */
  private heldUntil(group: LimitGroup, user: string): number | undefined {
    const until = Math.max(this.holds.get(`${group.key}:${user}`) ?? 0, this.holds.get(`${group.key}:*`) ?? 0);
    return until > this.now() ? until : undefined;
  }

  /** 'count' uses one request; 'check' does too but returns undefined when a window is exhausted; 'peek' uses none. */
  private rateLimitHeaders(group: LimitGroup, user: string, mode: 'count' | 'check' | 'peek'): Record<string, string> | undefined;
  private rateLimitHeaders(group: LimitGroup, user: string, mode: 'count' | 'peek'): Record<string, string>;
  private rateLimitHeaders(group: LimitGroup, user: string, mode: 'count' | 'check' | 'peek') {
    const now = this.now();
    const windowFor = (name: string, limit: Limit): Window => {
      const key = `${group.key}:${name}:${user}`;
      let window = this.windows.get(key);
      if (!window || now >= window.resetAt) {
        // Resets are whole epoch seconds, as X reports them, so a client waiting until the reset is never early.
        window = { resetAt: Math.ceil((now + limit.windowMs) / 1000) * 1000, used: 0 };
        this.windows.set(key, window);
      }
      return window;
    };
    const short = windowFor('15m', group.short);
    const daily = group.daily ? windowFor('24h', group.daily) : undefined;
    if (mode === 'check' && (short.used >= group.short.perWindow || (daily && group.daily && daily.used >= group.daily.perWindow))) {
      return undefined;
    }
    if (mode !== 'peek') {
      short.used += 1;
      if (daily) daily.used += 1;
    }
    const headers: Record<string, string> = {
      'x-rate-limit-limit': String(group.short.perWindow),
      'x-rate-limit-remaining': String(Math.max(0, group.short.perWindow - short.used)),
      'x-rate-limit-reset': String(short.resetAt / 1000),
    };
    if (daily && group.daily) {
      headers['x-user-limit-24hour-limit'] = String(group.daily.perWindow);
      headers['x-user-limit-24hour-remaining'] = String(Math.max(0, group.daily.perWindow - daily.used));
      headers['x-user-limit-24hour-reset'] = String(daily.resetAt / 1000);
    }
    return headers;
  }

  private async route(request: RecordedRequest, user: string): Promise<Answer> {
    const { method, path } = request;
    const extra = this.options.extraRoutes?.(request, user);
    if (extra) return extra;
    if (method === 'POST' && path === '/2/tweets') return this.createPost(request, user);
    if (method === 'GET' && path === '/2/users') return this.lookUpUsers(request);
    if (method === 'GET' && path === '/2/tweets') return this.lookUpPosts(request);
    const dm = /^\/2\/dm_conversations\/with\/([^/]+)\/messages$/.exec(path);
    if (method === 'POST' && dm) return this.sendDm(request, user, decodeURIComponent(dm[1] ?? ''));
    const timeline = /^\/2\/users\/(\d{1,19})\/tweets$/.exec(path);
    if (method === 'GET' && timeline) return this.userPosts(request, timeline[1] ?? '');
    const dmEvents = /^\/2\/dm_conversations\/with\/(\d{1,19})\/dm_events$/.exec(path);
    if (method === 'GET' && dmEvents) return this.dmEvents(request, user, dmEvents[1] ?? '');
    const mentions = /^\/2\/users\/(\d{1,19})\/mentions$/.exec(path);
    if (method === 'GET' && mentions) return this.readable.mentions(request.query, mentions[1] ?? '');
    if (method === 'GET' && path === '/2/tweets/search/recent') return this.readable.searchRecent(request.query);
    if (path === '/2/webhooks') {
      if (method === 'POST') return this.createWebhook(request);
      if (method === 'GET') {
        const data = this.webhooks;
        return { status: 200, body: data.length ? { data, meta: { result_count: data.length } } : { meta: { result_count: 0 } } };
      }
    }
    if (method === 'POST' && path === '/2/webhooks/replay') return this.replay(request);
    const webhook = /^\/2\/webhooks\/([^/]+)$/.exec(path);
    if (webhook) {
      const id = decodeURIComponent(webhook[1] ?? '');
      if (method === 'PUT') return this.revalidateWebhook(id);
      if (method === 'DELETE') return this.deleteWebhook(id);
    }
    if (path === '/2/activity/subscriptions') {
      if (method === 'POST') return this.subscribe(request);
      if (method === 'GET') {
        return { status: 200, body: { data: this.subscriptions, meta: { result_count: this.subscriptions.length } } };
      }
    }
    const subscription = /^\/2\/activity\/subscriptions\/([^/]+)$/.exec(path);
    if (method === 'DELETE' && subscription) return this.unsubscribe(decodeURIComponent(subscription[1] ?? ''));
    return { status: 404, body: problems.notFound };
  }

  private createPost(request: RecordedRequest, user: string): Answer {
    const body = request.body;
    if (!isObject(body)) return invalidRequest('body', 'The request body must be a JSON object.');
    if (typeof body.text !== 'string' || body.text.length === 0) return invalidRequest('text', 'text must be a non-empty string.');
    let inReplyToTweetId: string | undefined;
    if (body.reply !== undefined) {
      const reply = body.reply;
      if (!isObject(reply) || typeof reply.in_reply_to_tweet_id !== 'string' || !NUMERIC_ID.test(reply.in_reply_to_tweet_id)) {
        return invalidRequest('reply.in_reply_to_tweet_id', 'reply.in_reply_to_tweet_id must be a numeric string.');
      }
      inReplyToTweetId = reply.in_reply_to_tweet_id;
    }
    // X counts with twitter-text; so does the fake.
    if (weightedLength(body.text).weightedLength > 280) return { status: 400, body: problems.tooLong };
    if ((this.options.rejectDuplicates ?? true) && this.posts.some((p) => p.authorId === user && p.text === body.text)) {
      return { status: 403, body: problems.duplicate };
    }
    const id = this.id();
    this.posts.push({
      id,
      text: body.text,
      authorId: user,
      createdAt: new Date(this.now()).toISOString(),
      ...(inReplyToTweetId ? { inReplyToTweetId } : {}),
    });
    return { status: 201, body: { data: { id, text: asXStoresIt(body.text), edit_history_tweet_ids: [id] } } };
  }

  private sendDm(request: RecordedRequest, user: string, participantId: string): Answer {
    if (!NUMERIC_ID.test(participantId)) return invalidRequest('participant_id', 'participant_id must be a numeric string.');
    const body = request.body;
    if (!isObject(body) || typeof body.text !== 'string' || body.text.length === 0) {
      return invalidRequest('text', 'text must be a non-empty string.');
    }
    // DMs are limited to 10,000 characters.
    if ([...body.text].length > 10_000) return invalidRequest('text', 'text is too long (10000 characters at most).');
    if (this.dmClosed.has(participantId)) return { status: 403, body: problems.dmClosed };
    const dmEventId = this.id();
    const [low, high] = [user, participantId].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
    const dmConversationId = `${low}-${high}`;
    const createdAt = new Date(this.now()).toISOString();
    this.dms.push({ dmEventId, dmConversationId, senderId: user, participantId, text: body.text, createdAt });
    return { status: 201, body: { data: { dm_conversation_id: dmConversationId, dm_event_id: dmEventId } } };
  }

  // GET /2/users?ids=: the accounts found, in the order asked, with the fields asked for; the rest in `errors`
  // (still a 200), as X's users look-up answers (x-api/users/lookup/integrate.mdx, "Suspended or deleted users").
  private lookUpUsers(request: RecordedRequest): Answer {
    const ids = lookupIds(request);
    if (!Array.isArray(ids)) return ids;
    const fields = requestedFields(request, 'user.fields', USER_FIELDS);
    if (!Array.isArray(fields)) return fields;
    const data = ids.flatMap((id) => {
      const user = this.users.get(id);
      return user ? [userObject(user, fields)] : [];
    });
    const errors = ids.filter((id) => !this.users.has(id)).map((id) => notFoundError(id, 'user', 'ids'));
    return { status: 200, body: { ...(data.length ? { data } : {}), ...(errors.length ? { errors } : {}) } };
  }

  // GET /2/tweets?ids=: the posts found, `author_id` when asked for in tweet.fields or expanded, and with
  // `expansions=author_id` their authors (those the fake knows) in `includes.users`; unknown ids in `errors`.
  private lookUpPosts(request: RecordedRequest): Answer {
    const ids = lookupIds(request);
    if (!Array.isArray(ids)) return ids;
    const userFields = requestedFields(request, 'user.fields', USER_FIELDS);
    if (!Array.isArray(userFields)) return userFields;
    const tweetFields = requestedFields(request, 'tweet.fields', TWEET_FIELDS);
    if (!Array.isArray(tweetFields)) return tweetFields;
    const expansions = (request.query.expansions ?? '').split(',').filter(Boolean);
    const unknownExpansion = expansions.find((e) => !['author_id', 'referenced_tweets.id', 'attachments.media_keys'].includes(e));
    if (unknownExpansion) return invalidRequest('expansions', `The \`expansions\` query parameter value [${unknownExpansion}] is not one of [author_id, referenced_tweets.id, attachments.media_keys]`);
    const found = ids.flatMap((id) => {
      const post = this.posts.find((p) => p.id === id);
      return post ? [post] : [];
    });
    const data = found.map((p) => ({
      id: p.id,
      text: asXStoresIt(p.text),
      edit_history_tweet_ids: [p.id],
      ...(tweetFields.includes('author_id') || expansions.includes('author_id') ? { author_id: p.authorId } : {}),
      ...(tweetFields.includes('created_at') ? { created_at: p.createdAt } : {}),
    }));
    const authors = expansions.includes('author_id')
      ? [...new Set(found.map((p) => p.authorId))].flatMap((id) => {
          const user = this.users.get(id);
          return user ? [userObject(user, userFields)] : [];
        })
      : [];
    const errors = ids.filter((id) => !found.some((p) => p.id === id)).map((id) => notFoundError(id, 'tweet', 'ids'));
    return {
      status: 200,
      body: {
        ...(data.length ? { data } : {}),
        ...(authors.length ? { includes: { users: authors } } : {}),
        ...(errors.length ? { errors } : {}),
      },
    };
  }

  // GET /2/users/:id/tweets: newest first, `start_time` inclusive, `max_results` 5 to 100, `pagination_token`.
  private userPosts(request: RecordedRequest, userId: string): Answer {
    const since = request.query.start_time === undefined ? undefined : Date.parse(request.query.start_time);
    if (since !== undefined && Number.isNaN(since)) return invalidRequest('start_time', 'start_time must be an ISO 8601 time.');
    const posts = this.posts
      .filter((p) => p.authorId === userId && (since === undefined || Date.parse(p.createdAt) >= since))
      .reverse()
      .map((p) => ({
        id: p.id,
        text: asXStoresIt(p.text),
        edit_history_tweet_ids: [p.id],
        created_at: p.createdAt,
        author_id: p.authorId,
        ...(p.inReplyToTweetId ? { referenced_tweets: [{ type: 'replied_to', id: p.inReplyToTweetId }] } : {}),
      }));
    return page(request, posts, 5);
  }

  // GET /2/dm_conversations/with/:participant_id/dm_events: the one-to-one conversation's messages, newest first.
  private dmEvents(request: RecordedRequest, user: string, participantId: string): Answer {
    const events = this.dms
      .filter((d) => (d.senderId === user && d.participantId === participantId) || (d.senderId === participantId && d.participantId === user))
      .reverse()
      .map((d) => ({
        id: d.dmEventId,
        event_type: 'MessageCreate',
        text: asXStoresIt(d.text),
        sender_id: d.senderId,
        created_at: d.createdAt,
        dm_conversation_id: d.dmConversationId,
      }));
    return page(request, events, 1);
  }

  private async createWebhook(request: RecordedRequest): Promise<Answer> {
    const body = request.body;
    if (!isObject(body) || typeof body.url !== 'string' || body.url.length < 1 || body.url.length > 200) {
      return invalidRequest('url', 'url must be a string of 1 to 200 characters.');
    }
    let target: URL;
    try {
      target = new URL(body.url);
    } catch {
      return webhookProblem('UrlValidationFailed');
    }
    const allowed = this.options.requireHttpsWebhooks ? ['https:'] : ['https:', 'http:'];
    if (!allowed.includes(target.protocol)) return webhookProblem('UrlValidationFailed');
    if (this.webhooks.some((w) => w.url === body.url)) return webhookProblem('DuplicateUrlFailed');
    if (this.webhookMap.size >= (this.options.maxWebhooks ?? 1)) return webhookProblem('WebhookLimitExceeded');
    if (!(await this.crcCheck(body.url))) return webhookProblem('CrcValidationFailed');
    const webhook: FakeWebhook = { id: this.id(), url: body.url, valid: true, created_at: new Date(this.now()).toISOString() };
    this.webhookMap.set(webhook.id, webhook);
    // docs.x.com's reference shows the object bare; X has been observed wrapping it in `data`, as every v2 answer is.
    return { status: 200, body: { data: webhook } };
  }

  private async revalidateWebhook(id: string): Promise<Answer> {
    const webhook = this.webhookMap.get(id);
    if (!webhook) return webhookProblem('WebhookIdInvalid');
    webhook.valid = await this.crcCheck(webhook.url);
    if (!webhook.valid) return webhookProblem('CrcValidationFailed');
    return { status: 200, body: { data: { attempted: true, valid: webhook.valid } } };
  }

  private deleteWebhook(id: string): Answer {
    if (!this.webhookMap.delete(id)) return webhookProblem('WebhookIdInvalid');
    return { status: 200, body: { data: { deleted: true } } };
  }

  private async replay(request: RecordedRequest): Promise<Answer> {
    const body = request.body;
    if (!isObject(body)) return invalidRequest('body', 'The request body must be a JSON object.');
    const { webhook_id: webhookId, from_date: fromDate, to_date: toDate } = body;
    if (typeof webhookId !== 'string' || !this.webhookMap.has(webhookId)) return webhookProblem('WebhookIdInvalid');
    const from = typeof fromDate === 'string' ? parseReplayDate(fromDate) : undefined;
    const to = typeof toDate === 'string' ? parseReplayDate(toDate) : undefined;
    if (from === undefined) return invalidRequest('from_date', 'from_date must be a UTC time in yyyymmddhhmm format.');
    if (to === undefined) return invalidRequest('to_date', 'to_date must be a UTC time in yyyymmddhhmm format.');
    // X keeps 24 hours of deliveries for v2 webhook replay.
    if (from > to || from < this.now() - DAY) {
      return invalidRequest('from_date', 'from_date must not be after to_date nor more than 24 hours ago.');
    }
    // The bounds X's replay documented (from at least 31 minutes, to at least 10 minutes in the past), which the
    // bridge keeps to: a window closer to now is refused.
    if (from > this.now() - 31 * 60_000 || to > this.now() - 10 * 60_000) {
      return invalidRequest('to_date', 'from_date must be at least 31 minutes and to_date at least 10 minutes in the past.');
    }
    const job: FakeReplayJob = {
      job_id: this.id(),
      webhook_id: webhookId,
      from_date: fromDate as string,
      to_date: toDate as string,
      created_at: new Date(this.now()).toISOString(),
    };
    this.replayJobs.push(job);
    await this.options.onReplay?.(job);
    // As docs.x.com shows it: not wrapped in `data`.
    return { status: 200, body: { created_at: job.created_at, job_id: job.job_id } };
  }

  private subscribe(request: RecordedRequest): Answer {
    const body = request.body;
    if (!isObject(body)) return invalidRequest('body', 'The request body must be a JSON object.');
    if (typeof body.event_type !== 'string' || !/^[a-z_]+(\.[a-z_]+)+$/.test(body.event_type)) {
      return invalidRequest('event_type', 'event_type must be an X activity event type such as dm.received.');
    }
    const filter = body.filter;
    if (!isObject(filter) || (typeof filter.user_id !== 'string' && typeof filter.keyword !== 'string')) {
      return invalidRequest('filter', 'filter must name a user_id or a keyword.');
    }
    if (filter.user_id !== undefined && (typeof filter.user_id !== 'string' || !NUMERIC_ID.test(filter.user_id))) {
      return invalidRequest('filter.user_id', 'filter.user_id must be a numeric string.');
    }
    if (body.webhook_id !== undefined && (typeof body.webhook_id !== 'string' || !this.webhookMap.has(body.webhook_id))) {
      return webhookProblem('WebhookIdInvalid');
    }
    if (body.tag !== undefined && (typeof body.tag !== 'string' || body.tag.length < 1 || body.tag.length > 200)) {
      return invalidRequest('tag', 'tag must be a string of 1 to 200 characters.');
    }
    const at = new Date(this.now()).toISOString();
    const subscription: FakeSubscription = {
      subscription_id: this.id(),
      event_type: body.event_type,
      filter: Object.fromEntries(Object.entries(filter).filter((e): e is [string, string] => typeof e[1] === 'string')),
      created_at: at,
      updated_at: at,
      ...(typeof body.tag === 'string' ? { tag: body.tag } : {}),
      ...(typeof body.webhook_id === 'string' ? { webhook_id: body.webhook_id } : {}),
    };
    this.subscriptions.push(subscription);
    return {
      status: 200,
      body: {
        data: { subscription, total_subscriptions_for_instance_id: this.subscriptions.length },
        meta: { total_subscriptions: this.subscriptions.length },
      },
    };
  }

  private unsubscribe(id: string): Answer {
    const index = this.subscriptions.findIndex((s) => s.subscription_id === id);
    if (index < 0) return invalidRequest('subscription_id', `No subscription with id ${id}.`);
    this.subscriptions.splice(index, 1);
    return { status: 200, body: { data: { deleted: true }, meta: { total_subscriptions: this.subscriptions.length } } };
  }

  private async crcCheck(webhookUrl: string): Promise<boolean> {
    const secret = this.options.credentials?.consumerSecret;
    // Without the app's consumer secret the fake cannot check the answer, so it trusts the URL.
    if (!secret) return true;
    const token = randomBytes(24).toString('base64url');
    const target = new URL(webhookUrl);
    target.searchParams.set('crc_token', token);
    try {
      // X gives the CRC GET a few seconds.
      const response = await fetch(target, { signal: AbortSignal.timeout(3_000), redirect: 'manual' });
      if (response.status !== 200) return false;
      const answer: unknown = await response.json();
      const expected = 'sha256=' + createHmac('sha256', secret).update(token).digest('base64');
      return isObject(answer) && answer.response_token === expected;
    } catch {
      return false;
    }
  }

  private send(res: http.ServerResponse, answer: Answer): void {
    const isProblem = answer.status >= 400 && isObject(answer.body) && 'title' in answer.body;
    const payload = answer.body === undefined ? '' : JSON.stringify(answer.body);
    res.writeHead(answer.status, {
      'content-type': isProblem ? 'application/problem+json' : 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(payload),
      ...answer.headers,
    });
    res.end(payload);
  }
}

function limitGroupFor(request: RecordedRequest, limits: FakeXServerOptions['limits'] = {}): LimitGroup | undefined {
  if (request.method === 'POST' && request.path === '/2/tweets') {
    return {
      key: 'tweets',
      short: { perWindow: limits.postsPer15Min ?? 100, windowMs: FIFTEEN_MINUTES },
      daily: { perWindow: limits.postsPer24Hours ?? 2400, windowMs: DAY },
    };
  }
  if (request.method === 'POST' && request.path.startsWith('/2/dm_conversations/')) {
    return {
      key: 'dms',
      short: { perWindow: limits.dmsPer15Min ?? 15, windowMs: FIFTEEN_MINUTES },
      daily: { perWindow: limits.dmsPer24Hours ?? 1440, windowMs: DAY },
    };
  }
  if (request.method === 'GET' && /^\/2\/users\/\d+\/tweets$/.test(request.path)) {
    return { key: 'timeline', short: { perWindow: 900, windowMs: FIFTEEN_MINUTES } };
  }
  // X's per-user limits (x-api/fundamentals/rate-limits.mdx): mentions timeline 300, recent search 300 per 15 min.
  if (request.method === 'GET' && /^\/2\/users\/\d+\/mentions$/.test(request.path)) {
    return { key: 'mentions', short: { perWindow: 300, windowMs: FIFTEEN_MINUTES } };
  }
  if (request.method === 'GET' && request.path === '/2/tweets/search/recent') {
    return { key: 'search_recent', short: { perWindow: 300, windowMs: FIFTEEN_MINUTES } };
  }
  if (request.method === 'GET' && request.path.endsWith('/dm_events')) {
    return { key: 'dm_events', short: { perWindow: 300, windowMs: FIFTEEN_MINUTES } };
  }
  // X's published limits per user (x-api/fundamentals/rate-limits.mdx): users look-up 900, posts look-up 5,000.
  if (request.method === 'GET' && request.path === '/2/users') {
    return { key: 'users_lookup', short: { perWindow: limits.usersLookupPer15Min ?? 900, windowMs: FIFTEEN_MINUTES } };
  }
  if (request.method === 'GET' && request.path === '/2/tweets') {
    return { key: 'posts_lookup', short: { perWindow: 5000, windowMs: FIFTEEN_MINUTES } };
  }
  if (request.path.startsWith('/2/webhooks') || request.path.startsWith('/2/activity/')) {
    return { key: `manage:${request.method}`, short: { perWindow: 50, windowMs: FIFTEEN_MINUTES } };
  }
  return undefined;
}

// X's list answers: `data` only when there is something, `meta.result_count`, and `next_token` while more remain.
function page(request: RecordedRequest, items: unknown[], minResults: number): Answer {
  const max = request.query.max_results === undefined ? 10 : Number(request.query.max_results);
  if (!Number.isInteger(max) || max < minResults || max > 100) {
    return invalidRequest('max_results', `max_results must be between ${minResults} and 100.`);
  }
  const offset = request.query.pagination_token === undefined ? 0 : Number.parseInt(request.query.pagination_token, 36);
  if (!Number.isInteger(offset) || offset < 0) return invalidRequest('pagination_token', 'pagination_token is invalid.');
  const slice = items.slice(offset, offset + max);
  const meta = {
    result_count: slice.length,
    ...(offset + max < items.length ? { next_token: (offset + max).toString(36) } : {}),
  };
  return { status: 200, body: slice.length ? { data: slice, meta } : { meta } };
}

// `user.fields` as X's OpenAPI document enumerates it (a value outside is a 400).
const USER_FIELDS = [
  'confirmed_email', 'connection_status', 'created_at', 'description', 'entities', 'id', 'is_identity_verified',
  'location', 'name', 'parody', 'profile_banner_url', 'profile_image_url', 'protected', 'public_metrics',
  'receives_your_dm', 'subscribes_to_you', 'subscription', 'subscription_type', 'url', 'username', 'verified',
  'verified_followers_count', 'verified_type', 'withheld',
];
// `tweet.fields`: the OpenAPI document of 2026-08 spells some fields the "post" way (note_post,
// edit_history_post_ids) while the data dictionary and X's payloads keep the "tweet" names; both are taken.
const TWEET_FIELDS = [
  'article', 'article_title', 'attachments', 'author_id', 'card_uri', 'community_id', 'context_annotations',
  'conversation_id', 'created_at', 'display_text_range', 'edit_controls', 'edit_history_tweet_ids',
  'edit_history_post_ids', 'entities', 'geo', 'id', 'in_reply_to_user_id', 'lang', 'media_metadata',
  'non_public_metrics', 'note_tweet', 'note_post', 'organic_metrics', 'possibly_sensitive', 'promoted_metrics',
  'public_metrics', 'referenced_tweets', 'reply_settings', 'scopes', 'source', 'text', 'withheld',
];

// `ids`: 1 to 100 comma-separated numeric ids (X's OpenAPI: minItems 1, maxItems 100).
function lookupIds(request: RecordedRequest): string[] | Answer {
  const raw = request.query.ids;
  if (raw === undefined || raw === '') return invalidRequest('ids', 'The `ids` query parameter can not be empty');
  const ids = raw.split(',');
  if (ids.length > 100) {
    return invalidRequest('ids', `The number of values in the \`ids\` query parameter list [${ids.length}] is not between 1 and 100`);
  }
  const bad = ids.find((id) => !NUMERIC_ID.test(id));
  if (bad !== undefined) return invalidRequest('ids', `The \`ids\` query parameter value [${bad}] does not match ^[0-9]{1,19}$`);
  return ids;
}

function requestedFields(request: RecordedRequest, parameter: string, allowed: string[]): string[] | Answer {
  const fields = (request.query[parameter] ?? '').split(',').filter(Boolean);
  const bad = fields.find((f) => !allowed.includes(f));
  if (bad !== undefined) return invalidRequest(parameter, `The \`${parameter}\` query parameter value [${bad}] is not one of [${allowed.join(',')}]`);
  return fields;
}

// A v2 user object: id, name and username always; the other fields only when asked for and known.
function userObject(user: FakeUser, fields: string[]): Record<string, unknown> {
  const object: Record<string, unknown> = { id: user.id, name: user.name, username: user.username };
  for (const field of fields) {
    const value = (user as Record<string, unknown>)[field];
    if (value !== undefined) object[field] = value;
  }
  return object;
}

// One entry of the `errors` array X puts in a 200 for an id it has no resource for.
function notFoundError(id: string, resourceType: 'user' | 'tweet', parameter: string) {
  return {
    value: id,
    detail: `Could not find ${resourceType} with ${parameter}: [${id}].`,
    title: 'Not Found Error',
    resource_type: resourceType,
    parameter,
    resource_id: id,
    type: 'https://api.x.com/2/problems/resource-not-found',
  };
}

function matches(matcher: RequestMatcher, request: RecordedRequest): boolean {
  if (typeof matcher === 'function') return matcher(request);
  if (matcher.method && matcher.method.toUpperCase() !== request.method) return false;
  if (matcher.path === undefined) return true;
  return typeof matcher.path === 'string' ? matcher.path === request.path : matcher.path.test(request.path);
}

function invalidRequest(parameter: string, message: string): Answer {
  return {
    status: 400,
    body: {
      errors: [{ parameters: { [parameter]: [] }, message }],
      title: 'Invalid Request',
      detail: 'One or more parameters to your request was invalid.',
      type: 'https://api.x.com/2/problems/invalid-request',
    },
  };
}

// The reasons are the ones docs.x.com lists for the webhook endpoints; the body around them is assumed to be X's
// usual invalid-request problem.
function webhookProblem(reason: string): Answer {
  return {
    status: 400,
    body: {
      errors: [{ message: reason }],
      title: 'Invalid Request',
      detail: 'One or more parameters to your request was invalid.',
      type: 'https://api.x.com/2/problems/invalid-request',
    },
  };
}

// X hands text back HTML-escaped (&, <, >) and with every link replaced by a t.co link.
function asXStoresIt(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/https?:\/\/\S+/g, (url) => `https://t.co/${createHmac('sha1', 't.co').update(url).digest('base64url').slice(0, 10)}`);
}

function parseReplayDate(value: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi] = m.map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi);
  return new Date(ms).getUTCMonth() === mo - 1 ? ms : undefined;
}

function parseJson(raw: string): unknown {
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function authUser(request: RecordedRequest, options: FakeXServerOptions): string | undefined {
  const oauth = parseOAuthHeader(request.headers.authorization ?? '');
  return oauth?.oauth_token ? userIdFromToken(oauth.oauth_token, options.botUserId) : undefined;
}

// X's user access tokens start with the user's numeric id ("1602999888777666555-AbC…").
function userIdFromToken(token: string, fallback = '1602999888777666555'): string {
  const prefix = /^(\d{1,19})-/.exec(token)?.[1];
  return prefix ?? fallback;
}

function parseOAuthHeader(header: string): Record<string, string> | undefined {
  if (!header.startsWith('OAuth ')) return undefined;
  const params: Record<string, string> = {};
  for (const match of header.slice(6).matchAll(/([\w-]+)="([^"]*)"/g)) {
    params[match[1] as string] = decodeURIComponent(match[2] as string);
  }
  return params;
}

// RFC 5849 percent-encoding (RFC 3986 unreserved characters left as they are).
function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!*'()]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

// RFC 5849 §3.4: the signature covers the method, the base URL the client used, the oauth_* parameters and the query
// (a JSON body is not part of it).
function oauthSignature(
  request: RecordedRequest,
  host: string,
  oauth: Record<string, string>,
  creds: FakeXCredentials,
): string {
  const params = [
    ...Object.entries(oauth).filter(([key]) => key !== 'oauth_signature' && key !== 'realm'),
    ...Object.entries(request.query),
  ]
    .map(([key, value]) => [percentEncode(key), percentEncode(value)] as const)
    .sort(([ka, va], [kb, vb]) => (ka === kb ? (va < vb ? -1 : 1) : ka < kb ? -1 : 1))
    .map(([key, value]) => `${key}=${value}`)
    .join('&');
  const base = [request.method, percentEncode(`http://${host.toLowerCase()}${request.path}`), percentEncode(params)].join('&');
  const key = `${percentEncode(creds.consumerSecret)}&${percentEncode(creds.accessTokenSecret)}`;
  return createHmac('sha1', key).update(base).digest('base64');
}

function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
