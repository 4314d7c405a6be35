// Configuration: parsed once, at start, from the environment (and on AWS from the brand's secret) into one typed
// object. Invalid configuration fails with one message naming the variable. Nothing else reads process.env.
import * as z from 'zod/mini';
import { xchatSettingsFrom, type XChatSettings } from './x/xchat-keys';
import en from 'zod/v4/locales/en.js';
import { readFileSync } from 'node:fs';
import { ConfigError } from './errors';
import { lazySchema } from './lazy-schema';
import { parseBrandRules, parseBrandRulesFile, type BrandRules } from './rules/brand-rules';
import { parseListenQueries } from './x/listen-query';

// Every schema on a function's path uses zod/mini, zod's functional and tree-shakable API: a bundle then carries only
// the schema types and checks it uses (25-35 KB here) instead of all of zod (~90 KB), which is what keeps each function
// within its size budget. zod/mini loads no locale, so every message would read "Invalid input"; the English one
// (~3 KB) is loaded here for the whole process, so config and API errors still say what is wrong. Import it by path:
// `z.locales.en` would bundle every locale (~260 KB).
z.config(en());

const numericId = lazySchema(() => z.string().check(z.regex(/^\d{1,20}$/, 'must be a numeric X user id')));
const hours = lazySchema(() => z.coerce.number().check(z.int(), z.minimum(0), z.maximum(24 * 365)));
const httpUrl = lazySchema(() => z.url({ protocol: /^https?$/ }));
// X caps pay-per-use reads at 3 million a month (pricing.mdx): a day's budget above that cannot be spent.
const readsPerDay = lazySchema(() => z.coerce.number().check(z.int('must be a whole number of reads'), z.minimum(0), z.maximum(3_000_000)));

/** The values that are secrets: on AWS they come from the brand's Secrets Manager secret, never from the environment. */
export const secretValuesSchema = z.object({
  X_API_KEY: z.optional(z.string().check(z.minLength(1))),
  X_API_SECRET: z.optional(z.string().check(z.minLength(1))),
  X_ACCESS_TOKEN: z.optional(z.string().check(z.minLength(1))),
  X_ACCESS_TOKEN_SECRET: z.optional(z.string().check(z.minLength(1))),
  HELPDESK_WEBHOOK_SECRET: z.optional(
    z.string().check(
      z.regex(/^whsec_[A-Za-z0-9+/]+={0,2}$/, 'must be whsec_ followed by base64'),
      z.refine((s) => Buffer.from(s.slice(6), 'base64').length >= 24, 'must decode to at least 24 bytes'),
    ),
  ),
  HELPDESK_API_TOKEN: z.optional(z.string().check(z.minLength(16, 'must be at least 16 characters'))),
  /** The brand's XChat keys as `npm run x -- chat-setup` writes them (shared/x/xchat-keys.ts): absent until then. */
  X_CHAT_KEYS: z.optional(
    z.string().check(z.refine((v) => xchatSettingsFrom(v) !== undefined, 'must be the JSON chat-setup writes: {pin, keyVersion, juiceboxConfig}')),
  ),
});
export type SecretValues = z.infer<typeof secretValuesSchema>;

/**
 * A rotation's overlap (README, Operating a brand, "Rotating a secret"): the value being replaced, kept next to its
 * successor in the same secret while the other side switches over. Optional, and read only by the function that
 * reads the value it accompanies (ROTATION_COMPANIONS).
 */
const rotationValuesSchema = lazySchema(() => z.object({
  /** The consumer secret X used before: deliveries signed with it are still accepted. */
  X_API_SECRET_PREVIOUS: z.optional(z.string().check(z.minLength(1))),
  /** The helpdesk's secret before: events carry a signature with it too (`v1,<new> v1,<old>`). */
  HELPDESK_WEBHOOK_SECRET_PREVIOUS: secretValuesSchema.shape.HELPDESK_WEBHOOK_SECRET,
  /** The bearer token before: accepted until HELPDESK_API_TOKEN_PREVIOUS_UNTIL, never after. */
  HELPDESK_API_TOKEN_PREVIOUS: secretValuesSchema.shape.HELPDESK_API_TOKEN,
  HELPDESK_API_TOKEN_PREVIOUS_UNTIL: z.optional(z.iso.datetime({ offset: true, message: 'must be an ISO 8601 time' })),
}));
export type RotationName = keyof z.infer<typeof rotationValuesSchema>;

/** The rotation values that go with a secret value: a function given the value also gets these, when present. */
export const ROTATION_COMPANIONS: Partial<Record<SecretName, readonly RotationName[]>> = {
  X_API_SECRET: ['X_API_SECRET_PREVIOUS'],
  HELPDESK_WEBHOOK_SECRET: ['HELPDESK_WEBHOOK_SECRET_PREVIOUS'],
  HELPDESK_API_TOKEN: ['HELPDESK_API_TOKEN_PREVIOUS', 'HELPDESK_API_TOKEN_PREVIOUS_UNTIL'],
};

