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
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { WorkQueues } from '../../infra/constructs/work-queues';
import { memoryOutput } from '../../infra/ops/cli-support';
import { deadLetterQueues, describeMessage, queuePrefix, redriveCommand, type DlqContext } from '../../infra/ops/dlq-commands';

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
