// Secondary adapter: the bridge's X client. It posts helpdesk replies as the brand's bot account (public replies and
// DMs) through twitter-api-v2 with OAuth 1.0a user context, and turns everything X can answer into the bridge's error
// vocabulary: RetryableError (with X's rate-limit reset) or PermanentError (with X's own reason and a stable code).
// Ops helpers for webhook registration and X Activity subscriptions share the same client and error mapping, and so
// do the users and posts look-ups that ingest makes through shared/x/x-reads.ts (the only module that may call them).
import type * as Http from 'node:http';
import { createRequire } from 'node:module';
import type * as TwitterApiV2 from 'twitter-api-v2';
import type { ITwitterApiClientPlugin, TwitterApi } from 'twitter-api-v2';
import * as z from 'zod/mini';
import { lazySchema } from '../lazy-schema';
import { ConfigError, PermanentError, RetryableError } from '../errors';
import { logger } from '../logger';
import { unescapeXText } from './text';
import {
  checkedId,
  mapXAnswer,
  parseAnswer,
  parseBaseUrl,
  X_DEFAULT_API_BASE_URL,
  X_DEFAULT_TIMEOUT_MS,
  xIdSchema as xId,
  type XClientOptions,
  type XEndpoint,
} from './x-answers';

export { X_DEFAULT_API_BASE_URL } from './x-answers';
export type { XClientOptions, XCredentials, XRefusalCode } from './x-answers';
// The reads (look-ups, timelines, XChat keys) sign their own GETs without twitter-api-v2; see x-read-client.ts.
export { createXLookups, createXLookupsFor, createXReadClient, X_LOOKUP_USER_FIELDS } from './x-read-client';

/** The port the reply use case depends on. Both calls throw RetryableError or PermanentError, nothing else from X. */
export type XPoster = {
  /** Posts `text` publicly as a reply to the post `inReplyToXId`, with uploaded media; resolves with the new post's id. */
  postReply(input: { text: string; inReplyToXId: string; mediaIds?: string[] }): Promise<{ xId: string }>;
  /** Sends `text` as a DM to the user `participantXUserId`; resolves with the DM event id (`dm_event_id`). */
  sendDm(input: { participantXUserId: string; text: string; mediaIds?: string[] }): Promise<{ xId: string }>;
};

/** Where a reply goes: a public reply to a post, or a DM to a user. */
export type XReplyTarget = { kind: 'post'; inReplyToXId: string } | { kind: 'dm'; participantXUserId: string };

/**
 * XPoster plus the look-up that settles a reply whose last attempt ended without an answer (a crash, a timeout):
 * `findPosted` asks X whether the bot already posted `text` to `target` at or after `since` (ISO time), and resolves
 * with that post's or DM's id, or undefined when X has none. Throws like XPoster.
 */
export type XReplyPoster = XPoster & {
  findPosted(input: { target: XReplyTarget; text: string; since: string }): Promise<{ xId: string } | undefined>;
};

// The origin twitter-api-v2 builds every v2 URL from (globals.js API_V2_PREFIX).
const LIBRARY_ORIGIN = 'https://api.x.com';

const createdPostSchema = lazySchema(() => z.object({ data: z.object({ id: xId }) }));
const sentDmSchema = lazySchema(() => z.object({ data: z.object({ dm_event_id: xId }) }));

const timelineSchema = lazySchema(() => z.object({
  data: z._default(
    z.array(
      z.object({
        id: xId,
        text: z.string(),
        referenced_tweets: z.optional(z.array(z.object({ type: z.string(), id: z.string() }))),
      }),
    ),
    [],
  ),
  meta: z.optional(z.object({ next_token: z.optional(z.string()) })),
}));
const dmEventsSchema = lazySchema(() => z.object({
  data: z._default(
    z.array(
      z.object({
        id: xId,
        text: z.optional(z.string()),
        sender_id: z.optional(z.string()),
        created_at: z.optional(z.string()),
      }),
    ),
    [],
  ),
  meta: z.optional(z.object({ next_token: z.optional(z.string()) })),
}));
// A reply's reconciliation looks back minutes, not days; a few pages of 100 cover it with room to spare.
const MAX_LOOKUP_PAGES = 5;

