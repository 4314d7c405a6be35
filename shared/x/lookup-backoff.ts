// How long an inbound item whose author X could not name waits before SQS hands it out again (functions/ingest). The
// wait is the message's visibility, set from its receive count: 30 s, doubling, at most 15 minutes a time, and never
// before the rate-limit reset X gave (`x-rate-limit-reset` on a 429: X answers sooner only with another 429).
// After QUEUES.inbound.maxReceiveCount receives, SQS parks the item in the inbound dead-letter queue.

/** The wait after the first failed receive, doubled after each one after it. */
export const LOOKUP_BACKOFF_FIRST_SECONDS = 30;
/** The longest wait between two tries, X's reset aside: one of X's 15-minute rate-limit windows. */
export const LOOKUP_BACKOFF_CAP_SECONDS = 15 * 60;
/** SQS refuses a visibility timeout over 12 hours. */
const MAX_VISIBILITY_SECONDS = 12 * 60 * 60;

/**
 * Seconds to hide a message received `receiveCount` times (1-based, SQS's ApproximateReceiveCount) whose look-up X
 * failed or refused; `notBefore` (ms since the epoch) is X's rate-limit reset when it gave one.
 */
export function lookupRetryDelaySeconds(receiveCount: number, notBefore: number | undefined, now: number): number {
  const receives = Number.isSafeInteger(receiveCount) && receiveCount > 0 ? receiveCount : 1;
  const backoff = Math.min(LOOKUP_BACKOFF_CAP_SECONDS, LOOKUP_BACKOFF_FIRST_SECONDS * 2 ** Math.min(receives - 1, 16));
  const reset = notBefore === undefined ? 0 : Math.ceil((notBefore - now) / 1000);
  return Math.min(MAX_VISIBILITY_SECONDS, Math.max(backoff, reset));
}

/** How long an item X keeps failing to name stays queued before SQS parks it, X's resets aside: the waits after receives 1 to max - 1. */
export function lookupRetryWindowSeconds(maxReceiveCount: number): number {
  let total = 0;
  for (let receives = 1; receives < maxReceiveCount; receives++) total += lookupRetryDelaySeconds(receives, undefined, 0);
  return total;
}
