// The report: a readable table of every figure against its target, the details that explain each figure, and the
// one JSON line (the last line of stdout) with exactly the fields the issue asks for.
import type { BundlesResult, FunctionName } from './bundles';
import type { CapacityResult } from './capacity';
import type { EndToEndResult } from './end-to-end';
import type { IngestThroughputResult } from './ingest-throughput';
import type { SqsRequestsResult } from './sqs-requests';
import type { WebhookAckResult } from './webhook-ack';

export type Figures = {
  webhookAckMs: { p50: number; p99: number };
  ingestPerSec: number;
  dbCeilingPerSec: number;
  /** Kept as a figure, no longer a target: fewer requests on DynamoDB Local can mean more capacity units on AWS. */
  ingestToCeiling: number;
  /** What a new ticket costs on AWS: requests, and the write and read units they consume. */
  dynamodbRequestsPerNewTicket: number;
  wcuPerNewTicket: number;
  rcuPerNewTicket: number;
  wcuPerDuplicate: number;
  /** WCU per new ticket by the opening post's length in characters ("46", "280", ...). */
  wcuPerNewTicketBySize: Record<string, number>;
  sqsRequestsPerEvent: number;
  bundleKb: Record<FunctionName, number>;
  initMs: Record<FunctionName, number>;
  /** Each function's init over the init of the AWS SDK packages it loads, both on Lambda's Node 24 (bench/bundles.ts). */
  initToSdkFloor: Record<FunctionName, number>;
  /** The same ratio in CPU time, which a busy machine barely moves (bench/bundles.ts). */
  initToSdkFloorCpu: Record<FunctionName, number>;
  endToEndMs: { p50: number; p99: number };
};

export type Details = {
  ack: WebhookAckResult;
  ingest: IngestThroughputResult;
  capacity: CapacityResult;
  sqs: SqsRequestsResult;
  bundles: BundlesResult;
  endToEnd: EndToEndResult;
  /** Cores' worth of CPU other processes used during each measurement (undefined off Linux). */
  foreignCores: Record<string, number | undefined>;
  seconds: number;
};

export function figuresOf(d: Details): Figures {
  return {
    webhookAckMs: d.ack.webhookAckMs,
    ingestPerSec: d.ingest.ingestPerSec,
    dbCeilingPerSec: d.ingest.dbCeilingPerSec,
    ingestToCeiling: d.ingest.ingestToCeiling,
    dynamodbRequestsPerNewTicket: d.capacity.dynamodbRequestsPerNewTicket,
    wcuPerNewTicket: d.capacity.wcuPerNewTicket,
    rcuPerNewTicket: d.capacity.rcuPerNewTicket,
    wcuPerDuplicate: d.capacity.wcuPerDuplicate,
    wcuPerNewTicketBySize: Object.fromEntries(d.capacity.bySize.map((s) => [String(s.characters), s.wcu])),
    sqsRequestsPerEvent: d.sqs.sqsRequestsPerEvent,
    bundleKb: d.bundles.bundleKb,
    initMs: d.bundles.initMs,
    initToSdkFloor: d.bundles.initToSdkFloor,
    initToSdkFloorCpu: d.bundles.initToSdkFloorCpu,
    endToEndMs: d.endToEnd.endToEndMs,
  };
}

type Row = { figure: string; value: string; target: string; met?: boolean };