/**
 * Builds the XPoster that talks to X (or to `apiBaseUrl`, for fakes) as the bot account. Throws ConfigError when
 * `apiBaseUrl` is not an http(s) origin. Ids are validated before any request, so a bad id never reaches X's URL.
 */
export function createXPoster(options: XClientOptions): XPoster {
  return posterOn(createClient(options));
}

function posterOn({ send }: XClient): XPoster {
  return {
    async postReply({ text, inReplyToXId, mediaIds }) {
      // x-api/posts/create-post: `media.media_ids`, the ids media upload answered (up to 4).
      const request = {
        text,
        reply: { in_reply_to_tweet_id: checkedId(inReplyToXId, 'inReplyToXId') },
        ...(mediaIds?.length ? { media: { media_ids: mediaIds.map((id) => checkedId(id, 'mediaIds')) } } : {}),
      };
      const body = await send('post', (v2) => v2.post('tweets', request));
      return { xId: expectId(createdPostSchema, body, 'post').data.id };
    },
    async sendDm({ participantXUserId, text, mediaIds }) {
      const params = { participant_id: checkedId(participantXUserId, 'participantXUserId') };
      const path = 'dm_conversations/with/:participant_id/messages';
      // A DM carries one attachment, `attachments: [{media_id}]` (X's POST /2/dm_conversations/with/:participant_id/messages
      // reference: "only 1 attachment is supported").
      const attachments = mediaIds?.length ? { attachments: [{ media_id: checkedId(mediaIds[0]!, 'mediaIds') }] } : {};
      const body = await send('dm', (v2) => v2.post(path, { text, ...attachments }, { params }));
      return { xId: expectId(sentDmSchema, body, 'DM').data.dm_event_id };
    },
  };
}

/**
 * createXPoster plus findPosted, which reads the bot's timeline (`GET /2/users/:id/tweets`, replies to the target
 * post) or the DM conversation (`GET /2/dm_conversations/with/:id/dm_events`, the bot's messages) since `since`.
 * Texts are compared as X stores them: HTML entities unescaped, NFC, URLs (which X turns into t.co links) ignored.
 */
export function createXReplyPoster(options: XClientOptions & { botUserId: string }): XReplyPoster {
  if (!xId.safeParse(options.botUserId).success) {
    throw new ConfigError('Invalid configuration: X_BOT_USER_ID must be a numeric X user id');
  }
  const client = createClient(options);
  const lookup = { client, botUserId: options.botUserId };
  return {
    ...posterOn(client),
    async findPosted({ target, text, since }) {
      const wanted = { text: comparableText(text), sinceMs: Date.parse(since) };
      return target.kind === 'post'
        ? findReply(lookup, checkedId(target.inReplyToXId, 'inReplyToXId'), wanted)
        : findDm(lookup, checkedId(target.participantXUserId, 'participantXUserId'), wanted);
    },
  };
}

type Lookup = { client: XClient; botUserId: string };
type Wanted = { text: string; sinceMs: number };

// The bot's timeline since `since`, newest first: a reply to the target post with the same text.
async function findReply({ client, botUserId }: Lookup, inReplyToXId: string, wanted: Wanted) {
  // X wants whole seconds; one second early so a post in the same second as `since` is not missed.
  const startTime = Number.isNaN(wanted.sinceMs)
    ? {}
    : { start_time: new Date(wanted.sinceMs - 1000).toISOString().replace(/\.\d{3}Z$/, 'Z') };
  let token: string | undefined;
  for (let page = 0; page < MAX_LOOKUP_PAGES; page += 1) {
    const query = {
      max_results: 100,
      'tweet.fields': 'created_at,referenced_tweets',
      ...startTime,
      ...(token ? { pagination_token: token } : {}),
    };
    const params = { id: botUserId };
    const body = await client.send('lookup', (v2) => v2.get('users/:id/tweets', query, { params }));
    const timeline = parseAnswer(timelineSchema, body, 'timeline');
    const found = timeline.data.find(
      (post) =>
        post.referenced_tweets?.some((ref) => ref.type === 'replied_to' && ref.id === inReplyToXId) &&
        comparableText(post.text) === wanted.text,
    );
    if (found) return { xId: found.id };
    token = timeline.meta?.next_token;
    if (!token) return undefined;
  }
  return undefined;
}

