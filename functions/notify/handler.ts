// Primary adapter: ticket and channel changes (the table stream) and queued retries (the notify-retry queue) → the
// notify use case → partial batch failures. One function for both sources, told apart by each batch's eventSource.
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '../../shared/aws/sdk/util-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { Config } from '../../shared/config';
import { required } from '../../shared/config';
import { createAwsClients, type AwsClients } from '../../shared/aws/clients';
import { dynamoEventReader } from '../../shared/aws/dynamo-event-reader';
import { isChannelItem, isTicketItem, itemToChannel, itemToTicket, openingMessageOf } from '../../shared/aws/items';
import { lazyHandler } from '../../shared/aws/lambda-config';
import { configWithSecrets } from '../../shared/aws/lambda-secrets';
import { FUNCTION_SECRETS } from '../../shared/aws/resources';
import { QUEUES } from '../../shared/aws/resources';
import { s3AttachmentStoreFor } from '../../shared/aws/s3-attachment-store';
import { sqsQueue } from '../../shared/aws/sqs-queue';
import type { AttachmentStore } from '../../shared/attachments/attachment-store';
import { deliver } from '../../shared/helpdesk/delivery';
import { notifyTicketChanges, retryTicketEvents, type NotifyDeps, type StreamTicketChange } from '../../shared/helpdesk/notify';
import { instrumented } from '../../shared/logger';

/** Wiring the tests and the local runner may change; Lambda uses the defaults. */
export type NotifyHandlerOptions = {
  fetch?: typeof globalThis.fetch;
  now?: () => Date;
  /** The helpdesk's time to answer; the contract's 10 s by default. */
  timeoutMs?: number;
  /** The retry schedule (seconds before retry n); backoff.ts by default. Tests pass a tiny one. */
  retryDelaySeconds?: (attempt: number) => number;
  /** Where events go without HELPDESK_WEBHOOK_URL; the console by default. */
  print?: (text: string) => void;
  /** Must equal the notify-retry queue's maxReceiveCount; tests that shrink the queue's pass theirs. */
  maxRetries?: number;
  streamBudgetMs?: number;
  /** Signs links to stored DM media (S3 on AWS, files locally); without one, events name the API path instead. */
  attachments?: Pick<AttachmentStore, 'link'>;
};

export type NotifyEvent = DynamoDBStreamEvent | SQSEvent;
export type NotifyResponse = DynamoDBBatchResponse | SQSBatchResponse;

/** The notify function for this config (the same one Lambda, the local runner and the tests run). */
export function createNotifyHandler(
  config: Config,
  clients: AwsClients = createAwsClients(config),
  options: NotifyHandlerOptions = {},
): (event: NotifyEvent) => Promise<NotifyResponse> {
  const now = options.now ?? (() => new Date());
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const deps: NotifyDeps = {
    reader: dynamoEventReader(clients.dynamodb, required(config.aws.tableName, 'TABLE_NAME')),
    retryQueue: sqsQueue(clients.sqs, required(config.aws.notifyRetryQueueUrl, 'NOTIFY_RETRY_QUEUE_URL')),
    deliver: (event) =>
      deliver(event, {
        endpoint: config.helpdesk.webhookUrl,
        // During a rotation the old secret signs too, so the helpdesk may switch at any moment of the overlap.
        secret: [config.helpdesk.webhookSecret, ...(config.helpdesk.previousWebhookSecret ? [config.helpdesk.previousWebhookSecret] : [])],
        fetch: fetchImpl,
        now,
        timeoutMs: options.timeoutMs,
        print: options.print,
      }),
    now,
    retryDelaySeconds: options.retryDelaySeconds,
    maxRetries: options.maxRetries ?? QUEUES.notifyRetry.maxReceiveCount,
    streamBudgetMs: options.streamBudgetMs,
    ...(options.attachments ? { attachments: options.attachments } : {}),
  };
  return (event) =>
    instrumented('notify', config.brand, async () => {
      const records = event.Records as (DynamoDBRecord | SQSEvent['Records'][number])[];
      if (records.length === 0) return { batchItemFailures: [] };
      // A Lambda batch comes from one event source mapping, so the first record names the source of all.
      if (records[0]!.eventSource === 'aws:sqs') {
        const sqs = (event as SQSEvent).Records;
        const { failedMessageIds } = await retryTicketEvents(
          sqs.map((r) => ({
            messageId: r.messageId,
            receiptHandle: r.receiptHandle,
            receiveCount: Number(r.attributes.ApproximateReceiveCount) || 1,
            body: r.body,
          })),
          deps,
        );
        return { batchItemFailures: failedMessageIds.map((itemIdentifier) => ({ itemIdentifier })) };
      }
      const { failedRecordIds } = await notifyTicketChanges(ticketChanges((event as DynamoDBStreamEvent).Records), deps);
      return { batchItemFailures: failedRecordIds.map((itemIdentifier) => ({ itemIdentifier })) };
    });
}

/**
 * The stream records that are ticket or channel writes, decoded, in stream order. Deletes (TTL, cleanup) are not
 * changes.
 */
export function ticketChanges(records: DynamoDBRecord[]): StreamTicketChange[] {
  const changes: StreamTicketChange[] = [];
  for (const record of records) {
    const image = record.dynamodb?.NewImage;
    const recordId = record.dynamodb?.SequenceNumber;
    if (record.eventName === 'REMOVE' || !image || !recordId) continue;
    // The Lambda event's AttributeValue type and the SDK's describe the same wire format.
    const item = unmarshall(image as Record<string, AttributeValue>);
    const channel = isChannelItem(item);
    if (!channel && !isTicketItem(item)) continue;
    try {
      const oldImage = record.dynamodb?.OldImage;
      const previous = oldImage ? unmarshall(oldImage as Record<string, AttributeValue>).sequence : undefined;
      if (channel) {
        changes.push({ recordId, channel: itemToChannel(item), ...(typeof previous === 'number' ? { previousSequence: previous } : {}) });
        continue;
      }
      const opening = openingMessageOf(item);
      changes.push({
        recordId,
        ticket: itemToTicket(item),
        ...(typeof previous === 'number' ? { previousSequence: previous } : {}),
        ...(opening ? { opening } : {}),
      });
    } catch (error) {
      changes.push({ recordId, unreadable: error instanceof Error ? error.message.slice(0, 300) : String(error) });
    }
  }
  return changes;
}

export const handler = lazyHandler(
  (config: Config) => createNotifyHandler(config, undefined, { attachments: s3AttachmentStoreFor(config.aws) }),
  configWithSecrets(FUNCTION_SECRETS['notify']),
);
