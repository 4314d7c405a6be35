// Use cases of the DLQ CLI (`npm run dlq`): how much each of a brand's dead-letter queues holds, what is parked there
// (ids, counts, routing facts; never customer text), and moving it back to the queue it came from. Each command takes
// an SQS client and an output sink; argv, endpoints and exit codes are dlq-program.ts's business.
//
// The stream failures queue is the exception: its records say where a failed batch was in the table stream, not what
// it held, so its redrive rebuilds the batch's events from the stream (dlq-stream-failures.ts).
//
// Redrive uses SQS's own StartMessageMoveTask where the endpoint has it (AWS): SQS moves every message with its body
// and attributes. Where it does not (the fauxqs emulator of `npm start` answers InvalidAction), or when only some
// messages should move (--max), messages move one by one: sent to the source queue first, deleted from the DLQ after,
// so a crash in between leaves a duplicate (which every consumer of the bridge recognises), never a loss.
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListMessageMoveTasksCommand,
  QueueDoesNotExist,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSServiceException,
  StartMessageMoveTaskCommand,
  UnsupportedOperation,
  type Message,
  type MessageAttributeValue,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import * as z from 'zod';
import { QUEUES } from '../../shared/aws/resources';
import { CommandFailure, UsageError, type Output } from './cli-support';
import { redriveStreamFailures } from './dlq-stream-failures';

/** What a dead-letter queue holds, which decides how its messages are summarised and whether they can go back. */
export type DeadLetterKind = (typeof QUEUES)[keyof typeof QUEUES]['suffix'] | 'notify-stream-failures';

/** One of a brand's dead-letter queues; `sourceName` is the work queue its messages came from (none for stream failures). */
export type DeadLetterQueue = { label: DeadLetterKind; name: string; sourceName?: string };

/** What the DLQ commands run with. */
export type DlqContext = {
  sqs: SQSClient;
  out: Output;
  brand: string;
  /** Where the queues are, for messages: "AWS eu-west-1" or the emulator's endpoint. */
  where: string;
  /** The queues are the local runner's (`npm start`). */
  local?: boolean;
  /**
   * The table stream and the table, which the redrive of notify-stream-failures reads to rebuild events. Absent when
   * the command line gave no way to reach them (locally: no --dynamodb-endpoint).
   */
  tables?: { streams: DynamoDBStreamsClient; dynamodb: DynamoDBClient };
  /** Waits between polls of a running move task; tests pass a fast one. */
  sleep?: (ms: number) => Promise<void>;
  /** How long `redrive` follows a move task before leaving it to run on its own. Default 5 minutes. */
  moveTaskWaitMs?: number;
};

/** The name prefix of a brand's resources on AWS (infra/stack.ts) and in the local runner (infra/local/bridge.ts). */
export function queuePrefix(brand: string): string {
  return `support-bridge-${brand}`;
}

/**
 * A brand's dead-letter queues, named as infra/constructs/work-queues.ts names them: `<prefix>-<suffix>-dlq` for each
 * work queue of shared/aws/resources.ts, and `<prefix>-notify-stream-failures`, the table stream's failure destination.
 */
export function deadLetterQueues(brand: string): DeadLetterQueue[] {
  const prefix = queuePrefix(brand);
  return [
    ...Object.values(QUEUES).map((spec) => ({
      label: spec.suffix,
      name: `${prefix}-${spec.suffix}-dlq`,
      sourceName: `${prefix}-${spec.suffix}`,
    })),
    { label: 'notify-stream-failures' as const, name: `${prefix}-notify-stream-failures` },
  ];
}

/** The dead-letter queue a person named: its label (`notify-retry`), `<label>-dlq`, or its full name. UsageError otherwise. */
export function findDeadLetterQueue(brand: string, queue: string): DeadLetterQueue {
  const found = deadLetterQueues(brand).find((q) => [q.label, `${q.label}-dlq`, q.name].includes(queue));
  if (!found) {
    const labels = deadLetterQueues(brand).map((q) => q.label);
    throw new UsageError(`no dead-letter queue "${queue}" for brand ${brand}: use one of ${labels.join(', ')}`);
  }
  return found;
}

type ResolvedQueue = { name: string; url: string };