// The one-to-one conversation, newest first (it takes no start time): a message from the bot with the same text.
async function findDm({ client, botUserId }: Lookup, participantXUserId: string, wanted: Wanted) {
  const after = (createdAt: string | undefined) =>
    Number.isNaN(wanted.sinceMs) || Date.parse(createdAt ?? '') >= wanted.sinceMs - 1000;
  let token: string | undefined;
  for (let page = 0; page < MAX_LOOKUP_PAGES; page += 1) {
    const query = {
      max_results: 100,
      event_types: 'MessageCreate',
      'dm_event.fields': 'id,text,event_type,created_at,sender_id',
      ...(token ? { pagination_token: token } : {}),
    };
    const params = { participant_id: participantXUserId };
    const path = 'dm_conversations/with/:participant_id/dm_events';
    const body = await client.send('lookup', (v2) => v2.get(path, query, { params }));
    const events = parseAnswer(dmEventsSchema, body, 'DM events');
    const found = events.data.find(
      (event) =>
        event.sender_id === botUserId && after(event.created_at) && comparableText(event.text ?? '') === wanted.text,
    );
    if (found) return { xId: found.id };
    // Once a page reaches before `since`, older pages cannot hold the reply.
    token = events.data.every((event) => after(event.created_at)) ? events.meta?.next_token : undefined;
    if (!token) return undefined;
  }
  return undefined;
}

// What X keeps of a text, for comparing ours with X's copy.
function comparableText(text: string): string {
  return unescapeXText(text)
    .normalize('NFC')
    .replace(/https?:\/\/\S+/g, '<url>')
    .replace(/\s+/g, ' ')
    .trim();
}


/**
 * XChat's endpoints, signed as the bot account like every other call here (shared/x/xchat-*.ts use them):
 * `GET` / `POST /2/users/:id/public_keys` (x-api/users/get-user-public-keys, x-api/chat/add-public-key) and
 * `POST /2/chat/conversations/:id/messages` (x-api/chat/send-chat-message). Answers are returned as X sent them.
 */
export type XChatClient = {
  getPublicKeys(userId: string): Promise<unknown>;
  addPublicKey(userId: string, body: Record<string, unknown>): Promise<unknown>;
  /** `conversationId`: the recipient's user id, `a-b`, or a `g…` group id (X's path pattern). */
  sendChatMessage(conversationId: string, body: Record<string, unknown>): Promise<unknown>;
};

export function createXChatClient(options: XClientOptions): XChatClient {
  const { send } = createClient(options);
  return {
    getPublicKeys: (userId) => send('read', (v2) => v2.get(`users/${checkedId(userId, 'user id')}/public_keys`)),
    addPublicKey: (userId, body) => send('ops', (v2) => v2.post(`users/${checkedId(userId, 'user id')}/public_keys`, body)),
    sendChatMessage: (conversationId, body) => {
      if (!/^(\d{1,19}|\d{1,19}-\d{1,19}|g\d{1,19})$/.test(conversationId)) {
        throw new PermanentError(`not an XChat conversation id: ${JSON.stringify(conversationId)}`, 'rejected');
      }
      return send('dm', (v2) => v2.post(`chat/conversations/${conversationId}/messages`, body));
    },
  };
}

/** A registered webhook, as X describes it. */
export type XWebhook = { id: string; url: string; valid: boolean; createdAt: string };
/** An X Activity API subscription. */
export type XActivitySubscription = {
  subscriptionId: string;
  eventType: string;
  filter: { user_id?: string; keyword?: string; direction?: string };
  webhookId?: string;
  tag?: string;
};

/** What an ops CLI needs from X: webhook registration, replay and X Activity API subscriptions. */
export type XOpsClient = {
  /** Registers `url`; X CRC-checks it first and refuses (PermanentError `rejected`, X's reason) when that fails. */
  registerWebhook(url: string): Promise<XWebhook>;
  listWebhooks(): Promise<XWebhook[]>;
  /** Asks X to CRC-check the webhook again, which re-enables delivery once it passes. */
  revalidateWebhook(webhookId: string): Promise<void>;
  deleteWebhook(webhookId: string): Promise<void>;
  /** Asks X to re-deliver what it sent (or tried to) between `from` and `to` (X keeps 24 h); resolves with the job. */
  replayWebhook(input: { webhookId: string; from: Date; to: Date }): Promise<{ jobId: string }>;
  subscribe(input: {
    eventType: string;
    userId: string;
    webhookId?: string;
    tag?: string;
  }): Promise<XActivitySubscription>;
  listSubscriptions(): Promise<XActivitySubscription[]>;
  unsubscribe(subscriptionId: string): Promise<void>;
};