/** Every figure against its target (targets from the issue; rows without a target are context). */
export function rows(f: Figures): Row[] {
  const out: Row[] = [
    { figure: 'webhookAckMs p50', value: ms(f.webhookAckMs.p50), target: '' },
    { figure: 'webhookAckMs p99', value: ms(f.webhookAckMs.p99), target: '≤ 50 ms', met: f.webhookAckMs.p99 <= 50 },
    { figure: 'ingestPerSec', value: String(f.ingestPerSec), target: '' },
    { figure: 'dbCeilingPerSec', value: String(f.dbCeilingPerSec), target: '' },
    { figure: 'ingestToCeiling', value: f.ingestToCeiling.toFixed(2), target: '' },
    { figure: 'dynamodbRequestsPerNewTicket', value: String(f.dynamodbRequestsPerNewTicket), target: '' },
    { figure: 'wcuPerNewTicket', value: String(f.wcuPerNewTicket), target: '≤ 4', met: f.wcuPerNewTicket <= 4 },
    { figure: 'rcuPerNewTicket', value: String(f.rcuPerNewTicket), target: '' },
    { figure: 'wcuPerDuplicate', value: String(f.wcuPerDuplicate), target: '≤ 1', met: f.wcuPerDuplicate <= 1 },
    { figure: 'sqsRequestsPerEvent', value: String(f.sqsRequestsPerEvent), target: '≤ 1.5', met: f.sqsRequestsPerEvent <= 1.5 },
  ];
  for (const [name, kb] of Object.entries(f.bundleKb)) {
    const limit = name === 'x-webhook' ? 100 : 200;
    out.push({ figure: `bundleKb ${name}`, value: `${kb} KB`, target: `≤ ${limit} KB`, met: kb <= limit });
  }
  for (const [name, initMs] of Object.entries(f.initMs)) {
    out.push({ figure: `initMs ${name}`, value: ms(initMs), target: '' });
  }
  for (const [name, ratio] of Object.entries(f.initToSdkFloor)) {
    out.push({ figure: `initToSdkFloor ${name}`, value: ratio.toFixed(2), target: '≤ 1.2', met: ratio <= 1.2 });
  }
  out.push({ figure: 'endToEndMs p50', value: ms(f.endToEndMs.p50), target: '' });
  out.push({ figure: 'endToEndMs p99', value: ms(f.endToEndMs.p99), target: '≤ 1000 ms', met: f.endToEndMs.p99 <= 1000 });
  return out;
}

const ms = (n: number) => `${n} ms`;