function deployedHint(ctx: DlqContext): string {
  return ctx.local
    ? `is \`npm start\` running there with BRAND=${ctx.brand}?`
    : `is brand ${ctx.brand}'s stack deployed in this account and region?`;
}

/** `list`: each dead-letter queue's approximate depth. Resolves false when a queue does not exist. */
export async function listCommand(ctx: DlqContext): Promise<boolean> {
  type Row = { q: DeadLetterQueue; missing: true } | { q: DeadLetterQueue; missing: false; visible: number; inFlight: number };
  const rows = await Promise.all(
    deadLetterQueues(ctx.brand).map(async (q): Promise<Row> => {
      const url = await queueUrl(ctx, q.name, { optional: true });
      if (!url) return { q, missing: true };
      const attributes = await queueAttributes(ctx, url, ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible']);
      return {
        q,
        missing: false,
        visible: count(attributes.ApproximateNumberOfMessages),
        inFlight: count(attributes.ApproximateNumberOfMessagesNotVisible),
      };
    }),
  );
  const width = Math.max(...rows.map((r) => r.q.label.length));
  ctx.out.line(`Dead-letter queues of brand "${ctx.brand}" (${ctx.where}), approximate counts:`);
  for (const row of rows) {
    const label = row.q.label.padEnd(width);
    if (row.missing) {
      ctx.out.line(`  ${label}  MISSING  ${row.q.name}`);
    } else {
      const inFlight = row.inFlight > 0 ? `  (+${row.inFlight} being read)` : '';
      ctx.out.line(`  ${label}  ${String(row.visible).padStart(7)}  ${row.q.name}${inFlight}`);
    }
  }
  const missing = rows.filter((r) => r.missing).length;
  if (missing > 0) {
    ctx.out.error(`${missing} queue(s) do not exist at ${ctx.where}: ${deployedHint(ctx)}`);
    return false;
  }
  const parked = rows.reduce((sum, r) => sum + (r.missing ? 0 : r.visible), 0);
  if (parked > 0) ctx.out.line(`Next: npm run dlq -- peek <queue>, then npm run dlq -- redrive <queue> once the cause is fixed.`);
  return true;
}

/**
 * `peek <queue> [--max N]`: shows up to `max` messages (ids, receive count, sent time, and per queue what identifies
 * the item: X id, ticket event webhook-id/type/ticket, reply id, stream batch) and leaves them in the queue: they are
 * received with a short visibility timeout and made visible again at once. A receive adds one to a message's receive
 * count; dead-letter queues have no redrive policy, so that changes nothing.
 */
export async function peekCommand(ctx: DlqContext, queue: string, options: { max?: number } = {}): Promise<number> {
  const dlq = findDeadLetterQueue(ctx.brand, queue);
  const url = await queueUrl(ctx, dlq.name);
  const max = options.max ?? 10;
  const depth = count((await queueAttributes(ctx, url, ['ApproximateNumberOfMessages'])).ApproximateNumberOfMessages);
  ctx.out.line(`${dlq.name} (${ctx.where}): ~${depth} message(s); showing up to ${max}, which stay in the queue.`);
  const seen = new Map<string, Message>();
  try {
    while (seen.size < max) {
      const batch = await receive(ctx, url, Math.min(10, max - seen.size), PEEK_VISIBILITY_SECONDS);
      const fresh = batch.filter((m) => m.MessageId && !seen.has(m.MessageId));
      if (fresh.length === 0) {
        await release(ctx, url, batch);
        break;
      }
      for (const m of fresh) seen.set(m.MessageId as string, m);
    }
  } finally {
    await release(ctx, url, [...seen.values()]);
  }
  let index = 0;
  for (const m of seen.values()) {
    index += 1;
    const receives = m.Attributes?.ApproximateReceiveCount ?? '?';
    const sent = m.Attributes?.SentTimestamp ? new Date(Number(m.Attributes.SentTimestamp)).toISOString() : '?';
    const attributes = Object.keys(m.MessageAttributes ?? {});
    const named = attributes.length ? `  attributes: ${attributes.join(', ')}` : '';
    ctx.out.line(`  ${index}. message ${m.MessageId}  received ${receives}×  sent ${sent}${named}`);
    for (const line of describeMessage(dlq.label, m.Body ?? '')) ctx.out.line(`     ${line}`);
  }
  if (seen.size === 0) ctx.out.line('  (nothing to show)');
  return seen.size;
}

/** What became of a redrive. `failure` says what went wrong and what it left where; absent when all went well. */
export type RedriveReport = {
  method: 'move-task' | 'one-by-one' | 'rebuild-from-stream';
  /** Messages that reached the source queue (for a move task, as SQS counted them when last asked). */
  moved: number;
  failure?: string;
};

/**
 * `redrive <queue> [--max N]`: moves the DLQ's messages back to their source queue, bodies and attributes unchanged
 * (a notify-retry message carries its frozen event and webhook-id: the helpdesk sees the same event again). Without
 * `max`, SQS's StartMessageMoveTask moves them all (followed until done, or for `moveTaskWaitMs`); with `max`, or
 * where the endpoint lacks that API, they move one by one (see the header). For the stream failures queue, whose
 * records say where a batch was rather than what it held, the batches' events are rebuilt from the table stream and
 * queued on notify-retry (dlq-stream-failures.ts); up to `max` records, all by default.
 */
export async function redriveCommand(ctx: DlqContext, queue: string, options: { max?: number } = {}): Promise<RedriveReport> {
  const dlq = findDeadLetterQueue(ctx.brand, queue);
  if (!dlq.sourceName) {
    const from = await queueUrl(ctx, dlq.name);
    const depth = count((await queueAttributes(ctx, from, ['ApproximateNumberOfMessages'])).ApproximateNumberOfMessages);
    if (depth === 0) {
      ctx.out.line(`${dlq.name} is empty (${ctx.where}): nothing to redrive.`);
      return { method: 'rebuild-from-stream', moved: 0 };
    }
    const retryName = findDeadLetterQueue(ctx.brand, 'notify-retry').sourceName as string;
    const retry = { name: retryName, url: await queueUrl(ctx, retryName) };
    return redriveStreamFailures(ctx, dlq, { from, retry }, { max: options.max, depth });
  }
  const source: ResolvedQueue = { name: dlq.sourceName, url: await queueUrl(ctx, dlq.sourceName) };
  const from: ResolvedQueue = { name: dlq.name, url: await queueUrl(ctx, dlq.name) };
  const depth = count((await queueAttributes(ctx, from.url, ['ApproximateNumberOfMessages'])).ApproximateNumberOfMessages);
  if (depth === 0) {
    ctx.out.line(`${from.name} is empty (${ctx.where}): nothing to redrive.`);
    return { method: options.max === undefined ? 'move-task' : 'one-by-one', moved: 0 };
  }
  if (options.max === undefined) {
    try {
      return await moveTask(ctx, from, source, depth);
    } catch (error) {
      if (!moveTaskUnsupported(error)) throw error;
      ctx.out.line(`StartMessageMoveTask is not supported at ${ctx.where} (the local emulator lacks it): moving messages one by one.`);
    }
  } else {
    ctx.out.line("--max: moving messages one by one (SQS's move task cannot stop after a number of messages).");
  }
  const report = await moveOneByOne(ctx, from, source, options.max ?? depth);
  const left = count((await queueAttributes(ctx, from.url, ['ApproximateNumberOfMessages'])).ApproximateNumberOfMessages);
  ctx.out.line(`Moved ${report.moved} message(s) from ${from.name} to ${source.name}; ~${left} left in the DLQ.`);
  if (report.failure) ctx.out.error(report.failure);
  return report;
}

/**
 * Summarises a message body without its customer text: the facts that identify it and lead to its logs. A body this
 * tool does not recognise is described by its size only, since it may hold anything.
 */
export function describeMessage(kind: DeadLetterKind, body: string): string[] {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    value = undefined;
  }
  const bytes = Buffer.byteLength(body);
  const unknown = [`${bytes} bytes in a shape this tool does not know for ${kind} (body not shown: it may hold customer text)`];
  if (kind === 'notify-retry') {
    const m = retryMessageSchema.safeParse(value);
    if (!m.success) return unknown;
    const { ticket } = m.data.body.data;
    const attempts = m.data.attempt === undefined ? '' : `, ${m.data.attempt} attempt(s) before it was queued`;
    const carried = m.data.body.data.message;
    // Whether the message itself holds customer text (queued by a version before text was taken out), never the text.
    const text =
      m.data.textOf !== undefined
        ? [`message ${m.data.textOf}: no text queued (read from the table at each attempt)`]
        : carried?.text
          ? [`message ${carried.xId ?? '?'}: this queued copy holds its text (queued before text was taken out of queued events)`]
          : [];
    return [
      `${m.data.body.type}  webhook-id ${m.data.webhookId}  ticket ${ticket.id} (sequence ${ticket.sequence})`,
      `first tried ${m.data.firstAttemptAt ?? '?'}${attempts}`,
      ...text,
    ];
  }
  if (kind === 'inbound') {
    const m = inboundSchema.safeParse(value);
    if (!m.success) return unknown;
    const who = m.data.author?.xUserId ?? m.data.sender?.xUserId ?? m.data.authorXUserId;
    const from = who ? ` from user ${who}` : '';
    return [`X ${m.data.kind} ${m.data.xId}${from}  via ${m.data.via ?? '?'} (${m.data.format ?? '?'})  received ${m.data.receivedAt ?? '?'}`];
  }
  if (kind === 'reply') {
    const m = replySchema.safeParse(value);
    return m.success ? [`reply ${m.data.replyId} (its ticket shows it: GET /tickets/{ticketId})`] : unknown;
  }
  const m = streamFailureSchema.safeParse(value);
  if (!m.success) return unknown;
  const b = m.data.DDBStreamBatchInfo;
  const request = m.data.requestContext;
  const functionError = m.data.responseContext?.functionError ? ` (${m.data.responseContext.functionError})` : '';
  // The stream keeps records 24 hours from when they were written: after that, redrive cannot rebuild the batch.
  const written = Date.parse(b.approximateArrivalOfFirstRecord ?? '');
  const until = Number.isFinite(written) ? [`redrive can rebuild its events until about ${new Date(written + STREAM_RETENTION_MS).toISOString()}`] : [];
  return [
    `stream batch of ${b.batchSize ?? '?'} record(s), shard ${b.shardId ?? '?'}, ` +
      `sequence ${b.startSequenceNumber ?? '?'} … ${b.endSequenceNumber ?? '?'}`,
    `arrived ${b.approximateArrivalOfFirstRecord ?? '?'} … ${b.approximateArrivalOfLastRecord ?? '?'}; ` +
      `given up at ${m.data.timestamp ?? '?'}: ${request?.condition ?? '?'} after ` +
      `${request?.approximateInvokeCount ?? '?'} invocation(s)${functionError}`,
    ...until,
  ];
}

