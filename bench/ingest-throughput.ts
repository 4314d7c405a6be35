// ingestPerSec, dbCeilingPerSec, ingestToCeiling: how close the real ingest function comes to what this DynamoDB
// Local can write at all.
//
// Method, chosen to be fair to both sides:
// - Ingest: N new-customer mentions, normalised exactly as the webhook normalises them, are put on the inbound queue
//   before any consumer runs. Then the bridge's own SQS event source (the local stand-in for Lambda's event source
//   mapping) drains the queue with C pollers, each with one batch of 10 in flight: C concurrent invocations, as
//   Lambda would run them, receive and delete included. The clock runs from the first invocation's start to the last
//   invocation's end, so table and queue setup stay out of it.
// - Ceiling: C workers each send conditional PutItems (attribute_not_exists(pk)) of a real ticket item (taken from a
//   one-item ingest run: same size, same byStatus index key) with a client configured as the functions' clients are.
//   That is the cheapest durable write a new ticket could cost, at the same concurrency. The puts go to the ingest
//   run's own table (keys no mention uses), so both sides write to the same table in the same state.
// - Order: a short warm-up (java's JIT), then ceiling, ingest, ceiling again. DynamoDB Local gets faster as a table
//   warms and slower when the machine is busy, so the ceiling reported is the mean of the runs that bracket the ingest.
// - Concurrency: ingest's lanes can put up to 10 × C requests in flight, the ceiling only C. That does not flatter
//   ingest: DynamoDB Local is CPU-bound already at C = 8 on this machine (C = 32 gave under 10 % more puts per second).
import { DynamoDBClient, PutItemCommand, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { DEV_DEFAULTS, type HandlerFactories, type LocalBridge } from '../infra/local/bridge';
import { LOCAL_AWS, ensureResources } from '../infra/local/services';
import type { SqsHandler } from '../infra/local/sqs-event-source';
import { toSqsBody } from '../shared/aws/sqs-queue';
import type { Config } from '../shared/config';
import type { AwsClients } from '../shared/aws/clients';
import { normaliseWebhookBody } from '../shared/x/normalise';
import { capacityByKind, countedFunctions, diffCounts, type FunctionCounts } from './counted-functions';
import { round } from './stats';
import { closedLoop, mentionBody, newCustomer, realFunctions, startBenchBridge } from './x-traffic';

export type IngestThroughputResult = {
  ingestPerSec: number;
  dbCeilingPerSec: number;
  ingestToCeiling: number;
  concurrency: number;
  items: number;
  ceilingRuns: number[];
  ceilingPuts: number;
  /** DynamoDB calls the ingest function made per item, by command. */
  callsPerItem: Record<string, number>;
  failures: number;
  ticketItemBytes: number;
  /** The ingest function's own capacity per item during the run (INDEXES: table and indexes). */
  capacityPerItem: { wcu: number; rcu: number };
};

type Endpoints = { dynamodbEndpoint: string; sqsEndpoint: string };

/** Runs the whole comparison; what it creates lives under `<prefix>-*` (default `bench-ingest`) and `bench-template-*`. */
export async function measureIngestThroughput(
  endpoints: Endpoints,
  options: {
    items?: number;
    concurrency?: number;
    ceilingPuts?: number;
    /** Another ingest factory to measure the same way (experiments on a copy of the use case or the store). */
    ingest?: HandlerFactories['ingest'];
    /** Table and queue prefix; each measurement in one process needs its own. */
    prefix?: string;
  } = {},
): Promise<IngestThroughputResult> {
  const items = options.items ?? 2000;
  const concurrency = options.concurrency ?? 8;
  const ceilingPuts = options.ceilingPuts ?? 3000;
  const dynamodb = new DynamoDBClient({ endpoint: endpoints.dynamodbEndpoint, ...LOCAL_AWS, maxAttempts: 4 });
  const sqs = new SQSClient({ endpoint: endpoints.sqsEndpoint, ...LOCAL_AWS });
  try {
    const prefix = options.prefix ?? 'bench-ingest';
    const tableName = `${prefix}-tickets`;
    const resources = await ensureResources({ dynamodb, sqs }, { tableName, queuePrefix: prefix });
    const template = await ticketTemplate(endpoints);
    await warmUpDynamoDb(dynamodb, tableName, template, concurrency);
    const ceilingRuns = [await ceiling(dynamodb, tableName, 'a', template, ceilingPuts, concurrency)];
    await enqueue(sqs, resources.queues.inbound.url, queuedMentions(2, items));
    const ingest = await ingestRun(endpoints, prefix, items, concurrency, options.ingest);
    ceilingRuns.push(await ceiling(dynamodb, tableName, 'b', template, ceilingPuts, concurrency));
    const dbCeilingPerSec = ceilingRuns.reduce((a, b) => a + b, 0) / ceilingRuns.length;
    return {
      ingestPerSec: Math.round(ingest.perSec),
      dbCeilingPerSec: Math.round(dbCeilingPerSec),
      ingestToCeiling: round(ingest.perSec / dbCeilingPerSec, 3),
      concurrency,
      items,
      ceilingRuns: ceilingRuns.map((r) => Math.round(r)),
      ceilingPuts,
      callsPerItem: Object.fromEntries(
        Object.entries(ingest.counts.dynamodb).map(([name, c]) => [name, round(c.calls / items, 2)]),
      ),
      failures: ingest.failures,
      ticketItemBytes: approximateItemBytes(template),
      capacityPerItem: (() => {
        const { read, write } = capacityByKind(ingest.counts);
        return { wcu: round(write.total / items), rcu: round(read.total / items) };
      })(),
    };
  } finally {
    dynamodb.destroy();
    sqs.destroy();
  }
}

/** Normalised queue bodies for `count` new customers, as the webhook would have queued them. */
function queuedMentions(run: number, count: number): string[] {
  const receivedAt = new Date().toISOString();
  return Array.from({ length: count }, (_, i) => {
    const { events } = normaliseWebhookBody(mentionBody(newCustomer(run, i)), {
      botUserId: DEV_DEFAULTS.X_BOT_USER_ID,
      botUsername: DEV_DEFAULTS.X_BOT_USERNAME,
      receivedAt,
    });
    if (events.length !== 1) throw new Error('the bench mention did not normalise to one inbound event');
    return toSqsBody(events[0]);
  });
}

async function enqueue(sqs: SQSClient, queueUrl: string, bodies: string[]): Promise<void> {
  const batches: string[][] = [];
  for (let i = 0; i < bodies.length; i += 10) batches.push(bodies.slice(i, i + 10));
  await closedLoop(batches.length, 8, async (b) => {
    const result = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: batches[b]!.map((body, i) => ({ Id: String(i), MessageBody: body })),
      }),
    );
    if (result.Failed?.length) throw new Error(`the emulator refused ${result.Failed.length} messages`);
  });
}

