// SQS adapter: sends in batches of ten (SQS's limit), so one webhook POST with many items costs one request per ten.
import { ChangeMessageVisibilityCommand, SendMessageBatchCommand, SendMessageCommand, type SQSClient } from './sdk/client-sqs';
import { RetryableError } from '../errors';

export type OutgoingMessage = {
  /** Unique within one call; used to report which entries failed. */
  id: string;
  body: string;
  delaySeconds?: number;
  attributes?: Record<string, string>;
};

/** A queue the bridge writes to. */
export type Queue = {
  /** Sends every message or throws RetryableError naming how many failed; entries already accepted stay accepted. */
  sendAll(messages: OutgoingMessage[]): Promise<void>;
  send(message: Omit<OutgoingMessage, 'id'>): Promise<void>;
  /** Hides a received message for `seconds` more (SQS caps this at 12 hours). */
  delay(receiptHandle: string, seconds: number): Promise<void>;
};

const SQS_BATCH = 10;
/** SQS caps a whole batch at 256 KiB; stay under it with room for attributes. */
const SQS_BATCH_BYTES = 240 * 1024;
const MAX_VISIBILITY_SECONDS = 12 * 60 * 60;

/** Splits messages into batches SQS accepts: at most ten, and at most SQS_BATCH_BYTES together. */
function chunks(messages: OutgoingMessage[]): OutgoingMessage[][] {
  const out: OutgoingMessage[][] = [];
  let current: OutgoingMessage[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = Buffer.byteLength(message.body);
    if (current.length === SQS_BATCH || (current.length > 0 && bytes + size > SQS_BATCH_BYTES)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(message);
    bytes += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}

/**
 * JSON that SQS accepts as a message body. JSON.stringify already escapes control characters and lone surrogates,
 * but leaves U+FFFE and U+FFFF, which SQS refuses outright.
 */
export function toSqsBody(value: unknown): string {
  return JSON.stringify(value).replace(/[\uFFFE\uFFFF]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}

/** An SQS queue by URL. */
export function sqsQueue(sqs: SQSClient, queueUrl: string): Queue {
  const attributes = (attrs?: Record<string, string>) =>
    attrs
      ? Object.fromEntries(Object.entries(attrs).map(([k, v]) => [k, { DataType: 'String', StringValue: v }]))
      : undefined;
  return {
    async sendAll(messages) {
      for (const chunk of chunks(messages)) {
        let pending = chunk;
        // SQS may accept part of a batch; resend only what failed, a few times, then give up loudly.
        for (let attempt = 0; pending.length > 0; attempt++) {
          const result = await sqs.send(
            new SendMessageBatchCommand({
              QueueUrl: queueUrl,
              Entries: pending.map((m) => ({
                Id: m.id,
                MessageBody: m.body,
                DelaySeconds: m.delaySeconds,
                MessageAttributes: attributes(m.attributes),
              })),
            }),
          );
          const failed = new Set((result.Failed ?? []).map((f) => f.Id));
          pending = pending.filter((m) => failed.has(m.id));
          if (pending.length > 0 && attempt >= 2) {
            throw new RetryableError(`SQS refused ${pending.length} of ${messages.length} messages`);
          }
        }
      }
    },
    async send(message) {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: message.body,
          DelaySeconds: message.delaySeconds,
          MessageAttributes: attributes(message.attributes),
        }),
      );
    },
    async delay(receiptHandle, seconds) {
      await sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: queueUrl,
          ReceiptHandle: receiptHandle,
          VisibilityTimeout: Math.max(0, Math.min(MAX_VISIBILITY_SECONDS, Math.ceil(seconds))),
        }),
      );
    },
  };
}
