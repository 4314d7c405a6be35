// Use cases of the X ops CLI (`npm run x`): register the bridge's webhook with X, subscribe the bot's X Activity events
// to it, show and repair its state, and ask X to replay what it delivered. Each command takes the X ops client
// (shared/x/x-client.ts) and an output sink, and resolves with an exit code; argv, credentials and error printing are
// x-program.ts's business. Commands throw the client's errors (PermanentError, RetryableError) and the CLI's own
// (UsageError, CommandFailure); explainXError turns the X ones into what a person should do.
import { ConfigError, PermanentError, RetryableError } from '../../shared/errors';
import { X_DEFAULT_API_BASE_URL, type XActivitySubscription, type XOpsClient, type XWebhook } from '../../shared/x/x-client';
import { CommandFailure, EXIT, UsageError, type ExitCode, type Output } from './cli-support';

/** What every X command runs with. */
export type XCommandContext = {
  x: XOpsClient;
  out: Output;
  now?: () => Date;
  /** The bot account whose events `subscribe` asks for and `status` checks. */
  botUserId?: string;
  /** Labels the subscriptions (X echoes the tag in every delivery). */
  brand?: string;
  /** How next-step hints spell the CLI, e.g. `npm run x -- --brand acme`. */
  cli?: string;
  /** The X API origin in use: webhook URLs must be https on X itself, loopback fakes take http. */
  apiBaseUrl?: string;
  /** Where the credentials came from ("the environment", "secret support-bridge/acme (eu-west-1)"), for `status`. */
  credentialsSource?: string;
};

/** An X Activity event type the bridge handles, and why the bot subscribes to it. */
export type BotEventType = { eventType: string; why: string; required: boolean };

/**
 * The bot's X Activity subscriptions. The first four are the events contract §3 turns into tickets. The bot's own
 * posts and DMs are not tickets, but the bridge needs them too: a reply it posted is matched to its reply record, and
 * one the brand posted by hand inside a ticket's thread is recorded there as outbound (contract §3 rule 5).
 */
export const BOT_EVENT_TYPES: readonly BotEventType[] = [
  { eventType: 'post.mention.create', why: 'posts that mention the bot', required: true },
  { eventType: 'post.reply.create', why: 'direct replies to the bot’s posts', required: true },
  { eventType: 'post.quote.create', why: 'quotes of the bot’s posts', required: true },
  { eventType: 'dm.received', why: 'DMs to the bot', required: true },
  { eventType: 'post.create', why: 'the bot’s own posts (reply echoes, replies posted by hand)', required: false },
  { eventType: 'dm.sent', why: 'the bot’s own DMs (reply echoes, DMs sent by hand)', required: false },
  // XChat, X's end-to-end encrypted DMs (x-api/activity/event-payloads.mdx): read once `chat-setup` ran.
  { eventType: 'chat.received', why: 'XChat messages to the bot', required: false },
  { eventType: 'chat.sent', why: 'the bot’s own XChat messages (reply echoes)', required: false },
];

/** How long X keeps deliveries for `POST /2/webhooks/replay`. */
export const REPLAY_WINDOW_HOURS = 24;
/**
 * How old the window's ends must be: X's replay documented `from` at least 31 minutes and `to` at least 10 minutes
 * before now (deliveries still being retried are not replayed). The v2 reference states no bound, so the CLI keeps to
 * the documented one rather than have X refuse or cut a job.
 */
export const REPLAY_FROM_MIN_AGE_MINUTES = 31;
export const REPLAY_TO_MIN_AGE_MINUTES = 10;
/** One sentence for the person running `replay`: which window X accepts. */
export const REPLAY_BOUNDS =
  `X replays deliveries from the last ${REPLAY_WINDOW_HOURS} hours, from at least ${REPLAY_FROM_MIN_AGE_MINUTES} minutes ` +
  `to at least ${REPLAY_TO_MIN_AGE_MINUTES} minutes before now`;
