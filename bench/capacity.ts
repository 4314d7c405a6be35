// wcuPerNewTicket, rcuPerNewTicket, wcuPerDuplicate: DynamoDB capacity per inbound event, across the whole pipeline
// (webhook → ingest → table stream → notify), as DynamoDB Local reports it under ReturnConsumedCapacity=INDEXES
// (table and each global secondary index; see counted-functions.ts for why not TOTAL).
// New ticket = a mention from a customer never seen before. Duplicate = the very same delivery again (X retries
// and replays do exactly that), sent once the first has been fully processed. By size: the ticket item carries a copy
// of its opening message and the byTicket index projects the message, so a longer post costs more write units; new
// tickets are measured for a short mention, a full 280-character post and long posts (X's note_tweet, up to 25,000).
import { capacityByKind, countedFunctions, diffCounts, type Capacity, type FunctionKey } from './counted-functions';
import { startHelpdesk, waitForCreated } from './helpdesk';
import { round } from './stats';
import { firstTicketId, longMentionBody, mentionBody, newCustomer, postSigned, realFunctions, startBenchBridge } from './x-traffic';

type PerEvent = { wcu: number; rcu: number; wcuTable: number; wcuIndexes: Record<string, number>; calls: Record<string, Record<string, number>> };

export type CapacityResult = {
  /** DynamoDB requests (every call, reads and writes, stream reads excluded) the whole pipeline makes per new ticket. */
  dynamodbRequestsPerNewTicket: number;
  wcuPerNewTicket: number;
  rcuPerNewTicket: number;
  wcuPerDuplicate: number;
  rcuPerDuplicate: number;
  events: number;
  newTicket: PerEvent;
  duplicate: PerEvent;
  /** WCU and RCU per new ticket by the opening post's length in characters. */
  bySize: { characters: number; wcu: number; rcu: number; wcuTable: number; wcuIndexes: Record<string, number> }[];
};

/** Opening post lengths measured for bySize: a short mention, a full post, and long posts. */
const SIZES = [46, 280, 1_000, 4_000, 25_000];
const EVENTS_PER_SIZE = 5;

/** Sends `events` new-customer mentions, then the same deliveries again, one at a time. */
export async function measureCapacity(
  endpoints: { dynamodbEndpoint: string; sqsEndpoint: string },
  options: { events?: number } = {},
): Promise<CapacityResult> {
  const events = options.events ?? 20;
  const counted = countedFunctions(await realFunctions());
  const helpdesk = await startHelpdesk();
  const bridge = await startBenchBridge({
    endpoints,
    prefix: 'bench-capacity',
    handlers: counted.factories,
    env: helpdesk.env,
  });
  try {
    const customers = Array.from({ length: events }, (_, i) => newCustomer(4, i));
    const bodies = customers.map(mentionBody);
    const before = counted.snapshot();
    for (const body of bodies) {
      const status = await postSigned(bridge, body);
      if (status !== 200) throw new Error(`webhook answered ${status}`);
    }
    await waitForCreated(helpdesk.receiver, customers.map(firstTicketId), 30_000);
    await bridge.waitForIdle({ timeoutMs: 30_000 });
    const afterNew = counted.snapshot();
    for (const body of bodies) {
      const status = await postSigned(bridge, body);
      if (status !== 200) throw new Error(`webhook answered ${status}`);
    }
    await bridge.waitForIdle({ timeoutMs: 30_000 });
    const afterDuplicates = counted.snapshot();
    const created = helpdesk.receiver.events.filter((e) => e.type === 'ticket.created').length;
    if (created !== events) throw new Error(`expected ${events} ticket.created, the helpdesk holds ${created}`);

    const perEvent = (after: typeof before, start: typeof before, n = events): PerEvent => {
      const read: Capacity[] = [];
      const write: Capacity[] = [];
      const calls: PerEvent['calls'] = {};
      for (const key of Object.keys(after) as FunctionKey[]) {
        const byKind = capacityByKind(diffCounts(after[key], start[key]));
        read.push(byKind.read);
        write.push(byKind.write);
        const called = Object.entries(byKind.calls).filter(([, n]) => n > 0);
        if (called.length) calls[key] = Object.fromEntries(called.map(([name, c]) => [name, round(c / n, 2)]));
      }
      const sum = (list: Capacity[], pick: (c: Capacity) => number) => list.reduce((s, c) => s + pick(c), 0);
      const indexes: Record<string, number> = {};
      for (const c of write) for (const [index, units] of Object.entries(c.indexes)) indexes[index] = (indexes[index] ?? 0) + units;
      return {
        wcu: round(sum(write, (c) => c.total) / n),
        rcu: round(sum(read, (c) => c.total) / n),
        wcuTable: round(sum(write, (c) => c.table) / n),
        wcuIndexes: Object.fromEntries(Object.entries(indexes).map(([i, u]) => [i, round(u / n)])),
        calls,
      };
    };
    const newTicket = perEvent(afterNew, before);
    const duplicate = perEvent(afterDuplicates, afterNew, events);

    const bySize: CapacityResult['bySize'] = [];
    for (const [run, characters] of SIZES.entries()) {
      const sized = Array.from({ length: EVENTS_PER_SIZE }, (_, i) => newCustomer(10 + run, i));
      const start = counted.snapshot();
      for (const customer of sized) {
        const status = await postSigned(bridge, longMentionBody(customer, characters));
        if (status !== 200) throw new Error(`webhook answered ${status}`);
      }
      await waitForCreated(helpdesk.receiver, sized.map(firstTicketId), 30_000);
      await bridge.waitForIdle({ timeoutMs: 30_000 });
      const { wcu, rcu, wcuTable, wcuIndexes } = perEvent(counted.snapshot(), start, EVENTS_PER_SIZE);
      bySize.push({ characters, wcu, rcu, wcuTable, wcuIndexes });
    }
    const requests = Object.values(newTicket.calls).flatMap((byCall) => Object.values(byCall));
    return {
      dynamodbRequestsPerNewTicket: round(requests.reduce((sum, n) => sum + n, 0), 2),
      wcuPerNewTicket: newTicket.wcu,
      rcuPerNewTicket: newTicket.rcu,
      wcuPerDuplicate: duplicate.wcu,
      rcuPerDuplicate: duplicate.rcu,
      events,
      newTicket,
      duplicate,
      bySize,
    };
  } finally {
    await bridge.stop();
    counted.destroy();
    await helpdesk.receiver.stop();
  }
}

