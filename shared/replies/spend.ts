// What replies make X bill, estimated at X's published prices, and the brand's monthly cap on it. Pure but for the
// counter port (DynamoDB: shared/aws/dynamo-spend-counter.ts; in memory for tests).
//
// X bills pay-per-use apps per post created (NOTES.md "Prices and rules for posting", X's pricing as of 2026-02):
// $0.015 a post, $0.01 a reply where the account was summoned, $0.20 a post that contains a link. X publishes no
// separate price for sending a DM; the bridge counts one at the price of a post until the brand's console says otherwise.

/** X's prices per item, in US dollars: the one place they are written down. */
export const X_PRICES_USD = {
  /** A reply under a post where the author mentioned or quoted the account. */
  summonedReply: 0.01,
  /** Any other post (a thread's later parts answer the account's own posts). */
  post: 0.015,
  /** A post that contains a link, whatever it answers. */
  postWithLink: 0.2,
  /** A DM sent (no published price: counted as a post). */
  dm: 0.015,
} as const;
export type XPrices = { [K in keyof typeof X_PRICES_USD]: number };

/** One post of a reply as X will bill it. */
export type BilledPost = { link: boolean; summoned: boolean };

/** The estimate for a reply, in micro-dollars (integers add up exactly in the counter): each post or the DM. */
export function replyCostMicroUsd(reply: { kind: 'post'; posts: BilledPost[] } | { kind: 'dm' }, prices: XPrices = X_PRICES_USD): number {
  const micro = (usd: number) => Math.round(usd * 1_000_000);
  if (reply.kind === 'dm') return micro(prices.dm);
  return reply.posts.reduce(
    (sum, post) => sum + micro(post.link ? prices.postWithLink : post.summoned ? prices.summonedReply : prices.post),
    0,
  );
}

/** Micro-dollars as dollars, for people and events. */
export const usd = (microUsd: number) => microUsd / 1_000_000;

/** The UTC month (`2026-12`) and day (`2026-12-04`) a spend is counted in. */
export function spendPeriods(at: Date): { month: string; day: string } {
  const day = at.toISOString().slice(0, 10);
  return { month: day.slice(0, 7), day };
}

/**
 * The brand's X spend as the bridge counts it, per UTC day and calendar month. `reserve` must be atomic across
 * concurrent callers: with a cap, the month never passes it.
 */
export type SpendCounter = {
  /** The month's spend so far, in micro-dollars. */
  month(month: string): Promise<number>;
  /** The day's spend, in micro-dollars. */
  day(day: string): Promise<number>;
  /**
   * Adds `microUsd` to the month and the day, unless the month would pass `capMicroUsd`. Resolves with the month's
   * total after adding, or undefined when it would pass the cap (nothing added).
   */
  reserve(input: { month: string; day: string; microUsd: number; capMicroUsd?: number }): Promise<number | undefined>;
};

/** The share of the cap at which ops are warned (alarm XSpendNearCap): 80 %. */
export const SPEND_WARNING_SHARE = 0.8;

/** Whether the month's spend has reached 80 % of the cap. */
export const nearCap = (monthMicroUsd: number, capMicroUsd: number | undefined) =>
  capMicroUsd !== undefined && monthMicroUsd >= capMicroUsd * SPEND_WARNING_SHARE;

/** X_MONTHLY_SPEND_CAP_USD as micro-dollars; undefined when there is no cap. */
export const capMicroUsd = (capUsd: number | undefined) => (capUsd === undefined ? undefined : Math.round(capUsd * 1_000_000));
