// The local stand-in for Lambda's SQS event source mapping: long-polls a queue, hands batches to a handler as a
// real-shaped SQSEvent, deletes what succeeded and leaves the rest to come back after the visibility timeout.
// Redrive to the dead-letter queue stays SQS's job (the emulator applies the queue's RedrivePolicy), as on AWS.
import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type Message,
  type MessageAttributeValue,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSMessageAttributes, SQSRecord, SQSRecordAttributes } from 'aws-lambda';

/** A Lambda SQS handler. `void` means every record succeeded; a throw means the whole batch failed. */
export type SqsHandler = (event: SQSEvent) => Promise<SQSBatchResponse | void | undefined>;

export type SqsEventSourceOptions = {
  /** For logs and stats, e.g. `ingest`. */
  name: string;
  sqs: SQSClient;
  queueUrl: string;
  queueArn: string;
  handler: SqsHandler;
  /** Messages per invocation; one ReceiveMessage returns at most 10, so larger sizes are capped at 10. */
  batchSize: number;
  /** Concurrent pollers, each with at most one batch in flight (Lambda starts with five). Default 2. */
  concurrency?: number;
  /** Long-poll wait, as Lambda's pollers use (20 s). stop() aborts a pending poll. */
  waitTimeSeconds?: number;
  /** The consumer's timeout: a batch still running after it counts as failed, as a timed-out invocation does. */
  timeoutSeconds?: number;
  awsRegion?: string;
  /** Where invocation errors are reported (default console.error). */
  log?: (message: string, error?: unknown) => void;
  /**
   * Called with the messages this source deleted after they succeeded (local mode's queue journal marks them done).
   * Awaited before the next receive; an error is logged, never fails the batch.
   */
  onDeleted?: (messages: Message[]) => void | Promise<void>;
  /** Called with the messages left on the queue because their invocation failed for them. */
  onFailed?: (messages: Message[]) => void | Promise<void>;
};

export type SqsEventSourceStats = {
  /** SQS requests this event source made, by action (ReceiveMessage, DeleteMessageBatch). */
  requests: Record<string, number>;
  received: number;
  emptyReceives: number;
  invocations: number;
  /** Records deleted after their invocation succeeded for them. */
  succeeded: number;
  /** Records left on the queue (reported failures, thrown or timed-out invocations, failed deletes). */
  failed: number;
  handlerErrors: number;
  timeouts: number;
};

export type SqsEventSource = {
  readonly name: string;
  readonly queueUrl: string;
  /** Batches currently being handled (received and not yet settled). */
  readonly inFlight: number;
  stats(): SqsEventSourceStats;
  /** Stops polling and resolves once every in-flight batch has settled. Idempotent. */
  stop(): Promise<void>;
};

const MAX_RECEIVE = 10;

