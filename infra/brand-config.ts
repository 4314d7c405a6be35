// The per-brand deployment file, infra/brands/<brand>.json: everything that differs between two brands' stacks.
// Validated at `cdk synth` so a typo fails before anything is deployed, with one message naming the file and field.
// Secrets never go here: they live in the brand's Secrets Manager secret, filled by ops after the first deploy.
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as z from 'zod';
import { parseBrandRules } from '../shared/rules/brand-rules';
import { MAX_LISTEN_QUERIES, parseListenQueries } from '../shared/x/listen-query';

/**
 * Lambda holds 4 KB of environment per function in all (the rules travel as the ingest function's RULES): the rules
 * may take half of it as JSON.
 */
export const MAX_RULES_JSON_CHARS = 2048;

/** Retention periods CloudWatch Logs accepts (days); "never expire" is deliberately not offered. */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

const hours = (min: number, max: number) =>
  z
    .number('must be a number of hours')
    .int('must be a whole number of hours')
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);

/** The schema of one brand file. Unknown fields are errors: a misspelt override must not be silently ignored. */
export const brandConfigSchema = z
  .object({
    /** The brand slug; equals the file name and becomes part of every resource name. */
    brand: z
      .string()
      .regex(/^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/, 'must be a lowercase slug ([a-z0-9-], at most 40)'),
    /** Target account; omitted = the account of the credentials used to deploy. */
    account: z
      .string()
      .regex(/^\d{12}$/, 'must be a 12-digit AWS account id')
      .optional(),
    /** Target region, for example `eu-west-1`. */
    region: z.string().regex(/^[a-z]{2}(?:-[a-z]+)+-\d$/, 'must be an AWS region such as eu-west-1'),
    /** The support bot account's numeric X user id (never the handle: ids are what webhooks carry). */
    xBotUserId: z.string().regex(/^\d{1,20}$/, 'must be a numeric X user id (a string of digits)'),
    /** The support bot's handle, without the `@`. */
    xBotUsername: z.string().regex(/^\w{1,15}$/, 'must be an X handle without the @ (letters, digits, _; at most 15)'),
    /** Where ticket events are POSTed. https only: the events carry customer messages. */
    helpdeskWebhookUrl: z.url({ protocol: /^https$/, error: 'must be an https:// URL' }),
    /** A new mention joins the author's open mention ticket updated within this many hours; 0 = never. */
    mentionMergeWindowHours: hours(0, 24 * 365).default(24),
    /** A follow-up to a solved ticket within this many hours reopens it. */
    reopenWindowHours: hours(0, 24 * 365).default(168),
    /**
     * The most X reads (users and posts, as X bills them) the bridge makes in a UTC day; past it, it stops reading.
     * X caps pay-per-use reads at 3 M a month (NOTES: pricing.mdx), so a day's budget above 100,000 is refused.
     */
    xReadBudgetPerDay: z.number().int('must be a whole number of reads').min(0).max(100_000).default(2000),
    /**
     * `summoned`: replies X's self-serve rule refuses (the target neither mentions nor quotes the account) are refused
     * before posting; `any`: Enterprise access (shared/replies/summoned.ts).
     */
    xReplyPolicy: z.enum(['summoned', 'any']).default('summoned'),
    /** The most X spend, in US dollars at X's prices, replies may cause in a calendar month; absent = no cap. */
    xMonthlySpendCapUsd: z.number('must be a number of dollars').positive('must be a positive number of dollars').optional(),
    /**
     * Seconds between reconciliation runs (functions/reconcile: what X's webhook did not deliver); 0 = no schedule.
     * EventBridge Scheduler's rates are whole minutes, so a non-zero interval is 60 to 86400 in steps of 60.
     */
    xReconcileIntervalSeconds: z
      .number('must be a number of seconds')
      .int('must be a whole number of seconds')
      .refine((s) => s === 0 || (s >= 60 && s <= 86_400 && s % 60 === 0), {
        message: 'must be 0 (off) or a whole number of minutes from 60 to 86400 seconds',
      })
      .default(300),
    /**
     * Listening (shared/x/listen.ts): X recent search queries run on the reconciler's schedule, each finding posts
     * that become tickets without mentioning the account. X bills every post found: see README, What a brand pays X.
     */
    listenQueries: z
      .array(z.string().trim().min(1, 'must not be empty').refine((q) => !q.includes(';'), 'must not hold ; (it separates queries)'))
      .max(MAX_LISTEN_QUERIES, `must hold at most ${MAX_LISTEN_QUERIES} queries`)
      .default([]),
    /** The brand's drop, tag and priority rules (shared/rules/brand-rules.ts); errors name the rule. */
    rules: z
      .unknown()
      .transform((value, ctx) => {
        try {
          const rules = parseBrandRules(value);
          const size = JSON.stringify(rules).length;
          if (size > MAX_RULES_JSON_CHARS) throw new Error(`take ${size} characters as JSON, more than the ${MAX_RULES_JSON_CHARS} Lambda's environment leaves them`);
          return rules;
        } catch (error) {
          ctx.issues.push({ code: 'custom', message: (error as Error).message, input: value });
          return z.NEVER;
        }
      })
      .optional(),
    /** Who receives the alarm e-mails (a subscription to confirm after the first deploy). */
    alarmEmail: z.email('must be an e-mail address'),
    /**
     * Hours without a single webhook event before the "channel silent" alarm fires. X stops delivering to a webhook
     * whose CRC check fails, and nothing else would notice. Up to 7 days: CloudWatch's longest evaluation range.
     */
    silentChannelHours: hours(1, 168).default(24),
    /** How long function and API access logs are kept. */
    logRetentionDays: z
      .number()
      .refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), {
        message: `must be one of ${LOG_RETENTION_DAYS.join(', ')}`,
      })
      .default(30),
    /**
     * Reserved concurrency of the functions that call third parties: it caps how hard the bridge can hit them.
     * Every reservation is taken from the account's pool, which must keep 100 unreserved.
     */
    reservedConcurrency: z
      .object({
        /** The reply function posts to X (100 posts / 15 min per user): a couple at a time is plenty. */
        reply: z
          .number()
          .int()
          .min(2, 'must be at least 2 (the smallest SQS event source concurrency)')
          .max(50)
          .default(2),
        /** The notify function POSTs to the helpdesk; it is shared by the table stream and the retry queue. */
        notify: z
          .number()
          .int()
          .min(3, 'must be at least 3 (2 for the retry queue, 1 for the stream)')
          .max(100)
          .default(5),
      })
      .strict()
      .prefault({}),
    /** Throttling on the HTTP API's stage (requests per second, and burst). */
    apiThrottling: z
      .object({
        rateLimit: z.number().int().min(1).max(10_000).default(50),
        burstLimit: z.number().int().min(1).max(5_000).default(100),
      })
      .strict()
      .prefault({}),
  })
  .strict();

