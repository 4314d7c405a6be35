// sqsRequestsPerEvent: every SQS request the pipeline makes per inbound event, over a burst of single-event
// deliveries at 32 in flight (the shape of webhookAckMs), through the whole pipeline: the webhook's sends, the
// functions' own calls (notify's retry sends, reply's visibility changes) and the event sources' receives and deletes.
//
// What counts: every request that completed during the run, empty receives included (the two idle queues'
// pollers keep long-polling while the inbound queue is busy, as Lambda's pollers do). What does not: the long polls
// still waiting when the pipeline is idle again. The event sources count a receive when it starts, and at both
// snapshots (taken idle) every poller has exactly one receive waiting, so the difference between the snapshots is
// exactly the receives that completed in between.
//
// On AWS these requests are billed too: Lambda's event source mapping polls SQS with ReceiveMessage and deletes with
// DeleteMessageBatch on the account's queue, and SQS charges each as a request (64 KB chunks), long polls included.
// DynamoDB Streams reads by a Lambda trigger are not billed, so the stream's GetRecords are reported, not counted.
import type { RequestCounts } from '../infra/local/bridge';
import { startHelpdesk, waitForCreated } from './helpdesk';
import { round } from './stats';
import { ACK_CONCURRENCY } from './webhook-ack';
import { closedLoop, firstTicketId, mentionBody, newCustomer, postSigned, realFunctions, startBenchBridge } from './x-traffic';

const SQS_SOURCES = ['ingest', 'notify-retry', 'reply'];

export type SqsRequestsResult = {
  sqsRequestsPerEvent: number;
  events: number;
  /** Requests per event by who made them and what they were. */
  breakdown: Record<string, number>;
  /** Messages per ReceiveMessage that returned any, on the inbound queue. */
  inboundBatchSize: number;
  emptyReceives: number;
  streamRequestsPerEvent: number;
  /** DynamoDB capacity per event as the bridge's own counter reports it (ReturnConsumedCapacity=TOTAL). */
  totalCapacityPerEvent: { write: number; read: number };
};

/** Counts SQS requests over `events` single-event deliveries at ACK_CONCURRENCY in flight. */
export async function measureSqsRequests(
  endpoints: { dynamodbEndpoint: string; sqsEndpoint: string },
  options: { events?: number; concurrency?: number } = {},
): Promise<SqsRequestsResult> {
  const events = options.events ?? 512;
  const concurrency = options.concurrency ?? ACK_CONCURRENCY;
  const helpdesk = await startHelpdesk();
  const bridge = await startBenchBridge({ endpoints, prefix: 'bench-sqs', handlers: await realFunctions(), env: helpdesk.env });
  try {
    await bridge.waitForIdle({ timeoutMs: 30_000 });
    const before = bridge.requestCounts();
    const statsBefore = bridge.eventSources.ingest?.stats();
    const customers = Array.from({ length: events }, (_, i) => newCustomer(5, i));
    const bodies = customers.map(mentionBody);
    await closedLoop(events, concurrency, async (i) => {
      const status = await postSigned(bridge, bodies[i]);
      if (status !== 200) throw new Error(`webhook answered ${status}`);
    });
    await waitForCreated(helpdesk.receiver, customers.map(firstTicketId), 120_000);
    await bridge.waitForIdle({ timeoutMs: 60_000 });
    const after = bridge.requestCounts();
    const statsAfter = bridge.eventSources.ingest?.stats();

    const breakdown: Record<string, number> = {};
    let total = 0;
    for (const [name, c] of Object.entries(after.sqs)) {
      const n = c.calls - (before.sqs[name]?.calls ?? 0);
      if (n > 0) breakdown[`functions ${name}`] = n;
      total += n;
    }
    for (const source of SQS_SOURCES) {
      for (const [action, n] of Object.entries(after.eventSources[source] ?? {})) {
        const d = n - (before.eventSources[source]?.[action] ?? 0);
        if (d > 0) breakdown[`${source} ${action}`] = d;
        total += d;
      }
    }
    const stream = Object.values(after.eventSources['notify-stream'] ?? {}).reduce((s, n) => s + n, 0) -
      Object.values(before.eventSources['notify-stream'] ?? {}).reduce((s, n) => s + n, 0);
    const receivedMessages = (statsAfter?.received ?? 0) - (statsBefore?.received ?? 0);
    const emptyReceives = (statsAfter?.emptyReceives ?? 0) - (statsBefore?.emptyReceives ?? 0);
    const receives = (after.eventSources.ingest?.ReceiveMessage ?? 0) - (before.eventSources.ingest?.ReceiveMessage ?? 0);
    return {
      sqsRequestsPerEvent: round(total / events, 3),
      events,
      breakdown: Object.fromEntries(Object.entries(breakdown).map(([k, n]) => [k, round(n / events, 3)])),
      inboundBatchSize: round(receivedMessages / Math.max(1, receives - emptyReceives), 2),
      emptyReceives,
      streamRequestsPerEvent: round(stream / events, 3),
      totalCapacityPerEvent: capacityPerEvent(after, before, events),
    };
  } finally {
    await bridge.stop();
    await helpdesk.receiver.stop();
  }
}

const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);

function capacityPerEvent(after: RequestCounts, before: RequestCounts, events: number) {
  let write = 0;
  let read = 0;
  for (const [name, c] of Object.entries(after.dynamodb)) {
    const units = c.capacityUnits - (before.dynamodb[name]?.capacityUnits ?? 0);
    if (WRITES.has(name)) write += units;
    else read += units;
  }
  return { write: round(write / events), read: round(read / events) };
}