/** Starts polling at once. The returned source runs until stop(). */
export function startSqsEventSource(options: SqsEventSourceOptions): SqsEventSource {
  const log = options.log ?? ((message, error) => console.error(`[${options.name}] ${message}`, error ?? ''));
  const awsRegion = options.awsRegion ?? 'us-east-1';
  const batchSize = Math.max(1, Math.min(MAX_RECEIVE, options.batchSize));
  const timeoutMs = (options.timeoutSeconds ?? 30) * 1000;
  const stats: SqsEventSourceStats = {
    requests: {},
    received: 0,
    emptyReceives: 0,
    invocations: 0,
    succeeded: 0,
    failed: 0,
    handlerErrors: 0,
    timeouts: 0,
  };
  const abort = new AbortController();
  let inFlight = 0;
  let stopping = false;

  const count = (action: string) => {
    stats.requests[action] = (stats.requests[action] ?? 0) + 1;
  };

  async function invoke(records: SQSRecord[]): Promise<Set<string>> {
    stats.invocations++;
    const all = new Set(records.map((r) => r.messageId));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)));
    try {
      const result = await Promise.race([options.handler({ Records: records }), timeout]);
      if (result === 'timeout') {
        stats.timeouts++;
        log(`invocation timed out after ${timeoutMs} ms; the batch will be received again`);
        return all;
      }
      const failures = result?.batchItemFailures ?? [];
      // Lambda treats a failure naming no message of the batch (empty, null, unknown id) as a failed batch.
      if (failures.some((f) => typeof f.itemIdentifier !== 'string' || !all.has(f.itemIdentifier))) return all;
      return new Set(failures.map((f) => f.itemIdentifier));
    } catch (error) {
      stats.handlerErrors++;
      log('invocation failed; the batch will be received again', error);
      return all;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Runs an observer hook; its failure is reported, never turned into a batch failure. */
  async function notify(hook: ((messages: Message[]) => void | Promise<void>) | undefined, messages: Message[], what: string) {
    if (!hook || messages.length === 0) return;
    try {
      await hook(messages);
    } catch (error) {
      log(`the ${what} hook failed`, error);
    }
  }

  async function settle(messages: Message[]): Promise<void> {
    const records = messages.map((m) => toRecord(m, options.queueArn, awsRegion));
    const failed = await invoke(records);
    const done = messages.filter((m) => !failed.has(m.MessageId ?? ''));
    stats.failed += failed.size;
    await notify(options.onFailed, messages.filter((m) => failed.has(m.MessageId ?? '')), 'onFailed');
    // Failures are left alone: they reappear after the queue's visibility timeout, and SQS moves them to the DLQ
    // once their receive count passes maxReceiveCount. Lambda does not change their visibility either.
    for (let i = 0; i < done.length; i += MAX_RECEIVE) {
      const chunk = done.slice(i, i + MAX_RECEIVE);
      try {
        count('DeleteMessageBatch');
        const result = await options.sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: options.queueUrl,
            Entries: chunk.map((m, index) => ({ Id: String(index), ReceiptHandle: m.ReceiptHandle ?? '' })),
          }),
        );
        const notDeleted = new Set((result.Failed ?? []).map((f) => f.Id));
        stats.succeeded += chunk.length - notDeleted.size;
        stats.failed += notDeleted.size;
        if (notDeleted.size > 0) log(`${notDeleted.size} processed messages could not be deleted and will be delivered again`);
        await notify(options.onDeleted, chunk.filter((_, index) => !notDeleted.has(String(index))), 'onDeleted');
      } catch (error) {
        // At least once: the messages come back and the handler must recognise them, as on AWS.
        stats.failed += chunk.length;
        log('DeleteMessageBatch failed; processed messages will be delivered again', error);
      }
    }
  }

  async function poll(): Promise<void> {
    let backoffMs = 100;
    while (!stopping) {
      let messages: Message[];
      try {
        count('ReceiveMessage');
        const result = await options.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: options.queueUrl,
            MaxNumberOfMessages: batchSize,
            WaitTimeSeconds: options.waitTimeSeconds ?? 20,
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
          { abortSignal: abort.signal },
        );
        messages = result.Messages ?? [];
        backoffMs = 100;
      } catch (error) {
        if (stopping) return;
        log(`ReceiveMessage failed; retrying in ${backoffMs} ms`, error);
        await new Promise((r) => setTimeout(r, backoffMs));
        backoffMs = Math.min(backoffMs * 2, 5000);
        continue;
      }
      if (messages.length === 0) {
        stats.emptyReceives++;
        continue;
      }
      stats.received += messages.length;
      inFlight++;
      try {
        await settle(messages);
      } finally {
        inFlight--;
      }
    }
  }

  const pollers = Array.from({ length: Math.max(1, options.concurrency ?? 2) }, () => poll());
  let stopped: Promise<void> | undefined;

  return {
    name: options.name,
    queueUrl: options.queueUrl,
    get inFlight() {
      return inFlight;
    },
    stats: () => ({ ...stats, requests: { ...stats.requests } }),
    stop() {
      stopped ??= (async () => {
        stopping = true;
        // Only the waiting long polls are aborted; a batch being handled runs to its end (or its timeout).
        abort.abort();
        await Promise.all(pollers);
      })();
      return stopped;
    },
  };
}

function toAttributes(message: Message): SQSRecordAttributes {
  const a = message.Attributes ?? {};
  return {
    ...(a as Record<string, string>),
    ApproximateReceiveCount: a.ApproximateReceiveCount ?? '1',
    SentTimestamp: a.SentTimestamp ?? String(Date.now()),
    SenderId: a.SenderId ?? '000000000000',
    ApproximateFirstReceiveTimestamp: a.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
  };
}

function toMessageAttributes(attributes: Record<string, MessageAttributeValue> | undefined): SQSMessageAttributes {
  const base64 = (bytes: Uint8Array | undefined) => (bytes ? Buffer.from(bytes).toString('base64') : undefined);
  // Lambda spells them camelCase and always includes the (reserved, empty) list fields.
  return Object.fromEntries(
    Object.entries(attributes ?? {}).map(([name, value]) => [
      name,
      {
        stringValue: value.StringValue,
        binaryValue: base64(value.BinaryValue),
        stringListValues: value.StringListValues ?? [],
        binaryListValues: (value.BinaryListValues ?? []).map((b) => base64(b) ?? ''),
        dataType: value.DataType ?? 'String',
      },
    ]),
  );
}

/** One received SQS message as the record Lambda would hand the function. */
export function toRecord(message: Message, queueArn: string, awsRegion: string): SQSRecord {
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: toAttributes(message),
    messageAttributes: toMessageAttributes(message.MessageAttributes),
    md5OfBody: message.MD5OfBody ?? '',
    ...(message.MD5OfMessageAttributes ? { md5OfMessageAttributes: message.MD5OfMessageAttributes } : {}),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion,
  };
}
