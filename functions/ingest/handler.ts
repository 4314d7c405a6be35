// Primary adapter: SQS batch of normalised X items → the ingest use case → partial batch failures.
// Items of one customer run in order (their decisions depend on each other); customers run in parallel.
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { Config } from '../../shared/config';
import { required } from '../../shared/config';
import type { AwsClients } from '../../shared/aws/clients';
import { dynamoTicketStore } from '../../shared/aws/dynamo-ticket-store';
import { dynamoDbClient } from '../../shared/aws/dynamodb-client';
import { configFromEnvironment, lazyHandler } from '../../shared/aws/lambda-config';
import { FUNCTION_SECRETS } from '../../shared/aws/resources';
import { count, instrumented, logger } from '../../shared/logger';
import { METRIC_NAMES, type MetricName } from '../../shared/metric-names';
import { ingestItem, prefetchXItems, type IngestDeps, type IngestOutcome } from '../../shared/tickets/ingest';
import { completeFromBody } from '../../shared/x/complete-items';
import { inboundEventSchema, type InboundEvent } from '../../shared/x/inbound-event';

const OUTCOME_METRIC: Record<IngestOutcome['outcome'], MetricName> = {
  created: METRIC_NAMES.TicketsCreated,
  added: METRIC_NAMES.MessagesAdded,
  reopened: METRIC_NAMES.TicketsReopened,
  outbound: METRIC_NAMES.OutboundRecorded,
  reply_matched: METRIC_NAMES.ReplyEchoesMatched,
  redacted: METRIC_NAMES.MessagesRedacted,
  duplicate: METRIC_NAMES.DuplicatesDropped,
  tombstoned: METRIC_NAMES.DeletesBeforeIngest,
  ignored: METRIC_NAMES.InboundIgnored,
};

/** The ingest function for this config (the same one Lambda, the local runner and the tests run). */
export function createIngestHandler(config: Config, clients: Pick<AwsClients, 'dynamodb'> = { dynamodb: dynamoDbClient(config) }) {
  const deps: IngestDeps = {
    store: dynamoTicketStore(clients.dynamodb, required(config.aws.tableName, 'TABLE_NAME')),
    brand: config.brand,
    botUserId: config.x.botUserId,
    botUsername: config.x.botUsername,
    windows: config.windows,
    now: () => new Date(),
  };
  return (event: SQSEvent): Promise<SQSBatchResponse> =>
    instrumented('ingest', config.brand, () => processBatch(event.Records, deps));
}

/** Processes a batch; the ids of records that failed go back to SQS, the rest are done. */
export async function processBatch(records: SQSRecord[], deps: IngestDeps): Promise<SQSBatchResponse> {
  const failures: string[] = [];
  const lanes = new Map<string, { record: SQSRecord; item: InboundEvent }[]>();
  for (const record of records) {
    const parsed = parseRecord(record);
    if (!parsed) {
      // Our own webhook wrote it, so this is a bug, not bad luck: let SQS park it in the DLQ for a person.
      failures.push(record.messageId);
      continue;
    }
    const lane = laneOf(parsed);
    lanes.set(lane, [...(lanes.get(lane) ?? []), { record, item: parsed }]);
  }
  // One read for the whole batch's X ids instead of one per item: a redelivery is settled by it, a new item goes on.
  const prefetched = await prefetchXItems(deps.store, [...lanes.values()].flatMap((lane) => lane.map(({ item }) => item.xId)));
  await Promise.all(
    [...lanes.values()].map(async (lane) => {
      for (const { record, item } of lane) {
        try {
          const result = await ingestItem(completeFromBody(item), deps, prefetched(item.xId));
          count(OUTCOME_METRIC[result.outcome]);
          logger.info('inbound item applied', { ...result, kind: item.kind, via: item.via, messageId: record.messageId });
        } catch (error) {
          failures.push(record.messageId);
          logger.error('inbound item failed; SQS will redeliver it', {
            xId: item.xId,
            kind: item.kind,
            messageId: record.messageId,
            error: error as Error,
          });
        }
      }
    }),
  );
  return { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) };
}

function parseRecord(record: SQSRecord): InboundEvent | undefined {
  try {
    const result = inboundEventSchema.safeParse(JSON.parse(record.body));
    if (result.success) return result.data;
    logger.error('queued item does not match the inbound event schema', {
      messageId: record.messageId,
      issue: result.error.issues[0]?.message,
      path: result.error.issues[0]?.path.join('.'),
    });
  } catch {
    logger.error('queued item is not JSON', { messageId: record.messageId });
  }
  return undefined;
}

/** Items that must not overtake each other: one customer's posts, DMs and deletes. */
function laneOf(item: InboundEvent): string {
  switch (item.kind) {
    case 'post':
      return item.author.xUserId;
    case 'dm':
      // Both directions of one conversation share a lane, whichever side sent it.
      return [item.sender.xUserId, item.recipientXUserId].sort().join(':');
    case 'delete':
      return item.authorXUserId;
  }
}

export const handler = lazyHandler(createIngestHandler, configFromEnvironment(FUNCTION_SECRETS.ingest));