/** Drains the (already filled) inbound queue with the ingest function; the bridge reuses the queue by name. */
async function ingestRun(
  endpoints: Endpoints,
  prefix: string,
  items: number,
  concurrency: number,
  factory?: HandlerFactories['ingest'],
) {
  const ingest = factory ?? (await realFunctions()).ingest;
  if (!ingest) throw new Error('functions/ingest/handler.ts is missing');
  const counted = countedFunctions({ ingest });
  let firstStart: number | undefined;
  let lastEnd = 0;
  let done = 0;
  let failures = 0;
  const timed = (config: Config, clients?: AwsClients): SqsHandler => {
    const handler = counted.factories.ingest!(config, clients);
    return async (event: SQSEvent) => {
      firstStart ??= performance.now();
      const result = (await handler(event)) as SQSBatchResponse | undefined;
      const failed = result?.batchItemFailures.length ?? 0;
      failures += failed;
      done += event.Records.length - failed;
      lastEnd = performance.now();
      return result;
    };
  };
  const bridge: LocalBridge = await startBenchBridge({ endpoints, prefix, handlers: { ingest: timed }, sqsConcurrency: concurrency });
  try {
    const deadline = Date.now() + 120_000;
    while (done < items) {
      if (Date.now() > deadline) throw new Error(`ingest processed ${done} of ${items} items within 120 s`);
      await new Promise((r) => setTimeout(r, 20));
    }
    await bridge.waitForIdle({ timeoutMs: 30_000 });
    const counts: FunctionCounts = diffCounts(counted.snapshot().ingest, undefined);
    return { perSec: items / ((lastEnd - (firstStart ?? lastEnd)) / 1000), counts, failures };
  } finally {
    await bridge.stop();
    counted.destroy();
  }
}