const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;
const EVENT_TYPE = /^[a-z_]+(\.[a-z_]+)+$/;

function cli(ctx: XCommandContext): string {
  return ctx.cli ?? 'npm run x --';
}

/**
 * `register <webhook-url>`: asks X to register the URL. X CRC-checks it first (GET with a crc_token, answered with the
 * app's consumer secret), so this only succeeds once the stack is deployed and its secret filled.
 */
export async function registerCommand(ctx: XCommandContext, webhookUrl: string): Promise<ExitCode> {
  const url = checkedWebhookUrl(webhookUrl, ctx.apiBaseUrl ?? X_DEFAULT_API_BASE_URL);
  if (!new URL(url).pathname.endsWith('/x/webhook')) {
    ctx.out.error(`note: ${url} does not end in /x/webhook, the path where the bridge answers X (see the stack's WebhookUrl output)`);
  }
  const webhook = await ctx.x.registerWebhook(url);
  ctx.out.line(`Registered webhook ${webhook.id} for ${webhook.url}: ${webhook.valid ? 'valid (X checked its CRC answer)' : 'NOT valid'}`);
  ctx.out.line(`Next: ${cli(ctx)} subscribe --webhook-id ${webhook.id}`);
  return webhook.valid ? EXIT.ok : EXIT.failure;
}

/**
 * `subscribe [--webhook-id ID] [--events a,b]`: subscribes the bot's events (BOT_EVENT_TYPES unless `eventTypes`) to
 * the webhook (the app's only one unless named). Idempotent: an event type already subscribed for the bot on that
 * webhook is left as it is. Goes on past a refused event type and fails at the end, naming each refusal.
 */
export async function subscribeCommand(
  ctx: XCommandContext,
  options: { webhookId?: string; eventTypes?: string[] } = {},
): Promise<ExitCode> {
  const botUserId = ctx.botUserId;
  if (!botUserId) {
    throw new ConfigError('X_BOT_USER_ID is not set: export the bot account’s numeric X user id, or pass --brand <brand>');
  }
  const eventTypes = options.eventTypes ?? BOT_EVENT_TYPES.map((e) => e.eventType);
  const badType = eventTypes.find((t) => !EVENT_TYPE.test(t));
  if (badType !== undefined) throw new UsageError(`--events: "${badType}" is not an X Activity event type such as dm.received`);
  const webhookId = options.webhookId ?? (await soleWebhook(ctx, 'subscribe --webhook-id <id>')).id;
  const existing = await ctx.x.listSubscriptions();
  ctx.out.line(`Subscribing the bot (user ${botUserId}) to webhook ${webhookId}:`);
  const width = Math.max(...eventTypes.map((t) => t.length));
  let failures = 0;
  for (const eventType of eventTypes) {
    const label = `  ${eventType.padEnd(width)}  `;
    const already = existing.find(
      (s) => s.eventType === eventType && s.filter.user_id === botUserId && s.webhookId === webhookId,
    );
    if (already) {
      ctx.out.line(`${label}already subscribed (subscription ${already.subscriptionId})`);
      continue;
    }
    try {
      const created = await ctx.x.subscribe({ eventType, userId: botUserId, webhookId, tag: subscriptionTag(ctx.brand) });
      ctx.out.line(`${label}subscribed (subscription ${created.subscriptionId})`);
    } catch (error) {
      if (!(error instanceof PermanentError || error instanceof RetryableError)) throw error;
      failures += 1;
      ctx.out.line(`${label}FAILED`);
      for (const line of explainXError(error, { eventType })) ctx.out.error(`    ${line}`);
    }
  }
  if (failures > 0) {
    ctx.out.error(`${failures} of ${eventTypes.length} subscriptions failed; fix the cause above and run subscribe again.`);
    return EXIT.failure;
  }
  return EXIT.ok;
}

