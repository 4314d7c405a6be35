// Use case of `npm run dlq -- redrive notify-stream-failures`: rebuilds the ticket events of table-stream batches the
// notify function gave up on, and queues them on notify-retry, where notify delivers them like any other retry.
//
// Lambda's record of a failed stream batch holds where the batch was (DDBStreamBatchInfo: stream, shard, first and
// last sequence number), not its records. So the records are read again from the stream (GetShardIterator at the
// first sequence number, GetRecords until past the last), decoded as the notify function decodes its batches
// (ticketChanges) and built into events as the notify use case builds them (retryMessagesForChanges): the webhook-id
// is `evt_<ticketId>_<sequence>`, derived from the data, so each event keeps the id it would have had. They are queued
// as retry messages with no attempt made, without message text like every queued event.
//
// Safe to run again: a failure record is deleted only after every event it stands for is queued. A crash or a refusal
// in between leaves it in the queue, and the next redrive queues its events again (a duplicate the helpdesk drops by
// webhook-id), never none. The stream keeps records for 24 hours: an older batch cannot be rebuilt, and its record is
// left in the queue with a message that says so.
import {
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ResourceNotFoundException,
  TrimmedDataAccessException,
  type DynamoDBStreamsClient,
  type _Record as StreamRecord,
} from '@aws-sdk/client-dynamodb-streams';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type Message,
} from '@aws-sdk/client-sqs';
import * as z from 'zod';
import { ticketChanges } from '../../functions/notify/handler';
import { dynamoEventReader } from '../../shared/aws/dynamo-event-reader';
import { toSqsBody } from '../../shared/aws/sqs-queue';
import { retryMessagesForChanges, type RetryMessage } from '../../shared/helpdesk/notify';
import { toLambdaRecord } from '../local/stream-event-source';
import { CommandFailure } from './cli-support';
import type { DeadLetterQueue, DlqContext, RedriveReport } from './dlq-commands';

/** Where a failed batch was in the table stream, as Lambda records it. */
export type StreamBatch = {
  streamArn: string;
  shardId: string;
  startSequenceNumber: string;
  endSequenceNumber: string;
  approximateArrivalOfFirstRecord?: string;
  batchSize?: number;
};

/** The batch's records are no longer in the stream (older than its 24-hour retention, or the stream is gone). */
export class StreamRangeGone extends Error {
  override readonly name = 'StreamRangeGone';
}

// Lambda's on-failure record for a DynamoDB stream batch; only the fields a rebuild needs are required.
const failureRecordSchema = z.object({
  timestamp: z.string().optional(),
  DDBStreamBatchInfo: z.object({
    streamArn: z.string().regex(/:table\/[^/]+\/stream\//),
    shardId: z.string().min(1),
    startSequenceNumber: z.string().regex(/^\d+$/),
    endSequenceNumber: z.string().regex(/^\d+$/),
    approximateArrivalOfFirstRecord: z.string().optional(),
    batchSize: z.number().optional(),
  }),
});

// Long enough to read a batch from the stream and queue its events; a crash leaves the record to reappear after it.
const REBUILD_VISIBILITY_SECONDS = 300;
// GetRecords may answer empty pages before it reaches the part of a shard that holds records (DynamoDB Streams says
// so); this many in a row without reaching the batch's last record means the range cannot be read to its end.
const MAX_EMPTY_PAGES = 25;
// An iterator lapses after 15 minutes; a fresh one resumes after the last record read.
const MAX_ITERATOR_RENEWALS = 3;

/**
 * The stream records of one batch, `startSequenceNumber` to `endSequenceNumber` inclusive, in stream order. Throws
 * StreamRangeGone when the stream no longer has them (TrimmedDataAccessException, or the shard or stream is gone),
 * and an Error when the range could not be read to its end.
 */
export async function readStreamBatch(streams: DynamoDBStreamsClient, batch: StreamBatch): Promise<StreamRecord[]> {
  const end = BigInt(batch.endSequenceNumber);
  const records: StreamRecord[] = [];
  let renewals = 0;
  let emptyPages = 0;
  try {
    let iterator = await shardIterator(streams, batch, undefined);
    while (iterator) {
      let page;
      try {
        page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
      } catch (error) {
        if (!(error instanceof ExpiredIteratorException) || ++renewals > MAX_ITERATOR_RENEWALS) throw error;
        iterator = await shardIterator(streams, batch, records.at(-1)?.dynamodb?.SequenceNumber);
        continue;
      }
      for (const record of page.Records ?? []) {
        const sequence = BigInt(record.dynamodb?.SequenceNumber ?? '0');
        if (sequence > end) return records;
        records.push(record);
        if (sequence === end) return records;
      }
      emptyPages = (page.Records ?? []).length > 0 ? 0 : emptyPages + 1;
      if (emptyPages >= MAX_EMPTY_PAGES) break;
      iterator = page.NextShardIterator;
    }
  } catch (error) {
    if (error instanceof TrimmedDataAccessException || error instanceof ResourceNotFoundException) {
      throw new StreamRangeGone(`${error.name}: ${error.message}`);
    }
    throw error;
  }
  // The shard closed, or kept answering empty, before the batch's last record: the batch cannot be rebuilt whole.
  const last = records.at(-1)?.dynamodb?.SequenceNumber;
  throw new Error(`the stream gave records only up to ${last ?? 'none'}, not to the batch's last (${batch.endSequenceNumber})`);
}

async function shardIterator(streams: DynamoDBStreamsClient, batch: StreamBatch, after: string | undefined): Promise<string | undefined> {
  const result = await streams.send(
    new GetShardIteratorCommand({
      StreamArn: batch.streamArn,
      ShardId: batch.shardId,
      ...(after
        ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: after }
        : { ShardIteratorType: 'AT_SEQUENCE_NUMBER', SequenceNumber: batch.startSequenceNumber }),
    }),
  );
  return result.ShardIterator;
}