/** One ticket item exactly as ingest writes it, read back from a small ingest run's table. */
export async function ticketTemplate(endpoints: Endpoints): Promise<Record<string, AttributeValue>> {
  const { ingest } = await realFunctions();
  const prefix = 'bench-template';
  const bridge = await startBenchBridge({ endpoints, prefix, handlers: { ingest } });
  const dynamodb = new DynamoDBClient({ endpoint: endpoints.dynamodbEndpoint, ...LOCAL_AWS });
  try {
    const queue = new SQSClient({ endpoint: endpoints.sqsEndpoint, ...LOCAL_AWS });
    await enqueue(queue, bridge.resources.queues.inbound.url, queuedMentions(3, 1));
    queue.destroy();
    await bridge.waitForIdle({ timeoutMs: 30_000 });
    const deadline = Date.now() + 30_000;
    for (;;) {
      const scan = await dynamodb.send(new ScanCommand({ TableName: bridge.resources.tableName }));
      const ticket = scan.Items?.find((item) => item.type?.S === 'ticket');
      if (ticket) return ticket;
      if (Date.now() > deadline) throw new Error('the template ticket never appeared');
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    dynamodb.destroy();
    await bridge.stop();
  }
}

/** Conditional PutItems per second of `template`-shaped items under fresh keys of `tableName`, `concurrency` in flight. */
export async function ceiling(
  dynamodb: DynamoDBClient,
  tableName: string,
  run: string,
  template: Record<string, AttributeValue>,
  puts: number,
  concurrency: number,
): Promise<number> {
  // Distinct keys per put, and the byStatus index key varied too, so every put is a new item in table and index.
  const item = (i: number): Record<string, AttributeValue> => ({
    ...template,
    pk: { S: `CUST#ceiling-${run}-${i}` },
    gsi1sk: { S: `${template.gsi1sk?.S ?? ''}#${run}${i}` },
  });
  const started = performance.now();
  await closedLoop(puts, concurrency, async (i) => {
    await dynamodb.send(
      new PutItemCommand({ TableName: tableName, Item: item(i), ConditionExpression: 'attribute_not_exists(pk)' }),
    );
  });
  return puts / ((performance.now() - started) / 1000);
}

/** Puts of the same item shape into the same table, untimed, so java's JIT has compiled the write path. */
export async function warmUpDynamoDb(
  dynamodb: DynamoDBClient,
  tableName: string,
  template: Record<string, AttributeValue>,
  concurrency: number,
): Promise<void> {
  await ceiling(dynamodb, tableName, 'warm', template, 600, concurrency);
}

/** DynamoDB's item size: attribute names plus values (strings and numbers approximated by their text length). */
function approximateItemBytes(item: Record<string, AttributeValue>): number {
  const size = (value: AttributeValue): number => {
    if (value.S !== undefined) return Buffer.byteLength(value.S);
    if (value.N !== undefined) return Math.ceil(value.N.length / 2) + 1;
    if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
    if (value.M) return 3 + Object.entries(value.M).reduce((s, [k, v]) => s + Buffer.byteLength(k) + 1 + size(v), 0);
    if (value.L) return 3 + value.L.reduce((s, v) => s + 1 + size(v), 0);
    if (value.SS) return value.SS.reduce((s, v) => s + Buffer.byteLength(v), 0);
    return 0;
  };
  return Object.entries(item).reduce((sum, [name, value]) => sum + Buffer.byteLength(name) + size(value), 0);
}