const webhookSchema = lazySchema(() => z.object({ id: xId, url: z.string(), valid: z.boolean(), created_at: z.string() }));
const subscriptionSchema = lazySchema(() => z.object({
  subscription_id: z.string(),
  event_type: z.string(),
  filter: z.object({
    user_id: z.optional(z.string()),
    keyword: z.optional(z.string()),
    direction: z.optional(z.string()),
  }),
  webhook_id: z.optional(z.string()),
  tag: z.optional(z.string()),
}));

// X's answer to POST /oauth2/token; X's docs tell apps to check that the token type is `bearer`.
const appTokenSchema = lazySchema(() => z.object({ token_type: z.literal('bearer'), access_token: z.string().check(z.minLength(1)) }));
// X documents three shapes for a created subscription: `data.subscription` (openapi.json
// CreateActivitySubscriptionResponse), the bare `data` and a one-element `data` array (x-api/activity/quickstart.mdx).
const createdSubscriptionSchema = lazySchema(() => z.object({
  data: z.union([z.object({ subscription: subscriptionSchema }), subscriptionSchema, z.tuple([subscriptionSchema])]),
}));

/**
 * Builds the ops client with the same credentials, base URL and error mapping as createXPoster. Each call is signed
 * the way X's OpenAPI document (xdevplatform/docs openapi.json, `security` per operation) allows it:
 * - `GET /2/webhooks`, `POST /2/webhooks/replay` and `DELETE /2/activity/subscriptions/{id}` take only an app-only
 *   Bearer token ([BearerToken]); X answers OAuth 1.0a there with 403 "Unsupported Authentication". The token comes
 *   from the consumer key and secret (`POST /oauth2/token`, grant `client_credentials`,
 *   fundamentals/authentication/oauth-2-0/application-only.mdx), is asked for at the first such call and kept for the
 *   client's life: X hands out one token per app and refuses apps that ask too often (403, code 99).
 * - Registering, re-validating and deleting a webhook and creating or listing subscriptions take user context as
 *   well, and stay on the bot's OAuth 1.0a token: X Activity subscriptions to private events (DMs) require the user.
 *   (x-api/webhooks/introduction.mdx says every webhook endpoint needs the Bearer token; the OpenAPI document, which
 *   X generates its SDK from, lists UserToken for these.)
 */
export function createXOpsClient(options: XClientOptions): XOpsClient {
  const { send, sendAsApp } = createClient(options);
  const ops = <T>(request: (v2: XV2) => Promise<T>) => send('ops', request);
  const appOps = <T>(request: (app: XV2) => Promise<T>) => sendAsApp('ops', request);
  const webhookList = z.object({ data: z._default(z.array(webhookSchema), []) });
  const subscriptionList = z.object({ data: z._default(z.array(subscriptionSchema), []) });
  return {
    async registerWebhook(url) {
      const body = await ops((v2) => v2.post('webhooks', { url }));
      // docs.x.com's reference shows the webhook bare; X has been observed wrapping it in `data`: take either.
      return toWebhook(parseAnswer(webhookSchema, unwrapData(body), 'webhook registration'));
    },
    async listWebhooks() {
      const body = await appOps((app) => app.get('webhooks'));
      return parseAnswer(webhookList, body, 'webhook list').data.map(toWebhook);
    },
    async revalidateWebhook(webhookId) {
      const params = { webhook_id: checkedId(webhookId, 'webhookId') };
      await ops((v2) => v2.put('webhooks/:webhook_id', undefined, { params }));
    },
    async deleteWebhook(webhookId) {
      const params = { webhook_id: checkedId(webhookId, 'webhookId') };
      await ops((v2) => v2.delete('webhooks/:webhook_id', undefined, { params }));
    },
    async replayWebhook({ webhookId, from, to }) {
      const request = {
        webhook_id: checkedId(webhookId, 'webhookId'),
        from_date: replayDate(from),
        to_date: replayDate(to),
      };
      const body = await appOps((app) => app.post('webhooks/replay', request));
      // Shown bare on docs.x.com ({created_at, job_id}); accepted wrapped in `data` too.
      return { jobId: parseAnswer(z.object({ job_id: z.string() }), unwrapData(body), 'replay job').job_id };
    },
    async subscribe({ eventType, userId, webhookId, tag }) {
      const request = {
        event_type: eventType,
        filter: { user_id: checkedId(userId, 'userId') },
        ...(webhookId ? { webhook_id: checkedId(webhookId, 'webhookId') } : {}),
        ...(tag ? { tag } : {}),
      };
      const body = await ops((v2) => v2.post('activity/subscriptions', request));
      const { data } = parseAnswer(createdSubscriptionSchema, body, 'subscription');
      return toSubscription(Array.isArray(data) ? data[0] : 'subscription' in data ? data.subscription : data);
    },
    async listSubscriptions() {
      const body = await ops((v2) => v2.get('activity/subscriptions'));
      return parseAnswer(subscriptionList, body, 'subscription list').data.map(toSubscription);
    },
    async unsubscribe(subscriptionId) {
      const params = { subscription_id: checkedId(subscriptionId, 'subscriptionId') };
      await appOps((app) => app.delete('activity/subscriptions/:subscription_id', undefined, { params }));
    },
  };
}

