// endToEndMs: a signed webhook POST leaves X → the helpdesk receiver holds the verified `ticket.created`.
// Deliveries arrive open-loop at a steady rate (X sends when customers post, not when we are ready), each from a new
// customer, through the whole local pipeline: HTTP → webhook → SQS → ingest → DynamoDB → stream → notify → helpdesk.
// The local stream poller checks an idle shard every 100 ms (the bridge's default; Lambda polls a shard about four
// times a second), and the inbound queue is long-polled by two pollers, as `npm start` runs it.
import { startHelpdesk } from './helpdesk';
import type { RequestCounts } from '../infra/local/bridge';
import { latencySummary, round } from './stats';
import { firstTicketId, mentionBody, newCustomer, postSigned, realFunctions, startBenchBridge } from './x-traffic';

export type EndToEndResult = {
  endToEndMs: { p50: number; p99: number };
  events: number;
  ratePerSec: number;
  maxMs: number;
  /**
   * Where the time went, p50/p99 of each leg: POST → the ingest function's decision (the ticket's createdAt, which
   * ingest stamps after its reads), and that decision → the helpdesk holding the event (write, stream, notify, POST).
   */
  legs: { toIngestMs: { p50: number; p99: number }; ingestToHelpdeskMs: { p50: number; p99: number } };
  /** SQS requests per event at this steady rate (same rules as sqs-requests.ts). */
  sqsRequestsPerEvent: number;
};

/** Sends `events` deliveries at `ratePerSec` and times each to its ticket.created at the helpdesk. */
export async function measureEndToEnd(
  endpoints: { dynamodbEndpoint: string; sqsEndpoint: string },
  options: { events?: number; ratePerSec?: number } = {},
): Promise<EndToEndResult> {
  const events = options.events ?? 200;
  const ratePerSec = options.ratePerSec ?? 20;
  const helpdesk = await startHelpdesk();
  const bridge = await startBenchBridge({ endpoints, prefix: 'bench-e2e', handlers: await realFunctions(), env: helpdesk.env });
  try {
    const customers = Array.from({ length: events }, (_, i) => newCustomer(6, i));
    const bodies = customers.map(mentionBody);
    // A few deliveries first, untimed: the first ones pay for JIT and connection set-up in every function.
    const warm = Array.from({ length: 10 }, (_, i) => newCustomer(7, i));
    for (const c of warm) await postSigned(bridge, mentionBody(c));
    await bridge.waitForIdle({ timeoutMs: 30_000 });

    const before = bridge.requestCounts();
    const sentAt = new Map<string, number>();
    const started = Date.now();
    const posts: Promise<void>[] = [];
    for (let i = 0; i < events; i++) {
      const due = started + (i * 1000) / ratePerSec;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const ticketId = firstTicketId(customers[i]!);
      sentAt.set(ticketId, Date.now());
      posts.push(
        postSigned(bridge, bodies[i]).then((status) => {
          if (status !== 200) throw new Error(`webhook answered ${status}`);
        }),
      );
    }
    await Promise.all(posts);
    await helpdesk.receiver.waitFor(
      (received) => received.filter((e) => e.type === 'ticket.created' && sentAt.has(e.json.data.ticket?.id ?? '')).length >= events,
      60_000,
    );
    const created = helpdesk.receiver.events.filter(
      (e) => e.type === 'ticket.created' && sentAt.has(e.json.data.ticket?.id ?? '') && e.attempt === 1,
    );
    const latencies = created.map((e) => e.receivedAt.getTime() - sentAt.get(e.json.data.ticket?.id ?? '')!);
    const decidedAt = (e: (typeof created)[number]) => Date.parse(String((e.json.data.ticket as { createdAt?: string } | undefined)?.createdAt));
    const toIngest = created.map((e) => decidedAt(e) - sentAt.get(e.json.data.ticket?.id ?? '')!);
    const ingestToHelpdesk = created.map((e) => e.receivedAt.getTime() - decidedAt(e));
    await bridge.waitForIdle({ timeoutMs: 30_000 });
    const after = bridge.requestCounts();
    return {
      endToEndMs: latencySummary(latencies),
      events,
      ratePerSec,
      maxMs: Math.max(...latencies),
      legs: { toIngestMs: latencySummary(toIngest), ingestToHelpdeskMs: latencySummary(ingestToHelpdesk) },
      sqsRequestsPerEvent: round((sqsRequests(after) - sqsRequests(before)) / events, 3),
    };
  } finally {
    await bridge.stop();
    await helpdesk.receiver.stop();
  }
}

/** Every SQS request so far: the functions' own and the three queue event sources' (not the stream's). */
function sqsRequests(counts: RequestCounts): number {
  const functions = Object.values(counts.sqs).reduce((sum, c) => sum + c.calls, 0);
  const sources = ['ingest', 'notify-retry', 'reply']
    .flatMap((name) => Object.values(counts.eventSources[name] ?? {}))
    .reduce((sum, n) => sum + n, 0);
  return functions + sources;
}
