// When a failed ticket event is tried again (contract §4: the first retry within 10 s, then minutes, then hours,
// about a day in all, then the dead-letter queue). Pure: the notify use case applies it to the notify-retry queue.
//
// How the schedule maps onto SQS: the first delivery attempt comes from the table stream. When it fails, the event is
// sent to the notify-retry queue with DelaySeconds = retryDelaySeconds(1). Each receive of that message is one retry;
// when receive k fails, the message is hidden for retryDelaySeconds(k + 1) (ChangeMessageVisibility). After receive
// number RETRY_SCHEDULE_SECONDS.length fails, SQS's redrive policy (maxReceiveCount, which must equal that length)
// parks it in the dead-letter queue.

/**
 * The wait before retry n (index n - 1), in seconds, before jitter. Sum: 85,955 s, about 23 h 53 min. Every entry stays
 * within what SQS can do: the first is a send delay (at most 900 s), the rest are visibility timeouts (at most 12 h).
 */
export const RETRY_SCHEDULE_SECONDS = [
  5, // 5 s: a blip (deploy, restart) is over
  30, // 30 s
  2 * 60, // 2 min
  5 * 60, // 5 min
  15 * 60, // 15 min
  30 * 60, // 30 min
  60 * 60, // 1 h
  2 * 60 * 60, // 2 h
  3 * 60 * 60, // 3 h
  4 * 60 * 60, // 4 h
  6 * 60 * 60, // 6 h
  7 * 60 * 60, // 7 h: the last retry, ~24 h after the first attempt
] as const;

/** How many retries the schedule has; the notify-retry queue's maxReceiveCount must be this number. */
export const RETRY_COUNT = RETRY_SCHEDULE_SECONDS.length;

/** How far jitter moves a delay either way: enough to spread a burst of failures, small enough to keep the schedule. */
export const JITTER_FRACTION = 0.1;

/**
 * Seconds to wait before retry number `attempt` (1-based), as a whole number, with up to ±10 % jitter so events that
 * failed together do not all come back in the same second. `random` returns [0, 1) like Math.random; tests pass a
 * constant. Past the end of the schedule it keeps the last delay.
 */
export function retryDelaySeconds(attempt: number, random: () => number = Math.random): number {
  if (!Number.isInteger(attempt) || attempt < 1) throw new RangeError(`retry attempt must be a positive integer: ${attempt}`);
  const base = RETRY_SCHEDULE_SECONDS[Math.min(attempt, RETRY_COUNT) - 1]!;
  const factor = 1 + JITTER_FRACTION * (2 * random() - 1);
  return Math.max(1, Math.round(base * factor));
}