/**
 * `status`: the app's webhooks (with X's valid flag) and X Activity subscriptions, then what needs doing. Exit code 1
 * when something stops delivery: no webhook, an invalid one, a subscription pointing nowhere, or a contract event the
 * bot is not subscribed to.
 */
export async function statusCommand(ctx: XCommandContext): Promise<ExitCode> {
  const [webhooks, subscriptions] = await Promise.all([ctx.x.listWebhooks(), ctx.x.listSubscriptions()]);
  const { out } = ctx;
  const problems: string[] = [];
  const notes: string[] = [];

  if (ctx.credentialsSource) out.line(`X API ${ctx.apiBaseUrl ?? X_DEFAULT_API_BASE_URL}, credentials from ${ctx.credentialsSource}`);
  out.line(`Webhooks (${webhooks.length}):`);
  if (webhooks.length === 0) out.line('  none');
  for (const w of webhooks) {
    out.line(`  ${w.id}  ${w.valid ? 'valid  ' : 'INVALID'}  ${w.url}  (registered ${w.createdAt})`);
    if (!w.valid) {
      problems.push(
        `webhook ${w.id} is invalid: X stopped delivering to it. Make ${w.url} answer X's CRC (stack deployed, ` +
          `X_API_SECRET in the secret is the app's consumer secret), then: ${cli(ctx)} revalidate ${w.id}`,
      );
    }
  }
  if (webhooks.length === 0) problems.push(`no webhook is registered: ${cli(ctx)} register <the stack's WebhookUrl output>`);

  out.line('');
  out.line(`X Activity subscriptions (${subscriptions.length}):`);
  if (subscriptions.length === 0) out.line('  none');
  const width = Math.max(0, ...subscriptions.map((s) => s.eventType.length));
  for (const s of subscriptions) out.line(`  ${describeSubscription(s, width)}`);
  const known = new Set(webhooks.map((w) => w.id));
  for (const s of subscriptions.filter((s) => s.webhookId !== undefined && !known.has(s.webhookId))) {
    problems.push(
      `subscription ${s.subscriptionId} (${s.eventType}) delivers to webhook ${s.webhookId}, which is not registered: ` +
        `${cli(ctx)} unsubscribe ${s.subscriptionId}, then subscribe again`,
    );
  }

  if (ctx.botUserId) {
    const botUserId = ctx.botUserId;
    const delivering = (eventType: string) =>
      subscriptions.some(
        (s) => s.eventType === eventType && s.filter.user_id === botUserId && s.webhookId !== undefined && known.has(s.webhookId),
      );
    const missing = BOT_EVENT_TYPES.filter((e) => !delivering(e.eventType));
    const required = missing.filter((e) => e.required).map((e) => e.eventType);
    const optional = missing.filter((e) => !e.required).map((e) => e.eventType);
    if (required.length > 0 && webhooks.length > 0) {
      problems.push(
        `the bot (user ${botUserId}) is not subscribed to ${required.join(', ')} on a registered webhook: ${cli(ctx)} subscribe`,
      );
    }
    if (optional.length > 0 && webhooks.length > 0) {
      notes.push(
        `the bot is not subscribed to ${optional.join(', ')}: its own posts and DMs will not be recorded (${cli(ctx)} subscribe adds them)`,
      );
    }
  } else {
    notes.push('X_BOT_USER_ID is not set (or --brand not given): the bot’s subscriptions were not checked');
  }

  out.line('');
  for (const note of notes) out.line(`Note: ${note}`);
  if (problems.length === 0) {
    out.line('OK: X delivers the bot’s events to a valid webhook.');
    return EXIT.ok;
  }
  out.line('Needs attention:');
  for (const problem of problems) out.line(`  - ${problem}`);
  return EXIT.failure;
}