function toWebhook(w: z.infer<typeof webhookSchema>): XWebhook {
  return { id: w.id, url: w.url, valid: w.valid, createdAt: w.created_at };
}

function toSubscription(s: z.infer<typeof subscriptionSchema>): XActivitySubscription {
  return {
    subscriptionId: s.subscription_id,
    eventType: s.event_type,
    filter: s.filter,
    ...(s.webhook_id ? { webhookId: s.webhook_id } : {}),
    ...(s.tag ? { tag: s.tag } : {}),
  };
}

/** One reply the dry-run sink would have sent. */
export type DryRunRecord = {
  kind: 'post' | 'dm';
  xId: string;
  text: string;
  inReplyToXId?: string;
  participantXUserId?: string;
  at: string;
};

// Dry-run ids are numeric (the bridge stores X ids as digits) but unmistakable: 19 digits starting with 9, a range
// X's time-based ids will not reach for decades, built from the clock so they stay unique across local restarts.
const DRY_RUN_ID = /^9\d{18}$/;

/** True for an id DryRunPoster made up: nothing was posted to X under it. */
export function isDryRunXId(id: string): boolean {
  return DRY_RUN_ID.test(id);
}

/**
 * The XPoster used when no X access token is configured (local mode): it posts nothing, logs that it did not, keeps
 * what it would have sent in `sent`, and answers with made-up ids that isDryRunXId recognises. It never fails.
 */
export class DryRunPoster implements XReplyPoster {
  /** Labels this poster wherever it is inspected. */
  readonly dryRun = true;
  readonly sent: DryRunRecord[] = [];
  private counter = 0;

  constructor(
    private readonly options: {
      /** Where to say what would have been sent. Default: the structured logger (text only at debug level). */
      log?: (record: DryRunRecord) => void;
      now?: () => number;
    } = {},
  ) {}

  async postReply(input: { text: string; inReplyToXId: string }): Promise<{ xId: string; dryRun: true }> {
    return this.record({ kind: 'post', text: input.text, inReplyToXId: input.inReplyToXId });
  }

  async sendDm(input: { participantXUserId: string; text: string }): Promise<{ xId: string; dryRun: true }> {
    return this.record({ kind: 'dm', text: input.text, participantXUserId: input.participantXUserId });
  }

  /** Finds a reply this sink recorded for the target with this text, at or after `since`. */
  async findPosted(input: { target: XReplyTarget; text: string; since: string }): Promise<{ xId: string } | undefined> {
    const since = Date.parse(input.since);
    const found = this.sent.find(
      (r) =>
        r.text === input.text &&
        (Number.isNaN(since) || Date.parse(r.at) >= since) &&
        (input.target.kind === 'post'
          ? r.kind === 'post' && r.inReplyToXId === input.target.inReplyToXId
          : r.kind === 'dm' && r.participantXUserId === input.target.participantXUserId),
    );
    return found ? { xId: found.xId } : undefined;
  }