// The shapes the bridge writes (shared/helpdesk/notify.ts RetryMessage, shared/x/inbound-event.ts, the helpdesk API's
// `{replyId}`) and Lambda's on-failure record for a DynamoDB stream batch; read only, so only the fields shown.
const retryMessageSchema = z.object({
  webhookId: z.string(),
  body: z.object({
    type: z.string(),
    data: z.object({
      ticket: z.object({ id: z.string(), sequence: z.number() }),
      message: z.object({ xId: z.string().optional(), text: z.string().optional() }).optional(),
    }),
  }),
  attempt: z.number().optional(),
  firstAttemptAt: z.string().optional(),
  textOf: z.string().optional(),
});
const userRef = z.object({ xUserId: z.string() });
const inboundSchema = z.object({
  kind: z.string(),
  xId: z.string(),
  format: z.string().optional(),
  via: z.string().optional(),
  receivedAt: z.string().optional(),
  author: userRef.optional(),
  sender: userRef.optional(),
  authorXUserId: z.string().optional(),
});
const replySchema = z.object({ replyId: z.string() });
const streamFailureSchema = z.object({
  timestamp: z.string().optional(),
  requestContext: z.object({ condition: z.string().optional(), approximateInvokeCount: z.number().optional() }).optional(),
  responseContext: z.object({ functionError: z.string().optional() }).optional(),
  DDBStreamBatchInfo: z.object({
    shardId: z.string().optional(),
    startSequenceNumber: z.string().optional(),
    endSequenceNumber: z.string().optional(),
    approximateArrivalOfFirstRecord: z.string().optional(),
    approximateArrivalOfLastRecord: z.string().optional(),
    batchSize: z.number().optional(),
  }),
});