/** `revalidate [webhook-id]`: asks X to CRC-check the webhook again (which re-enables delivery once it passes). */
export async function revalidateCommand(ctx: XCommandContext, webhookId?: string): Promise<ExitCode> {
  const id = webhookId ?? (await soleWebhook(ctx, 'revalidate <webhook-id>')).id;
  await ctx.x.revalidateWebhook(id);
  const webhook = (await ctx.x.listWebhooks()).find((w) => w.id === id);
  if (webhook?.valid) {
    ctx.out.line(`Webhook ${id} is valid: X re-checked the CRC answer of ${webhook.url} and delivers to it.`);
    return EXIT.ok;
  }
  throw new CommandFailure(
    `X accepted the re-check but does not list webhook ${id} as valid${webhook ? '' : ' (it is not registered any more)'}: ` +
      `${cli(ctx)} status`,
  );
}

/** `delete <webhook-id>`: deletes the webhook; names the subscriptions that still point at it. */
export async function deleteCommand(ctx: XCommandContext, webhookId: string): Promise<ExitCode> {
  await ctx.x.deleteWebhook(webhookId);
  ctx.out.line(`Deleted webhook ${webhookId}: X delivers nothing more to it.`);
  const orphans = (await ctx.x.listSubscriptions()).filter((s) => s.webhookId === webhookId);
  if (orphans.length > 0) {
    ctx.out.line(
      `${orphans.length} subscription(s) still name it (${orphans.map((s) => s.subscriptionId).join(', ')}): after registering ` +
        `a new webhook, \`${cli(ctx)} subscribe\` subscribes the bot to it; remove these with \`${cli(ctx)} unsubscribe <id>\`.`,
    );
  }
  return EXIT.ok;
}

/** `unsubscribe <subscription-id>`: deletes one X Activity subscription. */
export async function unsubscribeCommand(ctx: XCommandContext, subscriptionId: string): Promise<ExitCode> {
  await ctx.x.unsubscribe(subscriptionId);
  ctx.out.line(`Deleted subscription ${subscriptionId}.`);
  return EXIT.ok;
}

/** The options `replay` takes: the last `hours`, or `from` (and optionally `to`) as ISO times with a zone. */
export type ReplayOptions = { webhookId?: string; hours?: number; from?: string; to?: string };

/**
 * The window to ask X to replay, in whole UTC minutes (X's `yyyymmddhhmm`), inside the bounds X accepts (REPLAY_BOUNDS).
 * `hours` (1 to 24, default 24) reaches back that far from now and ends 10 minutes before now; its start is rounded up
 * to a whole minute so it never reaches past X's 24 hours. `from`/`to` must be ISO times with a zone, `from` not before
 * now − 24 h nor after now − 31 min, `to` (default now − 10 min) not after now − 10 min. Throws UsageError saying what
 * is wrong.
 */
export function replayWindow(options: ReplayOptions, now: Date): { from: Date; to: Date } {
  const nowMs = now.getTime();
  const oldest = ceilToMinute(nowMs - REPLAY_WINDOW_HOURS * HOUR_MS);
  const newestFrom = floorToMinute(nowMs - REPLAY_FROM_MIN_AGE_MINUTES * MINUTE_MS);
  const newestTo = floorToMinute(nowMs - REPLAY_TO_MIN_AGE_MINUTES * MINUTE_MS);
  if (options.hours !== undefined && (options.from !== undefined || options.to !== undefined)) {
    throw new UsageError('give either --hours or --from/--to, not both');
  }
  if (options.from === undefined) {
    if (options.to !== undefined) throw new UsageError('--to needs --from');
    const hours = options.hours ?? REPLAY_WINDOW_HOURS;
    if (!Number.isInteger(hours) || hours < 1 || hours > REPLAY_WINDOW_HOURS) {
      throw new UsageError(
        `X keeps only the last ${REPLAY_WINDOW_HOURS} hours of deliveries: --hours must be a whole number from 1 to ${REPLAY_WINDOW_HOURS}`,
      );
    }
    return { from: new Date(ceilToMinute(nowMs - hours * HOUR_MS)), to: new Date(newestTo) };
  }
  const from = floorToMinute(parseIsoTime(options.from, '--from'));
  const to = options.to === undefined ? newestTo : floorToMinute(parseIsoTime(options.to, '--to'));
  if (from < oldest) {
    throw new UsageError(
      `X keeps only the last ${REPLAY_WINDOW_HOURS} hours of deliveries: --from must be at or after ${isoMinute(oldest)} ` +
        `(deliveries before that cannot be replayed)`,
    );
  }
  if (from > newestFrom) {
    throw new UsageError(`${REPLAY_BOUNDS}: --from must be at or before ${isoMinute(newestFrom)} (now is ${now.toISOString()})`);
  }
  if (to > newestTo) {
    throw new UsageError(`${REPLAY_BOUNDS}: --to must be at or before ${isoMinute(newestTo)} (now is ${now.toISOString()})`);
  }
  if (from > to) throw new UsageError('--from must not be after --to');
  return { from: new Date(from), to: new Date(to) };
}

