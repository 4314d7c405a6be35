// The brand's SQS queues, built from shared/aws/resources.ts QUEUES (the local runner builds the same on the SQS
// emulator), each with its own dead-letter queue, plus the queue where the table stream parks ticket events that
// the notify function could not process at all.
import { Duration, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { QUEUES, type QueueName, type QueueSpec } from '../../shared/aws/resources';

/** How long a dead-lettered message waits for ops: SQS's maximum, so a long weekend never loses one. */
const DEAD_LETTER_RETENTION = Duration.days(14);

/** A work queue and the dead-letter queue it redrives to. */
export type WorkQueue = { spec: QueueSpec; queue: sqs.Queue; deadLetterQueue: sqs.Queue };

/** Every queue of one brand. Names are `<prefix>-<suffix>` and `<prefix>-<suffix>-dlq`. */
export class WorkQueues extends Construct {
  /** The work queues of QUEUES, by name. */
  readonly queues: Record<QueueName, WorkQueue>;
  /** Where the table stream's event source puts a batch notify failed on after all its retries. */
  readonly streamFailures: sqs.Queue;

  constructor(scope: Construct, id: string, props: { namePrefix: string }) {
    super(scope, id);
    const secure = {
      // SQS-managed SSE: encrypted at rest with no key policy for Lambda's pollers to get wrong.
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    } as const;

    const build = (name: QueueName): WorkQueue => {
      const spec = QUEUES[name];
      const deadLetterQueue = new sqs.Queue(this, `${name}-dlq`, {
        ...secure,
        queueName: `${props.namePrefix}-${spec.suffix}-dlq`,
        retentionPeriod: DEAD_LETTER_RETENTION,
      });
      const queue = new sqs.Queue(this, name, {
        ...secure,
        queueName: `${props.namePrefix}-${spec.suffix}`,
        visibilityTimeout: Duration.seconds(spec.visibilityTimeoutSeconds),
        deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: spec.maxReceiveCount },
      });
      return { spec, queue, deadLetterQueue };
    };
    this.queues = {
      inbound: build('inbound'),
      notifyRetry: build('notifyRetry'),
      reply: build('reply'),
    };

    this.streamFailures = new sqs.Queue(this, 'stream-failures', {
      ...secure,
      queueName: `${props.namePrefix}-notify-stream-failures`,
      retentionPeriod: DEAD_LETTER_RETENTION,
    });
    Validations.of(this.streamFailures).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself a dead-letter destination (the on-failure destination of the table stream event ' +
        'source): it holds records of ticket events for ops to inspect, nothing consumes it, so it needs no DLQ.',
    });
  }

  /** Every dead-letter queue, by a short label for alarms, outputs and the dashboard. */
  deadLetterQueues(): Record<string, sqs.Queue> {
    return {
      inbound: this.queues.inbound.deadLetterQueue,
      'notify-retry': this.queues.notifyRetry.deadLetterQueue,
      reply: this.queues.reply.deadLetterQueue,
      'notify-stream-failures': this.streamFailures,
    };
  }
}