// DynamoDB Streams' retention, which no setting changes.
const STREAM_RETENTION_MS = 24 * 60 * 60 * 1000;
// Long enough to print what was received; the messages are made visible again right after anyway.
const PEEK_VISIBILITY_SECONDS = 30;
// Long enough for one send and one delete; a message left hidden by a crash is back in the DLQ after this.
const MOVE_VISIBILITY_SECONDS = 60;
const MOVE_TASK_POLL_MS = 2_000;
const DEFAULT_MOVE_TASK_WAIT_MS = 5 * 60_000;

async function moveTask(ctx: DlqContext, from: ResolvedQueue, to: ResolvedQueue, depth: number): Promise<RedriveReport> {
  const [fromArn, toArn] = await Promise.all([queueArn(ctx, from.url), queueArn(ctx, to.url)]);
  const started = await ctx.sqs.send(new StartMessageMoveTaskCommand({ SourceArn: fromArn, DestinationArn: toArn }));
  ctx.out.line(`Started an SQS message move task: ~${depth} message(s) from ${from.name} back to ${to.name}.`);
  const sleep = ctx.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const deadline = Date.now() + (ctx.moveTaskWaitMs ?? DEFAULT_MOVE_TASK_WAIT_MS);
  let moved = 0;
  for (;;) {
    await sleep(MOVE_TASK_POLL_MS);
    const { Results: tasks = [] } = await ctx.sqs.send(new ListMessageMoveTasksCommand({ SourceArn: fromArn, MaxResults: 10 }));
    // SQS returns the handle only while a task runs; the most recent task comes first.
    const task = tasks.find((t) => t.TaskHandle === started.TaskHandle) ?? tasks[0];
    if (!task) continue;
    const now = task.ApproximateNumberOfMessagesMoved ?? moved;
    if (now !== moved) ctx.out.line(`  moved ${now} of ~${task.ApproximateNumberOfMessagesToMove ?? depth}`);
    moved = now;
    if (task.Status === 'COMPLETED') {
      ctx.out.line(`Done: SQS moved ${moved} message(s) back to ${to.name}.`);
      return { method: 'move-task', moved };
    }
    if (task.Status === 'FAILED' || task.Status === 'CANCELLED' || task.Status === 'CANCELLING') {
      const reason = task.FailureReason ? `: ${task.FailureReason}` : '';
      const failure = `the move task ${task.Status.toLowerCase()} after moving ${moved} message(s)${reason}; what was not moved is still in ${from.name}`;
      ctx.out.error(failure);
      return { method: 'move-task', moved, failure };
    }
    if (Date.now() > deadline) {
      const waited = Math.round((ctx.moveTaskWaitMs ?? DEFAULT_MOVE_TASK_WAIT_MS) / 1000);
      ctx.out.line(`Still running after ${waited} s; SQS goes on without this command (npm run dlq -- list shows the depth fall).`);
      return { method: 'move-task', moved };
    }
  }
}

