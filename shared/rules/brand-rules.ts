// A brand's rules for what becomes a ticket: the brand file's `rules` (infra/brands/<brand>.json) or, locally, the
// RULES_FILE JSON. Three lists, each rule named (the name is its metric dimension and what every error quotes):
// - `drop`: an item a drop rule matches never becomes a ticket (spam, retweet floods of a keyword, the brand's own
//   staff). The first matching drop rule, in file order, is the one recorded.
// - `tag`: every matching tag rule adds its tag to the ticket the item opens (`ticket.tags`, file order, no repeats).
// - `priority`: the first matching priority rule, in file order, sets `ticket.priority` (so put "urgent" above "high").
// A rule matches when every condition it names holds; a rule naming none is refused (it would match everything).
// Pure functions over the normalised item: no I/O, so a redelivery decides as the first delivery did (while the rules
// are unchanged; ingest records a drop, so a redelivery after a change of rules is still a duplicate).
import * as z from 'zod/mini';
import type { CompleteDm, CompletePost } from '../x/inbound-event';
import { lazySchema } from '../lazy-schema';

export const PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;
export type Priority = (typeof PRIORITIES)[number];

const ruleName = lazySchema(() => z.string().check(z.regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'must be a lowercase name ([a-z0-9-], at most 40)')));
const words = lazySchema(() => z.array(z.string().check(z.trim(), z.minLength(1, 'must not be empty'), z.maxLength(100))).check(z.minLength(1, 'must list at least one')));
// X handles (with or without @) or numeric X user ids.
const accounts = lazySchema(() =>
  z
  .array(z.string().check(z.regex(/^(?:@?\w{1,15}|\d{1,20})$/, 'must be X handles or numeric X user ids')))
  .check(z.minLength(1, 'must list at least one')));
// X's `lang`: a BCP 47 tag as X gives it (`en`, `pt`, `zh-cn`, `und`).
const languages = lazySchema(() =>
  z
  .array(z.string().check(z.regex(/^[a-z]{2,3}(?:-[a-z]{2,4})?$/i, 'must be language codes such as en or pt')))
  .check(z.minLength(1, 'must list at least one')));
const count = (min: number) => z.number().check(z.int('must be a whole number'), z.minimum(min, `must be at least ${min}`));

/** What a rule can look at. Every condition named must hold for the rule to match. */
const conditionShape = lazySchema(() => ({
  /** Any of these words or phrases, whole words, in any case. */
  keywords: z.optional(words),
  /** Written by any of these accounts. */
  accounts: z.optional(accounts),
  /** The post is in one of these languages (X's `lang`; DMs carry none, so never match). */
  languages: z.optional(languages),
  /** The post is in a language other than these (a post X gave no language never matches). */
  exceptLanguages: z.optional(languages),
  /** The author has fewer followers than this (an author X gave no count for never matches). */
  followersBelow: z.optional(count(1)),
  /** The author has at least this many followers. */
  followersAtLeast: z.optional(count(0)),
  /** The author is verified (X's `verified_type` other than `none`). */
  verified: z.optional(z.literal(true)),
  /** Nothing but links (and handles, hashtags, whitespace): the shape of link spam. */
  linkOnly: z.optional(z.literal(true)),
  /** At least this many cashtags (`$ACME`): the shape of pump spam. */
  cashtagsAtLeast: z.optional(count(1)),
  /** How the item came: a public post to the account (`mention`), a DM (`dm`), or a listening query (`listening`). */
  channels: z.optional(z.array(z.enum(['mention', 'dm', 'listening'])).check(z.minLength(1, 'must list at least one'))),
}));
/** The condition names, read from the shape on first use (the schemas are built then, not at import). */
const conditionNames = () => Object.keys(conditionShape) as (keyof typeof conditionShape)[];

