// Use case: every read the bridge makes on X (user look-ups, quoted-post look-ups, the reconciler's timeline and
// search pages, and the brand's listening searches: shared/x/listen.ts) → X's answer, within the brand's
// X_READ_BUDGET_PER_DAY. X bills reads per resource returned ($0.01 a
// user, $0.005 a post: `x-api/getting-started/pricing.mdx` in X's docs repository, xdevplatform/docs), so an unbounded
// look-up is an unbounded bill. Each request first reserves as many reads as it could cost on the day's counter (one
// conditional update: concurrent workers can never reserve past the budget together), then gives back what X did not
// bill (ids X did not find, a request that failed). Past the budget nothing is read: the caller learns which ids were
// refused, and a metric (alarmed) says so. Safe to retry: a retried read reserves again; at worst a crash between the
// reservation and its settlement leaves a few reads counted that X never billed, which errs on the side of the budget.
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { PermanentError } from '../errors';
import { count, countBy, logger, metrics } from '../logger';
import { METRIC_NAMES } from '../metric-names';
import type { XProfile } from './inbound-event';

/** What X bills a read as. */
export type XReadKind = 'user' | 'post';

/**
 * X's published price per resource read, in micro-dollars (integers, so sums stay exact): User: Read $0.010,
 * Posts: Read $0.005 (`x-api/getting-started/pricing.mdx`, "Read operations": charged per resource returned).
 */
export const X_READ_PRICE_MICRO_USD: Record<XReadKind, number> = { user: 10_000, post: 5_000 };

/** X takes at most 100 ids per `GET /2/users?ids=` and `GET /2/tweets?ids=` (X's OpenAPI: `ids` maxItems 100). */
export const X_LOOKUP_MAX_IDS = 100;

/** A user as X's users look-up describes them. */
export type XUserRecord = { xUserId: string; username: string; name: string; profile: XProfile };
/** A post as X's posts look-up describes it. */
export type XPostRecord = { xId: string; text: string; authorId?: string };

/**
 * The look-ups X offers, one request each (the X client: shared/x/x-client.ts). Each takes at most 100 ids and
 * throws RetryableError or PermanentError when X fails or refuses; `notFound` lists the ids X answered "not found"
 * for (the `errors` array of a 200).
 */
export type XLookups = {
  users(ids: string[]): Promise<{ users: XUserRecord[]; notFound: string[] }>;
  /** The posts, with their authors (`expansions=author_id`) in `users`. */
  posts(ids: string[]): Promise<{ posts: XPostRecord[]; users: XUserRecord[]; notFound: string[] }>;
};

/** One UTC day's reads, as the counter keeps them. */
export type ReadDay = { day: string; reads: number; refused: number; costMicroUsd: number } & Record<`${XReadKind}Reads`, number>;

/**
 * The day's read counter (DynamoDB: shared/aws/dynamo-x-cache.ts; in memory for tests). `reserve` must be atomic
 * across concurrent callers: the day's reserved reads never exceed `budget`.
 */
export type ReadCounter = {
  /** Reserves up to `wanted` reads of `day`, never past `budget`; resolves with how many it reserved (0 to wanted). */
  reserve(input: { day: string; wanted: number; budget: number }): Promise<number>;
  /**
   * Settles a reservation: gives back `unused` reserved reads and records the reads X returned by kind, their
   * estimated cost, and `refused` reads the budget did not allow.
   */
  settle(input: { day: string; unused: number; made: Partial<Record<XReadKind, number>>; refused: number; costMicroUsd: number }): Promise<void>;
  /** The day's record (for reports and tests). */
  day(day: string): Promise<ReadDay>;
};

/** Where the read metrics go: CloudWatch by default (Powertools EMF). */
export type ReadMetrics = {
  made(kind: XReadKind, count: number): void;
  refused(kind: XReadKind, count: number): void;
  costUsd(usd: number): void;
};

export type XReadsDeps = {
  x: XLookups;
  counter: ReadCounter;
  /** X_READ_BUDGET_PER_DAY. */
  budgetPerDay: number;
  now: () => Date;
  metrics?: ReadMetrics;
  /**
   * Told when a reservation is refused (`spent`) or granted in full (`available`), with its UTC day: the channel's
   * health follows it (shared/channel/channel-health.ts, readBudgetWatch). Never throws.
   */
  budget?: BudgetWatch;
  /**
   * Told X's code when X refuses a read for good (a PermanentError: `unauthorized`, `credits_depleted`,
   * `usage_capped`, …), and when X answers a read (with the time the request began): the channel's health follows
   * them (channel-health.ts, refusalWatch). Never throws.
   */
  refusals?: RefusalWatch;
};

/** What follows X's refusals of reads; see XReadsDeps.refusals. */
export type RefusalWatch = { refused(code: string): Promise<void>; answered(startedAt: string): Promise<void> };

/** What follows the day's read budget; see XReadsDeps.budget. */
export type BudgetWatch = { spent(day: string): Promise<void>; available(day: string): Promise<void> };