async function moveOneByOne(ctx: DlqContext, from: ResolvedQueue, to: ResolvedQueue, limit: number): Promise<RedriveReport> {
  ctx.out.line(
    `Moving up to ${limit} message(s) from ${from.name} to ${to.name}: each is sent first and deleted from the DLQ after, ` +
      'so an interruption can leave a duplicate (the bridge recognises it) but never loses one.',
  );
  let moved = 0;
  const handled = new Set<string>();
  while (moved < limit) {
    const batch = await receive(ctx, from.url, Math.min(10, limit - moved), MOVE_VISIBILITY_SECONDS);
    if (batch.length === 0) break;
    for (const [i, message] of batch.entries()) {
      const id = message.MessageId ?? '?';
      // One receive can hand out a message already moved (SQS is at least once); its delete may just not have landed.
      if (moved >= limit || handled.has(id)) {
        await release(ctx, from.url, [message]);
        continue;
      }
      try {
        await ctx.sqs.send(
          new SendMessageCommand({
            QueueUrl: to.url,
            MessageBody: message.Body,
            MessageAttributes: copyAttributes(message.MessageAttributes),
            ...(message.Attributes?.AWSTraceHeader
              ? { MessageSystemAttributes: { AWSTraceHeader: { DataType: 'String', StringValue: message.Attributes.AWSTraceHeader } } }
              : {}),
          }),
        );
      } catch (error) {
        await release(ctx, from.url, batch.slice(i));
        const failure = `could not send message ${id} to ${to.name} (${describeError(error)}): it and the rest stay in ${from.name}.`;
        return { method: 'one-by-one', moved, failure };
      }
      handled.add(id);
      moved += 1;
      try {
        await ctx.sqs.send(new DeleteMessageCommand({ QueueUrl: from.url, ReceiptHandle: message.ReceiptHandle }));
      } catch (error) {
        await release(ctx, from.url, batch.slice(i + 1));
        return {
          method: 'one-by-one',
          moved,
          failure:
            `message ${id} was sent to ${to.name} but could not be deleted from ${from.name} (${describeError(error)}): it ` +
            'reappears there within a minute, and redriving it again would deliver a duplicate (which the bridge recognises).',
        };
      }
    }
  }
  return { method: 'one-by-one', moved };
}