/** The longest overlap a previous bearer token may be given: a forgotten rotation must not keep an old token alive. */
export const MAX_TOKEN_OVERLAP_DAYS = 30;
export type SecretName = keyof SecretValues;
export const SECRET_KEYS = Object.keys(secretValuesSchema.shape) as SecretName[];

/**
 * The secrets the whole bridge needs in one process (the local runner). Each Lambda function asks only for its own
 * (FUNCTION_SECRETS in shared/aws/resources.ts); a secret nobody asked for is left empty and never read.
 */
export const BRIDGE_SECRETS: readonly SecretName[] = ['X_API_KEY', 'X_API_SECRET', 'HELPDESK_WEBHOOK_SECRET', 'HELPDESK_API_TOKEN'];

/**
 * Secret values a function reads when they are there, and does without when not: X_CHAT_KEYS exists only once ops ran
 * `chat-setup` (until then XChat messages are kept encrypted and replies go as plain DMs).
 */
export const OPTIONAL_SECRETS: ReadonlySet<SecretName> = new Set<SecretName>(['X_CHAT_KEYS']);

// 0 turns reconciliation off; otherwise at least a minute (EventBridge Scheduler's finest rate) and at most a day.
const reconcileSeconds = lazySchema(() => z.coerce
  .number()
  .check(z.int('must be a whole number of seconds'), z.refine((n) => n === 0 || (n >= 60 && n <= 86_400), 'must be 0 or 60 to 86400')));