/**
 * What a look-up of some ids came to. Every id asked for is in exactly one of `found` (by id), `notFound` (X says it
 * does not exist), `refused` (the day's budget allowed no read) or `failed` (X failed or refused the request: try
 * again later; `error` says why).
 */
export type ReadOutcome<T> = {
  found: Map<string, T>;
  notFound: string[];
  refused: string[];
  failed: string[];
  error?: Error;
};

/**
 * One page of a timeline or search read (`GET /2/users/:id/mentions`, `GET /2/tweets/search/recent`): X bills the
 * posts it returns and the users (and quoted or replied-to posts) its `includes` carry, so the caller says what the
 * answer held in `made`.
 */
export type XPageAnswer<T> = { answer: T; made: Record<XReadKind, number> };

/**
 * What a page read came to: `read` (with what it cost), `refused` (the day's budget does not cover the smallest page
 * X allows: nothing was asked), or `failed` (X failed or refused the request; `error` says why, a RetryableError
 * carrying X's rate-limit reset in `notBefore` for a 429).
 */
export type PageOutcome<T> =
  | { kind: 'read'; answer: T; made: Record<XReadKind, number>; costMicroUsd: number }
  | { kind: 'refused' }
  | { kind: 'failed'; error: Error };

export type XReads = {
  /** Looks users up by id (`GET /2/users?ids=`, 100 a request), each costing one user read. */
  users(ids: string[]): Promise<ReadOutcome<XUserRecord>>;
  /**
   * Looks posts up by id (`GET /2/tweets?ids=`, with their authors), each costing one post read plus one user read
   * for its author. `authors` holds the authors X included.
   */
  posts(ids: string[]): Promise<ReadOutcome<XPostRecord> & { authors: XUserRecord[] }>;
  /**
   * Reads one page of a timeline or search: reserves a post read and a user read (its author) for each of up to
   * `maxResults` posts, asks X (`request`) for as many as the reservation covers, and settles what X returned. A
   * page's `includes` can hold more than that (the quoted post and its author): those reads are counted too, so a day
   * may end a few reads past the budget, never more than one page's includes. `refused` when fewer than
   * `minResults` (X's smallest `max_results`) are left.
   */
  page<T>(input: { kind: XReadKind; maxResults: number; minResults: number; request: (maxResults: number) => Promise<XPageAnswer<T>> }): Promise<PageOutcome<T>>;
};

