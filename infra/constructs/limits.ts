// How hard each part of a brand's stack may be driven, worked out from numbers rather than AWS's defaults. The README's
// "How far one brand's stack goes" explains what each limit protects and what to change past it; test/infra/limits.test.ts
// checks the template carries these and that the arithmetic below still holds.

/**
 * X's webhook route. X delivers one event per request and gives up on a delivery it does not see answered within 3 s
 * (older docs; 10 s in newer ones), retrying a few times over ~5 minutes. 100 deliveries a second is 360,000 events an
 * hour: past it, X's own bill (`post.create` events at $0.005 each, $1,800 an hour) is the brand's problem, not this
 * route's. The burst is what X may send at once after an outage of its own.
 */
export const WEBHOOK_ROUTE = { rateLimit: 100, burstLimit: 200 } as const;

/**
 * One x-webhook invocation on Lambda: the signature check and normaliser (2–7 ms measured by `npm run bench`, lone
 * delivery p50/p99) plus one SQS SendMessageBatch (~20–30 ms in-region): 40 ms at p99. A cold environment answers its
 * first delivery after ~0.5 s (init on Node 24 at 512 MB, the secret read, the first TLS connection to SQS).
 */
export const WEBHOOK_TIMING = { warmP99Seconds: 0.04, coldFirstAnswerSeconds: 0.5 } as const;

/** X's shortest documented deadline for answering a delivery. */
export const X_ANSWER_DEADLINE_SECONDS = 3;

/**
 * Reserved concurrency of x-webhook: a guaranteed pool that no other function of the account (another brand's, or this
 * brand's helpdesk API) can take, and enough for the route's whole burst to be answered within X's deadline from cold.
 * With `n` environments the first n deliveries are answered after coldFirstAnswerSeconds, the rest at n / warmP99 per
 * second (webhookBurstSeconds): 20 answer the whole 200-delivery burst in 0.86 s from cold, under a third of X's
 * deadline, which leaves room for a slower SQS; 10 would take 1.26 s.
 */
export const WEBHOOK_RESERVED_CONCURRENCY = 20;

/** Seconds `concurrency` environments, all cold, take to answer a burst of `burst` deliveries. */
export function webhookBurstSeconds(concurrency: number, burst: number = WEBHOOK_ROUTE.burstLimit): number {
  const rest = Math.max(0, burst - concurrency);
  return WEBHOOK_TIMING.coldFirstAnswerSeconds + rest / (concurrency / WEBHOOK_TIMING.warmP99Seconds);
}

/**
 * Reserved concurrency of helpdesk-api, also its ceiling: the brand's `apiThrottling` (default 50 requests/s on each
 * helpdesk route) at ~100 ms p99 per call (a DynamoDB query or transaction, X's length counter on a reply) is 5
 * environments busy; 10 leaves room for cold starts. A helpdesk calling harder gets 429 from API Gateway or a throttle
 * from Lambda: its own requests fail, never X's deliveries.
 */
export const HELPDESK_API_RESERVED_CONCURRENCY = 10;

/**
 * The most ingest invocations the inbound queue's event source runs at once. One invocation takes a batch of 10 items
 * at ~3 DynamoDB requests each, run concurrently within the batch: ~50 ms a batch, ~200 items/s per environment. Two
 * keep up with the webhook route's 100/s sustained; 5 drain a full burst (200) within a second and cap the writes at
 * ~1,000 items/s × 4 WCU = 4,000 WCU/s, what an on-demand table absorbs without warming (DynamoDB's documented initial
 * on-demand throughput: 4,000 write request units a second). A backlog waits in the queue, durably.
 */
export const INGEST_MAX_CONCURRENCY = 5;

/** The account's default concurrency quota, and what AWS requires to stay unreserved in it. */
export const ACCOUNT_CONCURRENCY = { quota: 1_000, unreservedMinimum: 100 } as const;