const dropRuleSchema = lazySchema(() => z.strictObject({ name: ruleName, ...conditionShape }));
const tagRuleSchema = lazySchema(() => z.strictObject({
  name: ruleName,
  tag: z.string().check(z.regex(/^[\w-]{1,40}$/u, 'must be one word ([A-Za-z0-9_-], at most 40)')),
  ...conditionShape,
}));
const priorityRuleSchema = lazySchema(() => z.strictObject({ name: ruleName, priority: z.enum(PRIORITIES), ...conditionShape }));

export const brandRulesSchema = lazySchema(() => z.strictObject({
  drop: z._default(z.array(dropRuleSchema), []),
  tag: z._default(z.array(tagRuleSchema), []),
  priority: z._default(z.array(priorityRuleSchema), []),
}));
export type BrandRules = z.infer<typeof brandRulesSchema>;
type Rule = BrandRules['drop'][number];

/** A rules file that does not hold: the message names the rule (and its list and place) and the field. */
export class RulesError extends Error {
  override readonly name = 'RulesError';
}

const LISTS = ['drop', 'tag', 'priority'] as const;

/** Validates rules (parsed JSON). Throws RulesError naming the rule and the field. */
export function parseBrandRules(value: unknown): BrandRules {
  const parsed = brandRulesSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new RulesError(describe(value, issue.path.map(String), issue));
  }
  const seen = new Set<string>();
  for (const list of LISTS) {
    parsed.data[list].forEach((rule: Rule, i) => {
      const where = `rule "${rule.name}" (${list}[${i}])`;
      if (seen.has(rule.name)) throw new RulesError(`${where}: name is used by another rule; each rule needs its own`);
      seen.add(rule.name);
      if (!conditionNames().some((c) => rule[c] !== undefined)) {
        throw new RulesError(`${where}: names no condition, so it would match everything (${conditionNames().join(', ')})`);
      }
    });
  }
  return parsed.data;
}

/** Parses a rules file's text; `file` only names it in messages. */
export function parseBrandRulesFile(file: string, content: string): BrandRules {
  let json: unknown;
  try {
    json = JSON.parse(content);
  } catch (error) {
    throw new RulesError(`${file}: not valid JSON (${(error as Error).message})`);
  }
  try {
    return parseBrandRules(json);
  } catch (error) {
    throw new RulesError(`${file}: ${(error as Error).message}`);
  }
}

function describe(value: unknown, path: string[], issue: z.core.$ZodIssue): string {
  const [list, index, ...rest] = path;
  const unknownKeys = issue.code === 'unrecognized_keys' ? `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}` : undefined;
  if (list === undefined || index === undefined) {
    return unknownKeys ? `${unknownKeys} (the lists are ${LISTS.join(', ')})` : `${list ?? 'the rules'} ${issue.message}`;
  }
  const raw = (value as Record<string, unknown[]> | undefined)?.[list]?.[Number(index)] as { name?: unknown } | undefined;
  const who = typeof raw?.name === 'string' && raw.name ? `rule "${raw.name}" (${list}[${index}])` : `rule ${list}[${index}]`;
  if (unknownKeys) return `${who}: ${unknownKeys}`;
  const field = rest.filter((p) => !/^\d+$/.test(p)).join('.');
  return `${who}: ${field ? `${field} ` : ''}${issue.message}`;
}

/** What the rules look at in an item: ingest builds it from the normalised post or DM. */
export type RuleItem = {
  channel: 'mention' | 'dm' | 'listening';
  text: string;
  links: number;
  lang?: string;
  author: { xUserId: string; username: string; followersCount?: number; verifiedType?: string };
};

/** The rule item of a customer's post or DM. */
export function ruleItemOf(item: CompletePost | CompleteDm): RuleItem {
  const author = item.kind === 'post' ? item.author : item.sender;
  return {
    channel: item.kind === 'dm' ? 'dm' : item.listeningQuery === undefined ? 'mention' : 'listening',
    text: item.text,
    links: item.links.length,
    ...(item.kind === 'post' && item.lang !== undefined ? { lang: item.lang } : {}),
    author: {
      xUserId: author.xUserId,
      username: author.username,
      ...(author.profile?.followersCount === undefined ? {} : { followersCount: author.profile.followersCount }),
      ...(author.profile?.verifiedType === undefined ? {} : { verifiedType: author.profile.verifiedType }),
    },
  };
}