/** The table a stream ARN belongs to: `arn:aws:dynamodb:<region>:<account>:table/<name>/stream/<label>`. */
export function tableNameOfStream(streamArn: string): string | undefined {
  return /:table\/([^/]+)\/stream\//.exec(streamArn)?.[1];
}

/** What became of one failure record. */
type Rebuilt =
  | { ok: true; batch: StreamBatch; records: number; queued: RetryMessage[] }
  | { ok: false; batch?: StreamBatch; why: string; queued?: RetryMessage[] };

/**
 * The events of one failure record, queued on notify-retry. `ok` only when every record of the batch became a queued
 * event (or was not a ticket change): only then may the failure record go.
 */
async function rebuildOne(ctx: DlqContext, retryUrl: string, body: string): Promise<Rebuilt> {
  const tables = ctx.tables!;
  let parsed: z.infer<typeof failureRecordSchema>;
  try {
    parsed = failureRecordSchema.parse(JSON.parse(body));
  } catch {
    return { ok: false, why: `not Lambda's record of a stream batch (${Buffer.byteLength(body)} bytes; body not shown)` };
  }
  const batch: StreamBatch = parsed.DDBStreamBatchInfo;
  let records: StreamRecord[];
  try {
    records = await readStreamBatch(tables.streams, batch);
  } catch (error) {
    if (error instanceof StreamRangeGone) {
      const arrived = batch.approximateArrivalOfFirstRecord ? `, written ${batch.approximateArrivalOfFirstRecord}` : '';
      return {
        batch,
        ok: false,
        why:
          `its records are no longer in the table stream (DynamoDB Streams keeps them 24 hours${arrived}; ${error.message}): ` +
          'its events cannot be rebuilt. The record stays in the queue for the incident report: the affected tickets are ' +
          'whatever changed in that window (GET /tickets lists them by update time), and each one\'s next change sends its current state.',
      };
    }
    return { batch, ok: false, why: `could not read its records from the table stream (${describeError(error)})` };
  }
  const tableName = tableNameOfStream(batch.streamArn) ?? '';
  const region = batch.streamArn.split(':')[3] ?? '';
  const changes = ticketChanges(records.map((record) => toLambdaRecord(record, batch.streamArn, region)));
  let built: Awaited<ReturnType<typeof retryMessagesForChanges>>;
  try {
    built = await retryMessagesForChanges(changes, {
      reader: dynamoEventReader(tables.dynamodb, tableName),
      firstAttemptAt: batch.approximateArrivalOfFirstRecord ?? parsed.timestamp ?? new Date().toISOString(),
    });
  } catch (error) {
    return { batch, ok: false, why: `could not read its tickets' messages and replies from ${tableName} (${describeError(error)})` };
  }
  try {
    await sendAll(ctx, retryUrl, built.messages);
  } catch (error) {
    return { batch, ok: false, why: `could not queue its events (${describeError(error)})` };
  }
  if (built.failed.length > 0) {
    const reasons = built.failed.map((f) => `record ${f.recordId}: ${f.reason}`).join('; ');
    return {
      batch,
      ok: false,
      queued: built.messages,
      why:
        `${built.failed.length} record(s) could not become events (${reasons}), the same reason notify gave up on them; ` +
        'the record stays in the queue (redriving it again queues the other events again, which the helpdesk dedupes)',
    };
  }
  return { ok: true, batch, records: records.length, queued: built.messages };
}

async function sendAll(ctx: DlqContext, url: string, messages: RetryMessage[]): Promise<void> {
  for (let i = 0; i < messages.length; i += 10) {
    const chunk = messages.slice(i, i + 10);
    const result = await ctx.sqs.send(
      new SendMessageBatchCommand({ QueueUrl: url, Entries: chunk.map((m, j) => ({ Id: String(j), MessageBody: toSqsBody(m) })) }),
    );
    if (result.Failed?.length) throw new Error(`SQS refused ${result.Failed.length} of ${chunk.length}: ${result.Failed[0]?.Message ?? ''}`);
  }
}

