// The DLQ CLI's AWS path, which no local emulator offers: redrive through SQS's StartMessageMoveTask, followed with
// ListMessageMoveTasks until SQS reports the end. SQS is a scripted stand-in here (test/integration/ops-dlq.test.ts
// covers the one-by-one path on the real emulator). Also: the queue names match what the CDK construct creates.
import {
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListMessageMoveTasksCommand,
  StartMessageMoveTaskCommand,
  UnsupportedOperation,
  type ListMessageMoveTasksResultEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import {
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  TrimmedDataAccessException,
  type DynamoDBStreamsClient,
  type _Record as StreamRecord,
} from '@aws-sdk/client-dynamodb-streams';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { WorkQueues } from '../../infra/constructs/work-queues';
import { memoryOutput } from '../../infra/ops/cli-support';
import { deadLetterQueues, describeMessage, queuePrefix, redriveCommand, type DlqContext } from '../../infra/ops/dlq-commands';
import { readStreamBatch, StreamRangeGone, tableNameOfStream } from '../../infra/ops/dlq-stream-failures';

const ACCOUNT_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012';

/** An SQS stand-in that knows the brand's queues and answers the move task calls from `tasks`, one per poll. */
function scriptedSqs(options: { tasks: ListMessageMoveTasksResultEntry[]; startFails?: Error }) {
  const started: unknown[] = [];
  const other: string[] = [];
  let polls = 0;
  const send = async (command: unknown): Promise<unknown> => {
    if (command instanceof GetQueueUrlCommand) return { QueueUrl: `${ACCOUNT_URL}/${command.input.QueueName}` };
    if (command instanceof GetQueueAttributesCommand) {
      const name = (command.input.QueueUrl ?? '').split('/').pop();
      return { Attributes: { ApproximateNumberOfMessages: '3', QueueArn: `arn:aws:sqs:eu-west-1:123456789012:${name}` } };
    }
    if (command instanceof StartMessageMoveTaskCommand) {
      if (options.startFails) throw options.startFails;
      started.push(command.input);
      return { TaskHandle: 'task-handle-1' };
    }
    if (command instanceof ListMessageMoveTasksCommand) {
      const task = options.tasks[Math.min(polls, options.tasks.length - 1)];
      polls += 1;
      return { Results: task ? [task] : [] };
    }
    other.push((command as { constructor: { name: string } }).constructor.name);
    throw new Error('not scripted');
  };
  return { sqs: { send } as unknown as SQSClient, started, other, polls: () => polls };
}

function context(sqs: SQSClient, extra: Partial<DlqContext> = {}) {
  const out = memoryOutput();
  const ctx: DlqContext = { sqs, out, brand: 'acme', where: 'AWS eu-west-1', sleep: async () => undefined, ...extra };
  return { ctx, out };
}

describe('redrive on AWS: StartMessageMoveTask', () => {
  it('moves the DLQ back to its own source queue and follows the task to the end', async () => {
    const stub = scriptedSqs({
      tasks: [
        { TaskHandle: 'task-handle-1', Status: 'RUNNING', ApproximateNumberOfMessagesMoved: 1, ApproximateNumberOfMessagesToMove: 3 },
        { Status: 'COMPLETED', ApproximateNumberOfMessagesMoved: 3, ApproximateNumberOfMessagesToMove: 3 },
      ],
    });
    const { ctx, out } = context(stub.sqs);
    const report = await redriveCommand(ctx, 'notify-retry');
    expect(report).toEqual({ method: 'move-task', moved: 3 });
    expect(stub.started).toEqual([
      {
        SourceArn: 'arn:aws:sqs:eu-west-1:123456789012:support-bridge-acme-notify-retry-dlq',
        DestinationArn: 'arn:aws:sqs:eu-west-1:123456789012:support-bridge-acme-notify-retry',
      },
    ]);
    expect(out.lines).toContain('  moved 1 of ~3');
    expect(out.lines).toContain('Done: SQS moved 3 message(s) back to support-bridge-acme-notify-retry.');
    // Nothing was received, sent or deleted by the CLI itself.
    expect(stub.other).toEqual([]);
  });

  it('reports a failed task with SQS’s reason', async () => {
    const stub = scriptedSqs({
      tasks: [{ Status: 'FAILED', ApproximateNumberOfMessagesMoved: 1, FailureReason: 'AWS.SimpleQueueService.KmsAccessDenied' }],
    });
    const { ctx, out } = context(stub.sqs);
    const report = await redriveCommand(ctx, 'reply');
    expect(report.failure).toContain('the move task failed after moving 1 message(s): AWS.SimpleQueueService.KmsAccessDenied');
    expect(out.errors.join('\n')).toContain('still in support-bridge-acme-reply-dlq');
  });

  it('leaves a long task running on its own after the wait', async () => {
    const stub = scriptedSqs({ tasks: [{ TaskHandle: 'task-handle-1', Status: 'RUNNING', ApproximateNumberOfMessagesMoved: 0 }] });
    const { ctx, out } = context(stub.sqs, { moveTaskWaitMs: 0 });
    const report = await redriveCommand(ctx, 'inbound');
    expect(report).toEqual({ method: 'move-task', moved: 0 });
    expect(out.lines.join('\n')).toContain('SQS goes on without this command');
  });

  it('does not fall back to moving one by one when AWS refuses for another reason', async () => {
    const denied = Object.assign(new Error('not authorized to perform sqs:StartMessageMoveTask'), { name: 'AccessDenied' });
    const stub = scriptedSqs({ tasks: [], startFails: denied });
    const { ctx } = context(stub.sqs);
    await expect(redriveCommand(ctx, 'inbound')).rejects.toThrow('not authorized');
    expect(stub.other).toEqual([]);
  });

  it('falls back when SQS says the operation is unsupported', async () => {
    const unsupported = new UnsupportedOperation({ message: 'unsupported', $metadata: {} });
    const stub = scriptedSqs({ tasks: [], startFails: unsupported });
    const { ctx, out } = context(stub.sqs);
    // The stand-in scripts no receives: the fallback's first receive is where it stops.
    await expect(redriveCommand(ctx, 'inbound')).rejects.toThrow('not scripted');
    expect(out.lines.join('\n')).toContain('lacks it): moving messages one by one.');
    expect(stub.other).toEqual(['ReceiveMessageCommand']);
  });
});

describe('queue names and summaries', () => {
  it('names the queues as the CDK construct creates them', () => {
    const stack = new Stack(new App(), 'Names');
    new WorkQueues(stack, 'Queues', { namePrefix: queuePrefix('acme') });
    const created = Object.values(Template.fromStack(stack).findResources('AWS::SQS::Queue'))
      .map((r) => (r as { Properties: { QueueName: string } }).Properties.QueueName)
      .sort();
    const ours = deadLetterQueues('acme').flatMap((q) => [q.name, ...(q.sourceName ? [q.sourceName] : [])]);
    expect([...ours].sort()).toEqual(created);
  });

  it('never shows a body it does not recognise', () => {
    const body = '{"text":"my password is hunter2"}';
    expect(describeMessage('reply', body)).toEqual([
      `${Buffer.byteLength(body)} bytes in a shape this tool does not know for reply (body not shown: it may hold customer text)`,
    ]);
    expect(describeMessage('notify-retry', body).join()).not.toContain('hunter2');
    expect(describeMessage('inbound', 'not json').join()).toContain('does not know for inbound');
  });
});

describe('notify-retry summaries say whether a queued event holds message text, never the text', () => {
  const event = (extra: object, text: string) =>
    JSON.stringify({
      webhookId: 'evt_mn-1-1_2',
      body: { type: 'ticket.message_added', data: { ticket: { id: 'mn-1-1', sequence: 2 }, message: { xId: '1990', text } } },
      attempt: 1,
      firstAttemptAt: '2026-11-16T11:58:01.000Z',
      ...extra,
    });

  it('an event queued without its text', () => {
    const lines = describeMessage('notify-retry', event({ textOf: '1990' }, ''));
    expect(lines).toContain('message 1990: no text queued (read from the table at each attempt)');
  });

  it('an event queued with its text, by a version before text was taken out', () => {
    const lines = describeMessage('notify-retry', event({}, 'my card 4111 was charged twice'));
    expect(lines.join('\n')).toContain('message 1990: this queued copy holds its text');
    expect(lines.join('\n')).not.toContain('4111');
  });

  it('a stream batch: until when redrive can rebuild it', () => {
    const lines = describeMessage(
      'notify-stream-failures',
      JSON.stringify({ DDBStreamBatchInfo: { shardId: 's', startSequenceNumber: '1', endSequenceNumber: '2', approximateArrivalOfFirstRecord: '2026-11-16T11:00:00Z' } }),
    );
    expect(lines).toContain('redrive can rebuild its events until about 2026-11-17T11:00:00.000Z');
  });
});

describe('reading a failed stream batch back from the table stream', () => {
  const batch = {
    streamArn: 'arn:aws:dynamodb:eu-west-1:123456789012:table/SupportBridge-acme-TicketsTable1234-ABC/stream/2026-11-16T00:00:00.000',
    shardId: 'shardId-0001',
    startSequenceNumber: '100',
    endSequenceNumber: '400',
  };
  const record = (sequence: number): StreamRecord => ({ eventName: 'MODIFY', dynamodb: { SequenceNumber: String(sequence) } });

  /** A stream stand-in: GetRecords answers these pages in turn (an Error is thrown instead); iterators are logged. */
  function scriptedStream(pages: (StreamRecord[] | Error)[], options: { iteratorFails?: Error } = {}) {
    const iterators: unknown[] = [];
    let page = 0;
    const send = async (command: unknown): Promise<unknown> => {
      if (command instanceof GetShardIteratorCommand) {
        if (options.iteratorFails) throw options.iteratorFails;
        iterators.push(command.input);
        return { ShardIterator: `it-${iterators.length}` };
      }
      if (command instanceof GetRecordsCommand) {
        const next = pages[page++];
        if (next instanceof Error) throw next;
        return { Records: next ?? [], NextShardIterator: page < pages.length ? `it-page-${page}` : undefined };
      }
      throw new Error('not scripted');
    };
    return { streams: { send } as unknown as DynamoDBStreamsClient, iterators };
  }

  it('reads from the first sequence number to the last, across pages and empty answers, and no further', async () => {
    const stub = scriptedStream([[record(100), record(200)], [], [record(300), record(400), record(500)], [record(600)]]);
    const records = await readStreamBatch(stub.streams, batch);
    expect(records.map((r) => r.dynamodb?.SequenceNumber)).toEqual(['100', '200', '300', '400']);
    expect(stub.iterators).toEqual([
      { StreamArn: batch.streamArn, ShardId: 'shardId-0001', ShardIteratorType: 'AT_SEQUENCE_NUMBER', SequenceNumber: '100' },
    ]);
    // Sequence numbers grow but are not consecutive: a record past the last one ends the range too.
    const between = await readStreamBatch(scriptedStream([[record(100), record(300)], [record(500), record(600)]]).streams, {
      ...batch,
      endSequenceNumber: '450',
    });
    expect(between.map((r) => r.dynamodb?.SequenceNumber)).toEqual(['100', '300']);
  });

  it('says the range is gone when the stream trimmed it (older than 24 hours)', async () => {
    const trimmed = new TrimmedDataAccessException({ message: 'the requested sequence number is beyond the trim horizon', $metadata: {} });
    await expect(readStreamBatch(scriptedStream([], { iteratorFails: trimmed }).streams, batch)).rejects.toBeInstanceOf(StreamRangeGone);
    await expect(readStreamBatch(scriptedStream([trimmed]).streams, batch)).rejects.toThrow(/TrimmedDataAccessException/);
  });

  it('takes a fresh iterator after the last record read when one lapses', async () => {
    const expired = new ExpiredIteratorException({ message: 'iterator expired', $metadata: {} });
    const stub = scriptedStream([[record(100), record(200)], expired, [record(300), record(400)]]);
    const records = await readStreamBatch(stub.streams, batch);
    expect(records.map((r) => r.dynamodb?.SequenceNumber)).toEqual(['100', '200', '300', '400']);
    expect(stub.iterators.at(-1)).toMatchObject({ ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: '200' });
  });

  it('refuses a range it could not read to its end', async () => {
    await expect(readStreamBatch(scriptedStream([[record(100), record(200)]]).streams, batch)).rejects.toThrow(
      "the stream gave records only up to 200, not to the batch's last (400)",
    );
  });

  it('finds the table from the stream ARN', () => {
    expect(tableNameOfStream(batch.streamArn)).toBe('SupportBridge-acme-TicketsTable1234-ABC');
    expect(tableNameOfStream('arn:aws:dynamodb:ddblocal:000000000000:table/support-bridge-demo-tickets/stream/2026-11-16T10:00:00.123')).toBe(
      'support-bridge-demo-tickets',
    );
  });
});