function table(header: string[], body: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

/** The details section: how each figure came about, and what it is made of. */
export function detailText(d: Details): string {
  const lines: string[] = [];
  const load = (key: string) => {
    const cores = d.foreignCores[key];
    return cores === undefined ? '' : `; other processes used ${cores.toFixed(2)} cores meanwhile`;
  };
  lines.push(
    `Webhook ack: ${d.ack.samples} signed single-event POSTs, 32 in flight, ${d.ack.deliveriesPerSec}/s; max ${d.ack.maxMs} ms; ` +
      `one delivery at a time: p50 ${d.ack.single.p50} ms, p99 ${d.ack.single.p99} ms; the bridge's process spent ` +
      `${d.ack.cpuMsPerDelivery} ms of CPU per delivery (sender in its own process)${load('ack')}.`,
  );
  lines.push(
    `Ingest: ${d.ingest.items} new-customer mentions at ${d.ingest.concurrency} concurrent invocations of 10; ` +
      `DynamoDB calls per item ${JSON.stringify(d.ingest.callsPerItem)}, capacity per item ${d.ingest.capacityPerItem.wcu} WCU / ` +
      `${d.ingest.capacityPerItem.rcu} RCU; ceiling runs ${d.ingest.ceilingRuns.join(' and ')} puts/s ` +
      `(${d.ingest.ceilingPuts} conditional PutItems of a ${d.ingest.ticketItemBytes}-byte ticket item each)${load('ingest')}.`,
  );
  const per = (p: CapacityResult['newTicket']) =>
    `${p.wcu} WCU (table ${p.wcuTable}, indexes ${JSON.stringify(p.wcuIndexes)}), ${p.rcu} RCU; calls per event ${JSON.stringify(p.calls)}`;
  lines.push(`Capacity (ReturnConsumedCapacity=INDEXES, ${d.capacity.events} events each):`);
  lines.push(`  new ticket: ${per(d.capacity.newTicket)}`);
  lines.push(`  duplicate:  ${per(d.capacity.duplicate)}`);
  lines.push(
    `  new ticket by opening post length: ${d.capacity.bySize
      .map((s) => `${s.characters} chars ${s.wcu} WCU (table ${s.wcuTable}, indexes ${JSON.stringify(s.wcuIndexes)}) / ${s.rcu} RCU`)
      .join('; ')}`,
  );
  lines.push(
    `  as TOTAL (the bridge's counter, DynamoDB Local leaves transactions' index writes out): ` +
      `${d.sqs.totalCapacityPerEvent.write} WCU, ${d.sqs.totalCapacityPerEvent.read} RCU per new ticket.`,
  );
  lines.push(
    `SQS requests: ${d.sqs.events} single-event deliveries at 32 in flight through the whole pipeline; per event ` +
      `${JSON.stringify(d.sqs.breakdown)}; inbound receives returned ${d.sqs.inboundBatchSize} messages on average; ` +
      `${d.sqs.emptyReceives} empty inbound receives; stream reads (not billed) ${d.sqs.streamRequestsPerEvent} per event${load('sqs')}.`,
  );
  const legs = d.endToEnd.legs;
  lines.push(
    `End to end: ${d.endToEnd.events} deliveries at ${d.endToEnd.ratePerSec}/s, max ${d.endToEnd.maxMs} ms; POST → ingest decision ` +
      `p50 ${legs.toIngestMs.p50} / p99 ${legs.toIngestMs.p99} ms, decision → helpdesk p50 ${legs.ingestToHelpdeskMs.p50} / ` +
      `p99 ${legs.ingestToHelpdeskMs.p99} ms; SQS requests per event at this steady rate ${d.endToEnd.sqsRequestsPerEvent}${load('endToEnd')}.`,
  );
  lines.push(
    `Bundles (esbuild as the stack bundles them; init = median fresh import on Node ${d.bundles.nodeVersion}, the SDK on ` +
      `NODE_PATH only, as on Lambda${load('bundles')}):`,
  );
  for (const [name, b] of Object.entries(d.bundles.perFunction)) {
    lines.push(
      `  ${name}: ${b.kb} KB (+${b.sourceMapKb} KB map), init ${b.initMs} ms against ${b.sdkMs} ms for the SDK packages it ` +
        `loads at init (${b.sdkAtInit.map((m) => m.replace('@aws-sdk/', '')).join(', ')}), ${b.initToSdkFloor}× ` +
        `(CPU ${b.initCpuMs} / ${b.sdkCpuMs} ms, ${b.initToSdkFloorCpu}×); later: ` +
        `${b.sdkModules.filter((m) => !b.sdkAtInit.includes(m)).map((m) => m.replace('@aws-sdk/', '')).join(', ') || 'none'}; biggest: ` +
        b.biggestInputs.map(([k, kb]) => `${k} ${kb}`).join(', '),
    );
  }
  if (d.bundles.stackDrift.length) {
    lines.push(`  WARNING: infra/constructs/bridge-function.ts no longer says ${d.bundles.stackDrift.join(' | ')}: update bench/bundles.ts.`);
  }
  return lines.join('\n');
}

/** The table, then the details, then the JSON line (which must stay last). */
export function render(d: Details): { text: string; json: string } {
  const f = figuresOf(d);
  // Context rows (no target) next to the figures they qualify.
  const all = rows(f);
  const after = (figure: string, row: Row) => all.splice(all.findIndex((r) => r.figure === figure) + 1, 0, row);
  after('webhookAckMs p99', { figure: '  lone delivery p50/p99', value: `${d.ack.single.p50} / ${d.ack.single.p99} ms`, target: '' });
  after('sqsRequestsPerEvent', { figure: `  at a steady ${d.endToEnd.ratePerSec}/s`, value: String(d.endToEnd.sqsRequestsPerEvent), target: '' });
  const body = all.map((r) => [r.figure, r.value, r.target, r.met === undefined ? '' : r.met ? 'yes' : 'NO']);
  const missed = rows(f).filter((r) => r.met === false).map((r) => r.figure);
  const text = [
    '',
    'Support Bridge benchmark (local services on loopback; figures, not pass/fail tests)',
    '',
    table(['figure', 'value', 'target', 'met'], body),
    '',
    detailText(d),
    '',
    missed.length ? `Targets missed: ${missed.join(', ')}.` : 'Every target met.',
    `Run took ${d.seconds.toFixed(0)} s.`,
  ].join('\n');
  return { text, json: JSON.stringify(f) };
}