/** What the rules decided: `drop` names the drop rule that matched; otherwise the tags and priority a new ticket takes. */
export type RulesVerdict = { drop?: string; tags: string[]; priority?: Priority; matched: string[] };

/** Applies the rules in order: drop rules first (the first match drops), then every tag rule, then the first priority. */
export function applyRules(rules: BrandRules, item: RuleItem): RulesVerdict {
  const drop = rules.drop.find((rule) => matches(rule, item));
  if (drop) return { drop: drop.name, tags: [], matched: [drop.name] };
  const tagged = rules.tag.filter((rule) => matches(rule, item));
  const priority = rules.priority.find((rule) => matches(rule, item));
  return {
    tags: [...new Set(tagged.map((rule) => rule.tag))],
    ...(priority ? { priority: priority.priority } : {}),
    matched: [...tagged.map((rule) => rule.name), ...(priority ? [priority.name] : [])],
  };
}

const CASHTAG = /(?:^|[^\p{L}\p{N}_$])\$[A-Za-z][A-Za-z0-9_.]{0,9}(?![\p{L}\p{N}_])/gu;
const URL_LIKE = /\bhttps?:\/\/\S+/giu;

function matches(rule: Rule, item: RuleItem): boolean {
  const lang = item.lang?.toLowerCase();
  const followers = item.author.followersCount;
  const checks: (() => boolean)[] = [];
  if (rule.keywords) checks.push(() => rule.keywords!.some((k) => containsWords(item.text, k)));
  if (rule.accounts) {
    checks.push(() =>
      rule.accounts!.some((a) => a === item.author.xUserId || a.replace(/^@/, '').toLowerCase() === item.author.username.toLowerCase()),
    );
  }
  if (rule.languages) checks.push(() => lang !== undefined && rule.languages!.some((l) => l.toLowerCase() === lang));
  if (rule.exceptLanguages) checks.push(() => lang !== undefined && !rule.exceptLanguages!.some((l) => l.toLowerCase() === lang));
  if (rule.followersBelow !== undefined) checks.push(() => followers !== undefined && followers < rule.followersBelow!);
  if (rule.followersAtLeast !== undefined) checks.push(() => followers !== undefined && followers >= rule.followersAtLeast!);
  if (rule.verified) checks.push(() => item.author.verifiedType !== undefined && item.author.verifiedType !== 'none');
  if (rule.linkOnly) checks.push(() => isLinkOnly(item));
  if (rule.cashtagsAtLeast !== undefined) checks.push(() => (item.text.match(CASHTAG) ?? []).length >= rule.cashtagsAtLeast!);
  if (rule.channels) checks.push(() => rule.channels!.includes(item.channel));
  return checks.every((check) => check());
}

/** `phrase` in `text` as whole words, in any case (`refund` matches "Refund!" but not "refunded"). */
function containsWords(text: string, phrase: string): boolean {
  const escaped = phrase.trim().replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\s+/g, '\\s+');
  return new RegExp(`(?:^|[^\\p{L}\\p{N}_])${escaped}(?![\\p{L}\\p{N}_])`, 'iu').test(text);
}

/** Links and nothing a person wrote: once links, @handles and #hashtags are taken out, no letter or digit is left. */
function isLinkOnly(item: RuleItem): boolean {
  const urls = item.text.match(URL_LIKE) ?? [];
  if (item.links === 0 && urls.length === 0) return false;
  const rest = item.text.replace(URL_LIKE, ' ').replace(/[@#][\p{L}\p{N}_]+/gu, ' ');
  return !/[\p{L}\p{N}]/u.test(rest);
}