const envSchema = lazySchema(() => z.object({
  BRAND: z.string().check(z.regex(/^[a-z0-9-]{1,40}$/, 'must be a lowercase slug ([a-z0-9-], at most 40)')),
  X_BOT_USER_ID: numericId,
  X_BOT_USERNAME: z.string().check(z.regex(/^@?\w{1,15}$/, 'must be an X handle')),
  X_API_BASE_URL: z._default(httpUrl, 'https://api.x.com'),
  HELPDESK_WEBHOOK_URL: z.optional(httpUrl),
  MENTION_MERGE_WINDOW_HOURS: z._default(hours, 24),
  REOPEN_WINDOW_HOURS: z._default(hours, 168),
  X_READ_BUDGET_PER_DAY: z._default(readsPerDay, 2000),
  /** How often the reconciler reads X for what the webhook missed (shared/x/reconcile.ts); 0 = never. */
  X_RECONCILE_INTERVAL_SECONDS: z._default(reconcileSeconds, 300),
  /** Whether replies X's self-serve rule would refuse (not summoned) are refused before posting (shared/replies/summoned.ts). */
  X_REPLY_POLICY: z._default(z.enum(['summoned', 'any']), 'summoned'),
  /** The most X spend (at X's prices) replies may cause in a calendar month, in US dollars (shared/replies/spend.ts). */
  X_MONTHLY_SPEND_CAP_USD: z.optional(z.coerce.number().check(z.positive('must be a positive number of dollars'))),
  /** `true` lets a reply's attachment URL be http on loopback (tests, `npm start`); never set in the stack (shared/replies/reply-media.ts). */
  X_REPLY_MEDIA_ALLOW_LOOPBACK: z._default(z.enum(['true', 'false']), 'false'),
  /** The brand's listening queries (shared/x/listen.ts), separated by `;`; read on the reconciler's schedule. */
  X_LISTEN_QUERIES: z.optional(z.string()),
  /** Locally: a JSON file of the brand's rules (shared/rules/brand-rules.ts). */
  RULES_FILE: z.optional(z.string().check(z.minLength(1))),
  /** The brand file's `rules`, as JSON (the stack sets it). */
  RULES: z.optional(z.string()),
  // Where the stack (or the local runner) put things.
  TABLE_NAME: z.optional(z.string().check(z.minLength(1))),
  INBOUND_QUEUE_URL: z.optional(httpUrl),
  REPLY_QUEUE_URL: z.optional(httpUrl),
  NOTIFY_RETRY_QUEUE_URL: z.optional(httpUrl),
  /** The brand's bucket for copies of DM media (shared/aws/s3-attachment-store.ts). */
  ATTACHMENTS_BUCKET: z.optional(
    z.string().check(z.regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name')),
  ),
  /** Set by the local runner: AWS SDK clients talk to these loopback servers instead of AWS. */
  DYNAMODB_ENDPOINT: z.optional(httpUrl),
  SQS_ENDPOINT: z.optional(httpUrl),
  /** A loopback S3 emulator (tests); unset on AWS. */
  S3_ENDPOINT: z.optional(httpUrl),
}));

export type Config = {
  brand: string;
  x: {
    apiKey: string;
    apiSecret: string;
    accessToken?: string;
    accessTokenSecret?: string;
    /** During a rotation: the consumer secret X used before; webhook signatures made with it are still accepted. */
    previousApiSecret?: string;
    botUserId: string;
    botUsername: string;
    apiBaseUrl: string;
    /** The most X reads (users and posts, as X bills them) per UTC day; 0 = none (shared/x/x-reads.ts). */
    readBudgetPerDay: number;
    /** X_RECONCILE_INTERVAL_SECONDS: seconds between reconciliation runs; 0 = none. */
    reconcileIntervalSeconds: number;
    /** X_REPLY_POLICY: `summoned` refuses replies X's self-serve rule refuses, before posting; `any` (Enterprise) does not. */
    replyPolicy: 'summoned' | 'any';
    /** X_MONTHLY_SPEND_CAP_USD: replies that would pass it are refused; absent = no cap. */
    monthlySpendCapUsd?: number;
    /** X_REPLY_MEDIA_ALLOW_LOOPBACK: attachment URLs may be http on loopback (tests, `npm start`; never the stack). */
    replyMediaAllowLoopback: boolean;
    /** X_LISTEN_QUERIES: the brand's listening queries, run with each reconciliation; empty = no listening. */
    listenQueries: string[];
    /** X_CHAT_KEYS: how to unlock the brand's XChat keys; absent when XChat is not set up. */
    chat?: XChatSettings;
  };
  helpdesk: {
    webhookUrl?: string;
    webhookSecret: string;
    apiToken: string;
    /** During a rotation: the secret being replaced, signed with too. */
    previousWebhookSecret?: string;
    /** During a rotation: the token being replaced and the moment it stops being accepted. */
    previousApiToken?: { token: string; until: Date };
  };
  windows: { mentionMergeHours: number; reopenHours: number };
  /** RULES_FILE or RULES: the brand's drop, tag and priority rules; absent = every item is ticketed, untagged. */
  rules?: BrandRules;
  aws: {
    tableName?: string;
    inboundQueueUrl?: string;
    replyQueueUrl?: string;
    notifyRetryQueueUrl?: string;
    attachmentsBucket?: string;
    dynamodbEndpoint?: string;
    sqsEndpoint?: string;
    s3Endpoint?: string;
  };
};

type Env = Record<string, string | undefined>;

function firstIssue(error: z.core.$ZodError): string {
  const issue = error.issues[0];
  const name = issue?.path.join('.') || 'configuration';
  return `Invalid configuration: ${name} ${issue?.message ?? 'is invalid'}`;
}

/**
 * Parses the environment plus the secret values into a Config. Throws ConfigError naming the first bad variable,
 * or the first secret in `needs` that is missing. Secret values are never echoed in the message.
 */
export function parseConfig(env: Env, secrets: Env = env, needs: readonly SecretName[] = BRIDGE_SECRETS): Config {
  const blankToUndefined = (source: Env): Env =>
    Object.fromEntries(Object.entries(source).map(([k, v]) => [k, v === '' ? undefined : v]));
  const parsedEnv = envSchema.safeParse(blankToUndefined(env));
  if (!parsedEnv.success) throw new ConfigError(firstIssue(parsedEnv.error));
  const parsedSecrets = secretValuesSchema.safeParse(blankToUndefined(secrets));
  if (!parsedSecrets.success) throw new ConfigError(firstIssue(parsedSecrets.error));
  const parsedRotation = rotationValuesSchema.safeParse(blankToUndefined(secrets));
  if (!parsedRotation.success) throw new ConfigError(firstIssue(parsedRotation.error));
  const e = parsedEnv.data;
  const s = parsedSecrets.data;
  const r = parsedRotation.data;
  const missing = needs.find((name) => s[name] === undefined && !OPTIONAL_SECRETS.has(name));
  if (missing) throw new ConfigError(`Invalid configuration: ${missing} is required`);
  if (Boolean(s.X_ACCESS_TOKEN) !== Boolean(s.X_ACCESS_TOKEN_SECRET)) {
    throw new ConfigError('Invalid configuration: X_ACCESS_TOKEN and X_ACCESS_TOKEN_SECRET must be set together');
  }
  const previousApiToken = previousToken(r.HELPDESK_API_TOKEN_PREVIOUS, r.HELPDESK_API_TOKEN_PREVIOUS_UNTIL);
  const listen = parseListenQueries(e.X_LISTEN_QUERIES, e.X_BOT_USERNAME.replace(/^@/, ''));
  if ('error' in listen) throw new ConfigError(`Invalid configuration: X_LISTEN_QUERIES ${listen.error}`);
  const rules = rulesFrom(e.RULES_FILE, e.RULES);
  return {
    brand: e.BRAND,
    x: {
      apiKey: s.X_API_KEY ?? '',
      apiSecret: s.X_API_SECRET ?? '',
      ...(r.X_API_SECRET_PREVIOUS ? { previousApiSecret: r.X_API_SECRET_PREVIOUS } : {}),
      accessToken: s.X_ACCESS_TOKEN,
      accessTokenSecret: s.X_ACCESS_TOKEN_SECRET,
      botUserId: e.X_BOT_USER_ID,
      botUsername: e.X_BOT_USERNAME.replace(/^@/, ''),
      apiBaseUrl: e.X_API_BASE_URL.replace(/\/+$/, ''),
      readBudgetPerDay: e.X_READ_BUDGET_PER_DAY,
      reconcileIntervalSeconds: e.X_RECONCILE_INTERVAL_SECONDS,
      replyPolicy: e.X_REPLY_POLICY,
      replyMediaAllowLoopback: e.X_REPLY_MEDIA_ALLOW_LOOPBACK === 'true',
      ...(e.X_MONTHLY_SPEND_CAP_USD === undefined ? {} : { monthlySpendCapUsd: e.X_MONTHLY_SPEND_CAP_USD }),
      listenQueries: listen.queries,
      ...(s.X_CHAT_KEYS ? { chat: xchatSettingsFrom(s.X_CHAT_KEYS) } : {}),
    },
    helpdesk: {
      webhookUrl: e.HELPDESK_WEBHOOK_URL,
      webhookSecret: s.HELPDESK_WEBHOOK_SECRET ?? '',
      apiToken: s.HELPDESK_API_TOKEN ?? '',
      ...(r.HELPDESK_WEBHOOK_SECRET_PREVIOUS ? { previousWebhookSecret: r.HELPDESK_WEBHOOK_SECRET_PREVIOUS } : {}),
      ...(previousApiToken ? { previousApiToken } : {}),
    },
    windows: { mentionMergeHours: e.MENTION_MERGE_WINDOW_HOURS, reopenHours: e.REOPEN_WINDOW_HOURS },
    ...(rules ? { rules } : {}),
    aws: {
      tableName: e.TABLE_NAME,
      inboundQueueUrl: e.INBOUND_QUEUE_URL,
      replyQueueUrl: e.REPLY_QUEUE_URL,
      notifyRetryQueueUrl: e.NOTIFY_RETRY_QUEUE_URL,
      attachmentsBucket: e.ATTACHMENTS_BUCKET,
      dynamodbEndpoint: e.DYNAMODB_ENDPOINT,
      sqsEndpoint: e.SQS_ENDPOINT,
      s3Endpoint: e.S3_ENDPOINT,
    },
  };
}

/**
 * The previous bearer token and its end, which must come together: a previous token without an end would be accepted
 * for ever. The end may lie at most MAX_TOKEN_OVERLAP_DAYS after the config is read.
 */
function previousToken(token: string | undefined, until: string | undefined): { token: string; until: Date } | undefined {
  if (token === undefined && until === undefined) return undefined;
  if (token === undefined || until === undefined) {
    throw new ConfigError('Invalid configuration: HELPDESK_API_TOKEN_PREVIOUS and HELPDESK_API_TOKEN_PREVIOUS_UNTIL must be set together');
  }
  const end = new Date(until);
  if (end.getTime() - Date.now() > MAX_TOKEN_OVERLAP_DAYS * 24 * 60 * 60 * 1000) {
    throw new ConfigError(`Invalid configuration: HELPDESK_API_TOKEN_PREVIOUS_UNTIL must be at most ${MAX_TOKEN_OVERLAP_DAYS} days ahead`);
  }
  return { token, until: end };
}

/** The brand's rules from RULES_FILE (a path) or RULES (JSON), at most one of them; errors name the rule. */
function rulesFrom(file: string | undefined, json: string | undefined): BrandRules | undefined {
  if (file !== undefined && json !== undefined) throw new ConfigError('Invalid configuration: set RULES_FILE or RULES, not both');
  try {
    if (file !== undefined) {
      let content: string;
      try {
        content = readFileSync(file, 'utf8');
      } catch (error) {
        throw new Error(`${file}: cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
      }
      return parseBrandRulesFile(file, content);
    }
    if (json !== undefined) return parseBrandRules(JSON.parse(json));
  } catch (error) {
    throw new ConfigError(`Invalid configuration: ${file === undefined ? 'RULES' : 'RULES_FILE'} ${(error as Error).message}`);
  }
  return undefined;
}

/** A resource the stack must have wired into this function; a clear failure at start when it is not. */
export function required<T>(value: T | undefined, variable: string): T {
  if (value === undefined) throw new ConfigError(`Invalid configuration: ${variable} is required by this function`);
  return value;
}