  private record(what: Omit<DryRunRecord, 'xId' | 'at'>): { xId: string; dryRun: true } {
    const now = (this.options.now ?? Date.now)();
    this.counter = (this.counter + 1) % 100_000;
    const id = `9${String(now).padStart(13, '0').slice(-13)}${String(this.counter).padStart(5, '0')}`;
    const record: DryRunRecord = { ...what, xId: id, at: new Date(now).toISOString() };
    this.sent.push(record);
    if (this.options.log) {
      this.options.log(record);
    } else {
      const { text, ...ids } = record;
      logger.info('DRY RUN: not sent to X (no X access token configured)', { dryRun: true, ...ids });
      logger.debug('DRY RUN text', { xId: id, text });
    }
    return { xId: id, dryRun: true };
  }
}

/**
 * The reply poster for the bridge's X configuration: the real X client when the bot's access token and secret are
 * set, otherwise a DryRunPoster (contract §1: without X_ACCESS_TOKEN replies go to a local dry-run sink).
 */
export function createReplyPoster(
  x: {
    apiKey: string;
    apiSecret: string;
    accessToken?: string;
    accessTokenSecret?: string;
    apiBaseUrl?: string;
    botUserId: string;
  },
  options: { timeoutMs?: number; dryRunLog?: (record: DryRunRecord) => void } = {},
): XReplyPoster {
  if (!x.accessToken || !x.accessTokenSecret) {
    return new DryRunPoster(options.dryRunLog ? { log: options.dryRunLog } : {});
  }
  return createXReplyPoster({
    ...x,
    accessToken: x.accessToken,
    accessTokenSecret: x.accessTokenSecret,
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  });
}

// node:http is required only for a plain-http fake, not imported: an ESM import of it builds its export list, which
// loads Node's fetch implementation (undici, ~20 ms) at every cold start.
const loadHttp = (): typeof Http => createRequire(import.meta.url)('node:http') as typeof Http;

type Library = typeof TwitterApiV2;
type XV2 = TwitterApi['v2'];

let library: Promise<Library> | undefined;
/**
 * twitter-api-v2 (about 90 KB of the reply bundle) is evaluated at the first request to X, not at init: a cold start
 * that only settles a queued reply or finds X's rate limit not yet reset never needs it (bench: initToSdkFloor).
 */
function loadLibrary(): Promise<Library> {
  library ??= import('twitter-api-v2').catch((error: unknown) => {
    library = undefined;
    throw error;
  });
  return library;
}

type XClient = {
  /** Runs one request as the bot (OAuth 1.0a), turning whatever the library throws into the bridge's vocabulary. */
  send<T>(endpoint: XEndpoint, request: (v2: XV2) => Promise<T>): Promise<T>;
  /**
   * The same with the app-only Bearer token, asked for at the first such call (one request) and kept for the client's
   * life; a refused or failed token request is not kept, so the next call asks again.
   */
  sendAsApp<T>(endpoint: XEndpoint, request: (app: XV2) => Promise<T>): Promise<T>;
};