/** One brand's validated deployment settings. */
export type BrandConfig = z.infer<typeof brandConfigSchema>;

/** A brand file that is missing, unreadable or invalid; the message names the file and the field. */
export class BrandConfigError extends Error {
  override readonly name = 'BrandConfigError';
}

/** The folder holding one JSON file per brand. */
export const BRANDS_DIR = fileURLToPath(new URL('./brands', import.meta.url));

function displayPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel.startsWith('..') ? file : rel;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const field = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    const where = field ? ` in ${field}` : '';
    return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}${where}`;
  }
  // zod does not keep the input in issues; a missing field is an invalid_type that received undefined.
  if (issue.code === 'invalid_type' && issue.message.endsWith('received undefined')) return `${field} is required`;
  return `${field || 'the file'} ${issue.message}`;
}

/**
 * Parses one brand file's content. `file` is only used in messages and to check that the `brand` field equals the
 * file name (so `-c brand=acme` always means infra/brands/acme.json). Throws BrandConfigError naming file and field.
 */
export function parseBrandConfig(file: string, content: string): BrandConfig {
  const shown = displayPath(file);
  let json: unknown;
  try {
    json = JSON.parse(content);
  } catch (error) {
    throw new BrandConfigError(`${shown}: not valid JSON (${(error as Error).message})`);
  }
  const parsed = brandConfigSchema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new BrandConfigError(`${shown}: ${first ? describeIssue(first) : 'is invalid'}`);
  }
  const listen = parseListenQueries(parsed.data.listenQueries.join(';'), parsed.data.xBotUsername);
  if ('error' in listen) throw new BrandConfigError(`${shown}: listenQueries ${listen.error}`);
  const expected = basename(file, '.json');
  if (parsed.data.brand !== expected) {
    throw new BrandConfigError(`${shown}: brand must equal the file name ("${expected}"), got "${parsed.data.brand}"`);
  }
  return parsed.data;
}

/** Reads and validates infra/brands/<brand>.json (or `<dir>/<brand>.json`). */
export function loadBrandConfig(brand: string, dir: string = BRANDS_DIR): BrandConfig {
  const file = join(dir, `${brand}.json`);
  let content: string;
  try {
    content = readFileSync(file, 'utf8');
  } catch {
    const known = listBrands(dir);
    throw new BrandConfigError(
      `${displayPath(file)}: no such brand file (brands: ${known.length ? known.join(', ') : 'none'})`,
    );
  }
  return parseBrandConfig(file, content);
}

/** The brand slugs that have a file in `dir`, sorted. */
export function listBrands(dir: string = BRANDS_DIR): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .map((name) => basename(name, '.json'))
    .sort();
}

/** Every brand's config, or only `only`'s when given (`cdk synth -c brand=<brand>`). */
export function loadBrandConfigs(options: { dir?: string; only?: string } = {}): BrandConfig[] {
  const dir = options.dir ?? BRANDS_DIR;
  const brands = options.only ? [options.only] : listBrands(dir);
  if (brands.length === 0) throw new BrandConfigError(`${displayPath(dir)}: no brand files (<brand>.json)`);
  return brands.map((brand) => loadBrandConfig(brand, dir));
}