/**
 * `replay [--hours N | --from ISO [--to ISO]] [--webhook-id ID]`: asks X to re-deliver what it sent (or tried to) in
 * the window to the webhook. The bridge stores each X item once, so items it already has make nothing new.
 */
export async function replayCommand(ctx: XCommandContext, options: ReplayOptions): Promise<ExitCode> {
  const window = replayWindow(options, (ctx.now ?? (() => new Date()))());
  const webhookId = options.webhookId ?? (await soleWebhook(ctx, 'replay --webhook-id <id>')).id;
  const { jobId } = await ctx.x.replayWebhook({ webhookId, ...window });
  ctx.out.line(
    `Asked X to replay deliveries to webhook ${webhookId} from ${isoMinute(window.from.getTime())} to ` +
      `${isoMinute(window.to.getTime())} (UTC, whole minutes): replay job ${jobId}.`,
  );
  ctx.out.line(`${REPLAY_BOUNDS}, so the last ${REPLAY_TO_MIN_AGE_MINUTES} minutes are not part of it.`);
  ctx.out.line('X re-sends them over the next minutes; the bridge stores each X item once, so what it already has makes nothing new.');
  return EXIT.ok;
}

/**
 * What a person should do about an error from the X ops client, as lines of text. Uses X's reason codes for the
 * webhook endpoints (docs.x.com: CrcValidationFailed, UrlValidationFailed, DuplicateUrlFailed, WebhookLimitExceeded,
 * WebhookIdInvalid) and the client's refusal codes; never echoes a credential (the client redacts them).
 */
