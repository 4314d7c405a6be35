// What every X wire format reader shares: small readers that return undefined for anything that is not what X
// documents, X's three ways of writing a time, and the bookkeeping of one webhook body (events and ignored counts).
// Pure, no dependencies: this runs in the webhook Lambda, whose bundle must stay small.
import type { IgnoreReason, InboundEvent, ReplayJobNotice } from './inbound-event';
import { toWellFormed } from './text';

/** Who the bridge listens for, and when the body arrived (used where X sends no timestamp). */
export type NormaliseContext = { botUserId: string; botUsername: string; receivedAt: string };

export type Format = 'xaa' | 'aaa';
export type JsonObject = Record<string, unknown>;
/** What one X item becomes: an event to queue, or the reason it was acknowledged and dropped. */
export type ItemOutcome = InboundEvent | IgnoreReason;

/** The bot as the readers need it: its id, its @handle from config, and a pattern that finds that handle in text. */
export type Bot = { id: string; username: string; handlePattern: RegExp | undefined };
/** One body being normalised: the items found so far, in X's order, and what was ignored and why. */
export type Env = {
  bot: Bot;
  receivedAt: string;
  events: InboundEvent[];
  ignored: Partial<Record<IgnoreReason, number>>;
  replayJobs?: ReplayJobNotice[];
};

const NUMERIC_ID = /^\d{1,20}$/;

export function botOf(ctx: NormaliseContext): Bot {
  const username = typeof ctx.botUsername === 'string' ? ctx.botUsername.replace(/^[@\uFF20]/, '') : '';
  const escaped = username.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  // An @handle is not part of a longer word, e-mail address or handle: `x@AcmeSupport` and `@AcmeSupport_eu` don't count.
  const handlePattern =
    username === '' ? undefined : new RegExp(`(?:^|[^A-Za-z0-9_@\\uFF20])[@\\uFF20]${escaped}(?![A-Za-z0-9_@\\uFF20])`, 'i');
  return { id: String(ctx.botUserId), username, handlePattern };
}

/** Adds an item's outcome to the body's result: an event in X's order, or one more of its ignore reason. */
export function record(env: Env, outcome: ItemOutcome): void {
  if (typeof outcome === 'string') count(env, outcome);
  else env.events.push(outcome);
}

export function count(env: Env, reason: IgnoreReason, items = 1): void {
  // An empty array of likes is no like: only counts above zero are reported.
  if (items > 0) env.ignored[reason] = (env.ignored[reason] ?? 0) + items;
}

/** `base` with each defined value of `optional` set: absent fields stay absent rather than present as undefined. */
export function withOptional<T extends object>(base: T, optional: Record<string, unknown>): T {
  const result = { ...base } as Record<string, unknown>;
  for (const [key, value] of Object.entries(optional)) if (value !== undefined) result[key] = value;
  return result as T;
}

// ---------------------------------------------------------------------------------------------------------------
// Small readers: each returns undefined for anything that is not what X documents.

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The object itself, or what it wraps in `data` (XAA wraps user objects that way in some events). */
export function unwrapData(value: unknown): JsonObject | undefined {
  if (!isObject(value)) return undefined;
  return isObject(value.data) ? value.data : value;
}

export function objects(value: unknown): JsonObject[] {
  return Array.isArray(value) ? value.filter(isObject) : [];
}

/** An X id: a string of digits only. A number is refused, since JSON.parse has already rounded ids above 2^53. */
export function numericId(value: unknown): string | undefined {
  return typeof value === 'string' && NUMERIC_ID.test(value) ? value : undefined;
}

/** A non-empty string, repaired of lone surrogates. */
export function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? toWellFormed(value) : undefined;
}

export function stringOr(value: unknown, fallback: string): string {
  return text(value) ?? fallback;
}

export function isTrue(value: unknown): boolean {
  return value === true || (typeof value === 'string' && value.trim().toLowerCase() === 'true');
}

/** A count or offset: a non-negative safe integer. */
export function offset(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

export function boolean(value: unknown): boolean | undefined {
  return typeof value === 'boolean' ? value : undefined;
}

export function rangeStart(range: unknown): number | undefined {
  return Array.isArray(range) ? offset(range[0]) : undefined;
}

/**
 * `edit_history_tweet_ids` when the post is an edit: X lists every version, oldest first, this one last; a post never
 * edited lists only itself (x-api/fundamentals/edit-posts.mdx; v1.1's
 * `edit_history.edit_tweet_ids` likewise). Undefined for an unedited post; this post's id is added last if missing.
 */
export function editHistoryOf(xId: string, ids: unknown): string[] | undefined {
  if (!Array.isArray(ids)) return undefined;
  const versions = [...new Set(ids.map(numericId).filter((id): id is string => id !== undefined))];
  if (!versions.some((id) => id !== xId)) return undefined;
  return versions.includes(xId) ? versions : [...versions, xId];
}

// ---------------------------------------------------------------------------------------------------------------
// Times

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const TWITTER_DATE = /^[A-Z][a-z]{2} ([A-Z][a-z]{2}) (\d{2}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2}) (\d{4})$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})$/;

/** v1.1's `created_at` ("Mon Nov 16 14:05:09 +0000 2026") as ISO 8601, parsed by hand rather than by Date.parse. */
export function isoFromTwitterDate(value: unknown): string | undefined {
  const match = typeof value === 'string' ? TWITTER_DATE.exec(value) : null;
  if (!match) return undefined;
  const [, monthName, day, hour, minute, second, sign, offsetHours, offsetMinutes, year] = match;
  const month = MONTHS.indexOf(monthName ?? '');
  if (month < 0 || Number(hour) > 23 || Number(minute) > 59 || Number(second) > 60) return undefined;
  const local = Date.UTC(Number(year), month, Number(day), Number(hour), Number(minute), Number(second));
  if (new Date(local).getUTCDate() !== Number(day)) return undefined;
  const offsetMs = (Number(offsetHours) * 60 + Number(offsetMinutes)) * 60_000;
  return isoFromEpoch(sign === '-' ? local + offsetMs : local - offsetMs);
}

/** v2's ISO 8601 `created_at`, re-rendered so both formats give the same string for the same instant. */
export function isoFromIso(value: unknown): string | undefined {
  return typeof value === 'string' && ISO_DATE.test(value) ? isoFromEpoch(Date.parse(value)) : undefined;
}

/** `timestamp_ms` / `created_timestamp`: epoch milliseconds, as a string (usually) or a number. */
export function isoFromMillis(value: unknown): string | undefined {
  if (typeof value === 'string' && /^\d{1,16}$/.test(value)) return isoFromEpoch(Number(value));
  if (typeof value === 'number' && Number.isSafeInteger(value)) return isoFromEpoch(value);
  return undefined;
}

const YEAR_10000 = 253_402_300_800_000;

function isoFromEpoch(ms: number): string | undefined {
  // Before 1970 or after 9999 is no X timestamp, and toISOString would switch to the ±YYYYYY form.
  return Number.isFinite(ms) && ms >= 0 && ms < YEAR_10000 ? new Date(ms).toISOString() : undefined;
}

/** X's `lang` when it is a short language tag (data-dictionary.mdx: "BCP47 language tag"), else nothing. */
export function languageOf(value: unknown): string | undefined {
  return typeof value === 'string' && /^[a-z]{2,3}(?:-[a-z0-9]{2,8})?$/i.test(value) ? value : undefined;
}