function createClient(options: XClientOptions): XClient {
  const base = parseBaseUrl(options.apiBaseUrl ?? X_DEFAULT_API_BASE_URL);
  const timeoutMs = options.timeoutMs ?? X_DEFAULT_TIMEOUT_MS;
  // twitter-api-v2 has no base-URL option: rewrite every URL it builds before it signs and sends it, so the OAuth
  // signature covers the URL actually requested.
  const redirect: ITwitterApiClientPlugin = {
    onBeforeRequestConfig({ params }) {
      if (base !== LIBRARY_ORIGIN && params.url.startsWith(LIBRARY_ORIGIN + '/')) {
        params.url = base + params.url.slice(LIBRARY_ORIGIN.length);
      }
      params.timeout ??= timeoutMs;
    },
  };
  const tokens = {
    appKey: options.apiKey,
    appSecret: options.apiSecret,
    accessToken: options.accessToken,
    accessSecret: options.accessTokenSecret,
  };
  const settings = {
    plugins: [redirect],
    // The library always calls https.request; only an explicit http.Agent lets it speak plain http to a fake.
    ...(base.startsWith('http:') ? { httpAgent: new (loadHttp().Agent)({ keepAlive: true }) } : {}),
  };
  const secrets = Object.values(tokens).filter((s) => s.length >= 4);
  const redact = (text: string) => secrets.reduce((out, secret) => out.split(secret).join('[redacted]'), text);
  const run = async <T>(lib: Library, endpoint: XEndpoint, request: () => Promise<T>): Promise<T> => {
    try {
      return await request();
    } catch (error) {
      throw mapXError(lib, error, endpoint, redact);
    }
  };
  let user: XV2 | undefined;
  let app: Promise<XV2> | undefined;
  const appOnly = async (lib: Library): Promise<XV2> => {
    // What twitter-api-v2's appLogin() does (Basic auth with the consumer key and secret, grant client_credentials),
    // plus the token-type check X's docs ask for; the redirect plugin sends it to the configured origin too.
    const basic = new lib.TwitterApi({ username: options.apiKey, password: options.apiSecret }, settings);
    const body = await run(lib, 'token', () => basic.post(`${LIBRARY_ORIGIN}/oauth2/token`, { grant_type: 'client_credentials' }));
    const { access_token: bearer } = parseAnswer(appTokenSchema, body, 'app-only token');
    secrets.push(bearer);
    return new lib.TwitterApi(bearer, settings).v2;
  };
  return {
    async send(endpoint, request) {
      const lib = await loadLibrary();
      const v2 = (user ??= new lib.TwitterApi(tokens, settings).v2);
      return run(lib, endpoint, () => request(v2));
    },
    async sendAsApp(endpoint, request) {
      const lib = await loadLibrary();
      app ??= appOnly(lib).catch((error: unknown) => {
        app = undefined;
        throw error;
      });
      const v2 = await app;
      return run(lib, endpoint, () => request(v2));
    },
  };
}

// A 2xx without the id means X's answer was cut or changed shape. The post may exist, so this is not a refusal; the
// retry that follows either succeeds or meets X's duplicate-content refusal, and the webhook echo still finds the post.
function expectId<T>(schema: z.ZodMiniType<T>, body: unknown, what: string): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new RetryableError(`X accepted the ${what} but its answer carried no id`);
  return parsed.data;
}


function unwrapData(body: unknown): unknown {
  return typeof body === 'object' && body !== null && 'data' in body ? (body as { data: unknown }).data : body;
}

// X's replay window bounds: UTC, yyyymmddhhmm.
function replayDate(date: Date): string {
  return date.toISOString().replace(/[-T:]/g, '').slice(0, 12);
}

/**
 * Maps what twitter-api-v2 throws to the bridge's vocabulary, keyed on HTTP status, X's problem `type` and `detail`
 * (never on the library's v2 error enum, which does not match real v2 bodies). Anything that is not an X answer or a
 * transport failure (a bug) is returned unchanged.
 */
function mapXError(lib: Library, error: unknown, endpoint: XEndpoint, redact: (text: string) => string): unknown {
  if (error instanceof lib.ApiResponseError) {
    return mapXAnswer({ status: error.code, data: error.data, headers: error.headers }, endpoint, redact);
  }
  if (error instanceof lib.ApiPartialResponseError) {
    const status = error.response.statusCode ?? '?';
    return new RetryableError(`X closed the connection in the middle of its answer (HTTP ${status})`);
  }
  if (error instanceof lib.ApiRequestError) {
    // Never attach the library error as a cause: it holds the request, whose headers carry the OAuth token.
    // twitter-api-v2 1.29 stores the socket error as `_options.error` but its `requestError` getter reads
    // `_options.requestError` (always undefined), so read the stored one first.
    const stored = (error as unknown as { _options?: { error?: unknown } })._options?.error;
    const cause = (stored ?? error.requestError) as NodeJS.ErrnoException | undefined;
    if (cause?.message === 'Request timeout.') {
      // X may have received and applied the request: the caller's retry must be safe against a duplicate.
      return new RetryableError('X did not answer in time (the request may or may not have been applied)');
    }
    const reason = cause?.code ? `${cause.code}: ${cause.message}` : (cause?.message ?? 'request failed');
    return new RetryableError(redact(`X could not be reached (${reason})`));
  }
  return error;
}