export function explainXError(error: unknown, context: { cli?: string; eventType?: string } = {}): string[] {
  const prefix = context.cli ?? 'npm run x --';
  if (error instanceof ConfigError || error instanceof UsageError || error instanceof CommandFailure) return [error.message];
  if (error instanceof RetryableError) {
    if (error.notBefore !== undefined) {
      return [`X rate limit reached: try again after ${new Date(error.notBefore).toISOString()}.`, `(${error.message})`];
    }
    // A timeout may hide a request X applied: status tells before a retry registers or subscribes twice.
    return [`${error.message}.`, `Try again in a minute (${prefix} status first shows whether it was applied); check X_API_BASE_URL if it persists.`];
  }
  if (!(error instanceof PermanentError)) return [error instanceof Error ? error.message : String(error)];
  const reason = error.message;
  if (/CrcValidationFailed/.test(reason)) {
    return [
      "X could not verify the webhook (its CRC check failed): is the stack deployed, is the URL the stack's WebhookUrl " +
        "output, and is the secret's X_API_SECRET the app's consumer secret?",
      `(X said: ${reason})`,
    ];
  }
  if (/UrlValidationFailed/.test(reason)) {
    return [
      'X refused the URL: it must be a public https:// URL of at most 200 characters (the stack’s WebhookUrl output).',
      `(X said: ${reason})`,
    ];
  }
  if (/DuplicateUrlFailed/.test(reason)) {
    return [`X already has this URL registered for the app: ${prefix} status shows it (revalidate it if it is invalid).`];
  }
  if (/WebhookLimitExceeded/.test(reason)) {
    return [
      `The X app already has as many webhooks as its access tier allows: ${prefix} status lists them; ` +
        `${prefix} delete <webhook-id> removes one.`,
    ];
  }
  if (/WebhookIdInvalid/.test(reason)) return [`X knows no such webhook for this app: ${prefix} status lists the app's webhooks.`];
  if (error.code === 'unauthorized') {
    return [
      'X refused the credentials: X_API_KEY/X_API_SECRET must be the app’s consumer key and secret, and ' +
        'X_ACCESS_TOKEN/X_ACCESS_TOKEN_SECRET the bot account’s token for that same app, with read and write permissions.',
      `(X said: ${reason})`,
    ];
  }
  if (error.code === 'credits_depleted') {
    return [`The X app has no pay-per-use credits left: add credits in X's Developer Console, then run this again. (X said: ${reason})`];
  }
  if (error.code === 'usage_capped') {
    return [`The X app has reached its monthly usage cap: nothing more until the cap resets or the plan changes. (X said: ${reason})`];
  }
  if (context.eventType?.startsWith('dm.')) {
    return [
      `X refused: ${reason}`,
      'DM events are private: the bot’s access token must come from the bot account authorising this app with the ' +
        'Direct Messages permission (regenerate it after changing the app’s permissions).',
    ];
  }
  return [`X refused: ${reason}`];
}

/** The app's only webhook; a CommandFailure when it has none, a UsageError naming them when it has several. */
async function soleWebhook(ctx: XCommandContext, usage: string): Promise<XWebhook> {
  const webhooks = await ctx.x.listWebhooks();
  const [first] = webhooks;
  if (!first) throw new CommandFailure(`no webhook is registered for this X app: ${cli(ctx)} register <the stack's WebhookUrl output>`);
  if (webhooks.length > 1) {
    const ids = webhooks.map((w) => w.id).join(', ');
    throw new UsageError(`the X app has ${webhooks.length} webhooks (${ids}): say which, ${cli(ctx)} ${usage}`);
  }
  return first;
}

function checkedWebhookUrl(value: string, apiBaseUrl: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`"${value}" is not a URL: give the stack's WebhookUrl output (https://…/x/webhook)`);
  }
  // X registers only https URLs; a loopback fake (X_API_BASE_URL) may call a local http bridge.
  const onX = apiBaseUrl.replace(/\/+$/, '') === X_DEFAULT_API_BASE_URL;
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && !onX)) {
    throw new UsageError(`X only registers https:// webhook URLs, got ${url.protocol}//: give the stack's WebhookUrl output`);
  }
  return value;
}

function subscriptionTag(brand: string | undefined): string {
  return brand ? `support-bridge-${brand}` : 'support-bridge';
}

function describeSubscription(s: XActivitySubscription, width: number): string {
  const filter = Object.entries(s.filter)
    .map(([key, value]) => `${key}=${value}`)
    .join(' ');
  const target = s.webhookId ? `webhook ${s.webhookId}` : 'no webhook (stream only)';
  return `${s.eventType.padEnd(width)}  ${filter}  → ${target}  (subscription ${s.subscriptionId}${s.tag ? `, tag ${s.tag}` : ''})`;
}

function parseIsoTime(value: string, option: string): number {
  // A time without a zone would be read in the local zone; X's window is UTC, so say which is meant.
  const ms = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) throw new UsageError(`${option} must be an ISO time with a zone, such as 2026-11-16T09:30Z, got "${value}"`);
  return ms;
}

function floorToMinute(ms: number): number {
  return Math.floor(ms / MINUTE_MS) * MINUTE_MS;
}

function ceilToMinute(ms: number): number {
  return Math.ceil(ms / MINUTE_MS) * MINUTE_MS;
}

function isoMinute(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16) + 'Z';
}