function copyAttributes(attributes: Record<string, MessageAttributeValue> | undefined): Record<string, MessageAttributeValue> | undefined {
  if (!attributes || Object.keys(attributes).length === 0) return undefined;
  return Object.fromEntries(
    Object.entries(attributes).map(([name, value]) => [
      name,
      {
        DataType: value.DataType,
        ...(value.StringValue === undefined ? {} : { StringValue: value.StringValue }),
        ...(value.BinaryValue === undefined ? {} : { BinaryValue: value.BinaryValue }),
      },
    ]),
  );
}

// AWS answers UnsupportedOperation; fauxqs (and other emulators) answer an unknown action.
function moveTaskUnsupported(error: unknown): boolean {
  if (error instanceof UnsupportedOperation) return true;
  return error instanceof SQSServiceException && ['InvalidAction', 'UnknownOperationException', 'NotImplemented'].includes(error.name);
}

async function receive(ctx: DlqContext, url: string, max: number, visibilitySeconds: number): Promise<Message[]> {
  const result = await ctx.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: url,
      MaxNumberOfMessages: max,
      VisibilityTimeout: visibilitySeconds,
      // A short long-poll: it asks every SQS server, where a plain receive samples a few and may miss messages.
      WaitTimeSeconds: 1,
      MessageSystemAttributeNames: ['All'],
      MessageAttributeNames: ['All'],
    }),
  );
  return result.Messages ?? [];
}

/** Makes received messages visible again now. Best effort: if this fails they come back when their timeout ends. */
async function release(ctx: DlqContext, url: string, messages: Message[]): Promise<void> {
  const handles = messages.flatMap((m) => (m.ReceiptHandle ? [m.ReceiptHandle] : []));
  for (let i = 0; i < handles.length; i += 10) {
    const entries = handles.slice(i, i + 10).map((handle, j) => ({ Id: String(i + j), ReceiptHandle: handle, VisibilityTimeout: 0 }));
    try {
      await ctx.sqs.send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: url, Entries: entries }));
    } catch (error) {
      const why = describeError(error);
      ctx.out.error(`note: could not make ${entries.length} message(s) visible again (${why}); they return on their own within a minute`);
    }
  }
}

async function queueUrl(ctx: DlqContext, name: string, options: { optional: true }): Promise<string | undefined>;
async function queueUrl(ctx: DlqContext, name: string): Promise<string>;
async function queueUrl(ctx: DlqContext, name: string, options?: { optional: true }): Promise<string | undefined> {
  try {
    const { QueueUrl } = await ctx.sqs.send(new GetQueueUrlCommand({ QueueName: name }));
    if (QueueUrl) return QueueUrl;
  } catch (error) {
    if (!(error instanceof QueueDoesNotExist)) throw error;
  }
  if (options?.optional) return undefined;
  throw new CommandFailure(
    `queue ${name} does not exist at ${ctx.where}: ${deployedHint(ctx)}`,
  );
}

type AttributeName = 'ApproximateNumberOfMessages' | 'ApproximateNumberOfMessagesNotVisible' | 'QueueArn';

async function queueAttributes(ctx: DlqContext, url: string, names: AttributeName[]) {
  const { Attributes } = await ctx.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: names }));
  return Attributes ?? {};
}

async function queueArn(ctx: DlqContext, url: string): Promise<string> {
  const arn = (await queueAttributes(ctx, url, ['QueueArn'])).QueueArn;
  if (!arn) throw new CommandFailure(`SQS gave no ARN for ${url}`);
  return arn;
}

function count(value: string | undefined): number {
  const n = Number(value ?? 0);
  return Number.isFinite(n) ? n : 0;
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