/**
 * Rebuilds the events of up to `max` failure records (all by default) and queues them on the brand's notify-retry
 * queue, deleting each record once its events are queued. Records that cannot be rebuilt stay, each with the reason;
 * `failure` then says how many.
 */
export async function redriveStreamFailures(
  ctx: DlqContext,
  dlq: DeadLetterQueue,
  urls: { from: string; retry: { name: string; url: string } },
  options: { max?: number; depth: number },
): Promise<RedriveReport> {
  if (!ctx.tables) {
    throw new CommandFailure(
      `rebuilding ${dlq.name}'s events reads the table stream and the table: pass --dynamodb-endpoint with the local endpoint`,
    );
  }
  const limit = options.max ?? options.depth;
  ctx.out.line(
    `Rebuilding the ticket events of up to ${limit} stream batch(es) in ${dlq.name} from the table stream, and queueing them on ` +
      `${urls.retry.name}, where the notify function delivers them with their original webhook-ids. Each batch's record is ` +
      'deleted only after its events are queued.',
  );
  const seen = new Set<string>();
  const left: Message[] = [];
  let rebuilt = 0;
  let events = 0;
  try {
    while (seen.size < limit) {
      const { Messages: batch = [] } = await ctx.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: urls.from,
          MaxNumberOfMessages: Math.min(10, limit - seen.size),
          VisibilityTimeout: REBUILD_VISIBILITY_SECONDS,
          WaitTimeSeconds: 1,
        }),
      );
      const fresh = batch.filter((m) => m.MessageId && !seen.has(m.MessageId));
      // One receive can hand out a record already handled (SQS is at least once): leave it as it is.
      left.push(...batch.filter((m) => !fresh.includes(m)));
      if (fresh.length === 0) break;
      for (const message of fresh) {
        seen.add(message.MessageId as string);
        if (seen.size > limit) {
          left.push(message);
          continue;
        }
        const outcome = await rebuildOne(ctx, urls.retry.url, message.Body ?? '');
        const where = outcome.batch ? `batch ${describeBatch(outcome.batch)}` : `message ${message.MessageId}`;
        if (!outcome.ok) {
          left.push(message);
          const queued = outcome.queued?.length ? ` (${outcome.queued.length} of its events queued: ${ids(outcome.queued)})` : '';
          ctx.out.error(`  ${where}: left in ${dlq.name}${queued}: ${outcome.why}`);
          continue;
        }
        events += outcome.queued.length;
        try {
          await ctx.sqs.send(new DeleteMessageCommand({ QueueUrl: urls.from, ReceiptHandle: message.ReceiptHandle }));
          rebuilt += 1;
        } catch (error) {
          ctx.out.error(
            `  ${where}: its events are queued but its record could not be deleted (${describeError(error)}); it reappears ` +
              'and a second redrive would queue them again (the helpdesk dedupes by webhook-id)',
          );
          continue;
        }
        const what = outcome.queued.length > 0 ? `${outcome.queued.length} event(s) queued: ${ids(outcome.queued)}` : 'no ticket change in it';
        ctx.out.line(`  ${where}: ${outcome.records} record(s), ${what}`);
      }
    }
  } finally {
    await releaseAll(ctx, urls.from, left);
  }
  const failed = seen.size - rebuilt;
  ctx.out.line(
    `Rebuilt ${rebuilt} stream batch(es) of ${seen.size}: ${events} event(s) queued on ${urls.retry.name}` +
      (failed > 0 ? `; ${failed} left in ${dlq.name}.` : '.'),
  );
  return {
    method: 'rebuild-from-stream',
    moved: rebuilt,
    ...(failed > 0 ? { failure: `${failed} stream batch(es) could not be rebuilt and stay in ${dlq.name} (reasons above)` } : {}),
  };
}

function describeBatch(batch: StreamBatch): string {
  return `shard ${batch.shardId} ${batch.startSequenceNumber} … ${batch.endSequenceNumber}`;
}

function ids(messages: RetryMessage[]): string {
  const shown = messages.slice(0, 10).map((m) => m.webhookId).join(', ');
  return messages.length > 10 ? `${shown} and ${messages.length - 10} more` : shown;
}

/** Makes records visible again now, for the next redrive or peek. Best effort: otherwise they return on their own. */
async function releaseAll(ctx: DlqContext, url: string, messages: Message[]): Promise<void> {
  for (const message of messages) {
    try {
      await ctx.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: message.ReceiptHandle, VisibilityTimeout: 0 }));
    } catch {
      // It reappears when its visibility timeout ends.
    }
  }
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