/** The UTC day (`yyyy-mm-dd`) a read at `at` counts against: X's own billing day. */
export function readDayOf(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/**
 * The read metrics as CloudWatch gets them: reads by `kind`, the estimated cost, and refusals with the brand's
 * dimensions only (its alarm, infra/constructs/bridge-monitoring.ts, names exactly those).
 */
export const cloudWatchReadMetrics: ReadMetrics = {
  made: (kind, n) => countBy(METRIC_NAMES.XReads, 'kind', kind, n),
  refused: (_kind, n) => count(METRIC_NAMES.XReadsRefused, n),
  costUsd: (usd) => {
    if (usd > 0) metrics.addMetric(METRIC_NAMES.XReadCostUsd, MetricUnit.NoUnit, usd);
  },
};

/**
 * The one way the bridge reads X. Never throws for X's sake (failures are reported per id in the outcome); throws
 * only when the counter itself cannot be reached, in which case nothing was read.
 */
export function xReads(deps: XReadsDeps): XReads {
  const report = deps.metrics ?? cloudWatchReadMetrics;

  /**
   * One request's worth of ids: reserve `perId` reads for each, ask X for as many as the reservation covers, then
   * settle what X actually returned.
   */
  async function readChunk<T>(
    ids: string[],
    perId: number,
    request: (ids: string[]) => Promise<{ found: Map<string, T>; notFound: string[]; made: Record<XReadKind, number> }>,
    kind: XReadKind,
  ): Promise<ReadOutcome<T>> {
    const day = readDayOf(deps.now());
    const reservedReads = await deps.counter.reserve({ day, wanted: ids.length * perId, budget: deps.budgetPerDay });
    const allowed = ids.slice(0, Math.floor(reservedReads / perId));
    const refused = ids.slice(allowed.length);
    const unusedSlack = reservedReads - allowed.length * perId;
    if (refused.length > 0) await deps.budget?.spent(day);
    else await deps.budget?.available(day);
    if (refused.length > 0) {
      report.refused(kind, refused.length);
      logger.warn('X read budget spent for today: ids left unread', {
        day,
        kind,
        refused: refused.length,
        budgetPerDay: deps.budgetPerDay,
      });
    }
    if (allowed.length === 0) {
      await deps.counter.settle({ day, unused: unusedSlack, made: {}, refused: refused.length * perId, costMicroUsd: 0 });
      return { found: new Map(), notFound: [], refused, failed: [] };
    }
    let answer: Awaited<ReturnType<typeof request>>;
    const startedAt = deps.now().toISOString();
    try {
      answer = await request(allowed);
    } catch (error) {
      // X bills what it returns: a failed request returned nothing, so its whole reservation goes back.
      await deps.counter.settle({ day, unused: reservedReads, made: {}, refused: refused.length * perId, costMicroUsd: 0 });
      if (error instanceof PermanentError) await deps.refusals?.refused(error.code);
      return { found: new Map(), notFound: [], refused, failed: allowed, error: error as Error };
    }
    await deps.refusals?.answered(startedAt);
    const made = answer.made.user + answer.made.post;
    const costMicroUsd = answer.made.user * X_READ_PRICE_MICRO_USD.user + answer.made.post * X_READ_PRICE_MICRO_USD.post;
    await deps.counter.settle({
      day,
      unused: reservedReads - made,
      made: answer.made,
      refused: refused.length * perId,
      costMicroUsd,
    });
    for (const k of ['user', 'post'] as const) if (answer.made[k] > 0) report.made(k, answer.made[k]);
    report.costUsd(costMicroUsd / 1_000_000);
    return { found: answer.found, notFound: answer.notFound, refused, failed: [] };
  }

  async function inChunks<T>(ids: string[], read: (chunk: string[]) => Promise<ReadOutcome<T>>): Promise<ReadOutcome<T>> {
    const unique = [...new Set(ids)];
    const total: ReadOutcome<T> = { found: new Map(), notFound: [], refused: [], failed: [] };
    for (let i = 0; i < unique.length; i += X_LOOKUP_MAX_IDS) {
      const part = await read(unique.slice(i, i + X_LOOKUP_MAX_IDS));
      for (const [id, value] of part.found) total.found.set(id, value);
      total.notFound.push(...part.notFound);
      total.refused.push(...part.refused);
      total.failed.push(...part.failed);
      total.error ??= part.error;
    }
    return total;
  }

  async function page<T>(input: {
    kind: XReadKind;
    maxResults: number;
    minResults: number;
    request: (maxResults: number) => Promise<XPageAnswer<T>>;
  }): Promise<PageOutcome<T>> {
    const day = readDayOf(deps.now());
    // A post read and its author's user read for each post the page may return.
    const perPost = 2;
    const reserved = await deps.counter.reserve({ day, wanted: input.maxResults * perPost, budget: deps.budgetPerDay });
    const maxResults = Math.floor(reserved / perPost);
    if (maxResults < input.minResults) await deps.budget?.spent(day);
    else await deps.budget?.available(day);
    if (maxResults < input.minResults) {
      report.refused(input.kind, input.minResults);
      logger.warn('X read budget spent for today: page left unread', { day, kind: input.kind, budgetPerDay: deps.budgetPerDay });
      await deps.counter.settle({ day, unused: reserved, made: {}, refused: input.minResults * perPost, costMicroUsd: 0 });
      return { kind: 'refused' };
    }
    let answer: XPageAnswer<T>;
    const startedAt = deps.now().toISOString();
    try {
      answer = await input.request(maxResults);
    } catch (error) {
      await deps.counter.settle({ day, unused: reserved, made: {}, refused: 0, costMicroUsd: 0 });
      if (error instanceof PermanentError) await deps.refusals?.refused(error.code);
      return { kind: 'failed', error: error as Error };
    }
    await deps.refusals?.answered(startedAt);
    const made = answer.made.user + answer.made.post;
    const costMicroUsd = answer.made.user * X_READ_PRICE_MICRO_USD.user + answer.made.post * X_READ_PRICE_MICRO_USD.post;
    await deps.counter.settle({ day, unused: reserved - made, made: answer.made, refused: 0, costMicroUsd });
    for (const k of ['user', 'post'] as const) if (answer.made[k] > 0) report.made(k, answer.made[k]);
    report.costUsd(costMicroUsd / 1_000_000);
    return { kind: 'read', answer: answer.answer, made: answer.made, costMicroUsd };
  }

  return {
    page,
    users: (ids) =>
      inChunks(ids, (chunk) =>
        readChunk(
          chunk,
          1,
          async (allowed) => {
            const answer = await deps.x.users(allowed);
            return {
              found: new Map(answer.users.map((u) => [u.xUserId, u])),
              notFound: answer.notFound,
              made: { user: answer.users.length, post: 0 },
            };
          },
          'user',
        ),
      ),
    async posts(ids) {
      const authors = new Map<string, XUserRecord>();
      const outcome = await inChunks(ids, (chunk) =>
        readChunk(
          chunk,
          // A post read, and the user read of its author that `expansions=author_id` returns with it.
          2,
          async (allowed) => {
            const answer = await deps.x.posts(allowed);
            for (const user of answer.users) authors.set(user.xUserId, user);
            return {
              found: new Map(answer.posts.map((p) => [p.xId, p])),
              notFound: answer.notFound,
              made: { user: answer.users.length, post: answer.posts.length },
            };
          },
          'post',
        ),
      );
      return { ...outcome, authors: [...authors.values()] };
    },
  };
}
