// Primary adapter: SQS batch of normalised X items → complete them (name their authors: shared/x/complete-items.ts)
// → the ingest use case → partial batch failures. An item whose author X could not name yet goes back to SQS, hidden
// for a growing wait (shared/x/lookup-backoff.ts), never before X's rate-limit reset.
// Items of one customer run in order (their decisions depend on each other); customers run in parallel.
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { Config } from '../../shared/config';
import { required } from '../../shared/config';
import { RetryableError } from '../../shared/errors';
import type { AwsClients } from '../../shared/aws/clients';
import type { Queue } from '../../shared/aws/sqs-queue';
import { dynamoChannelHealthStore, dynamoTicketStore } from '../../shared/aws/dynamo-ticket-store';
import { dynamoXCache } from '../../shared/aws/dynamo-x-cache';
import { dynamoDbClient } from '../../shared/aws/dynamodb-client';
import { lazyHandler } from '../../shared/aws/lambda-config';
import { configWithSecrets } from '../../shared/aws/lambda-secrets';
import { FUNCTION_SECRETS } from '../../shared/aws/resources';
import { count, instrumented, logger } from '../../shared/logger';
import { METRIC_NAMES, type MetricName } from '../../shared/metric-names';
import { ingestItem, prefetchXItems, type IngestDeps, type IngestOutcome } from '../../shared/tickets/ingest';
import { completeBatch, completeFromBody, type Completion, type CompleteDeps } from '../../shared/x/complete-items';
import { inboundEventSchema, type InboundEvent } from '../../shared/x/inbound-event';
import { keepDmMedia, type DmMediaSource } from '../../shared/attachments/keep-dm-media';
import type { AttachmentStore } from '../../shared/attachments/attachment-store';
import { s3AttachmentStoreFor } from '../../shared/aws/s3-attachment-store';
import { lazyXLookupsFor } from '../../shared/x/lazy-x-lookups';
import { xReads, type XLookups } from '../../shared/x/x-reads';
import { readBudgetWatch, refusalWatch } from '../../shared/channel/channel-health';
import { xchatIntake, xchatOpenerFor, type XChatOpener } from '../../shared/x/xchat-inbound';
import { lookupRetryDelaySeconds } from '../../shared/x/lookup-backoff';

const OUTCOME_METRIC: Record<IngestOutcome['outcome'], MetricName> = {
  created: METRIC_NAMES.TicketsCreated,
  added: METRIC_NAMES.MessagesAdded,
  reopened: METRIC_NAMES.TicketsReopened,
  outbound: METRIC_NAMES.OutboundRecorded,
  reply_matched: METRIC_NAMES.ReplyEchoesMatched,
  redacted: METRIC_NAMES.MessagesRedacted,
  edited: METRIC_NAMES.MessagesEdited,
  duplicate: METRIC_NAMES.DuplicatesDropped,
  tombstoned: METRIC_NAMES.DeletesBeforeIngest,
  ignored: METRIC_NAMES.InboundIgnored,
  revoked: METRIC_NAMES.AppRevocations,
};

/** What ingest reaches besides the table: X's read API, and the store DM media are copied into. */
export type IngestOptions = {
  /** Replaces the X client built from the config (tests). */
  x?: XLookups;
  /** Where DM media are copied; without one, DM media are listed with X's address and no copy. */
  attachments?: AttachmentStore;
  /** Where DM media may be fetched from: X's DM media host unless a test or the local runner hands in its fake's. */
  mediaSource?: DmMediaSource;
  /** Builds the XChat opener (tests: a local Juicebox realm); default: from the brand's XChat keys, if set up. */
  xchatOpener?: () => Promise<XChatOpener>;
};

/**
 * The ingest function for this config (the same one Lambda, the local runner and the tests run). It reads X (users
 * and quoted posts) as the bot account at X_API_BASE_URL when the account's token is configured, and copies DM media
 * into `options.attachments` with the same credentials.
 */
export function createIngestHandler(
  config: Config,
  clients: Pick<AwsClients, 'dynamodb'> & Partial<Pick<AwsClients, 'sqs'>> = { dynamodb: dynamoDbClient(config) },
  options: IngestOptions = {},
) {
  const tableName = required(config.aws.tableName, 'TABLE_NAME');
  const now = () => new Date();
  const channel = dynamoChannelHealthStore(clients.dynamodb, tableName, config.brand);
  const deps: IngestDeps = {
    store: dynamoTicketStore(clients.dynamodb, tableName),
    brand: config.brand,
    botUserId: config.x.botUserId,
    botUsername: config.x.botUsername,
    windows: config.windows,
    now,
    ...(options.attachments ? { media: options.attachments } : {}),
    channel,
    // The brand's rules (RULES_FILE locally, the brand file's `rules` on AWS): drop, tag, priority.
    ...(config.rules ? { rules: config.rules } : {}),
  };
  const media: MediaDeps | undefined = options.attachments && {
    store: options.attachments,
    credentials: config.x,
    ...(options.mediaSource ? { source: options.mediaSource } : {}),
  };
  const cache = dynamoXCache(clients.dynamodb, tableName, { brand: config.brand, now });
  const x = options.x ?? lazyXLookupsFor(config.x);
  if (!x) logger.warn('no X access token configured: authors X did not name are ticketed unresolved, nothing is read');
  const completion: CompleteDeps = {
    ...(x
      ? {
          reads: xReads({
            x,
            counter: cache.reads,
            budgetPerDay: config.x.readBudgetPerDay,
            now,
            budget: readBudgetWatch({ store: channel, now }),
            refusals: refusalWatch({ store: channel, now }),
          }),
        }
      : {}),
    cache: cache.users,
    storedItems: (xIds) => deps.store.getXItems(xIds),
    bot: { xUserId: config.x.botUserId, username: config.x.botUsername },
    now,
  };
  const xchat = xchatIntake({ opener: options.xchatOpener ?? xchatOpenerFor(config.x), channel, now });
  const inbound = inboundQueueFor(config, clients.sqs);
  if (!inbound) logger.warn('no INBOUND_QUEUE_URL: an item X could not name comes back after the visibility timeout');
  return (event: SQSEvent): Promise<SQSBatchResponse> =>
    instrumented('ingest', config.brand, () => processBatch(event.Records, deps, completion, media, xchat, inbound));
}

/**
 * The inbound queue, to put off an item's next try. Its SQS client is loaded at the first delay, not at a cold start:
 * most batches need none. Undefined without INBOUND_QUEUE_URL.
 */
function inboundQueueFor(config: Config, sqs?: AwsClients['sqs']): Pick<Queue, 'delay'> | undefined {
  const url = config.aws.inboundQueueUrl;
  if (!url) return undefined;
  let loaded: Promise<Pick<Queue, 'delay'>> | undefined;
  const queue = (): Promise<Pick<Queue, 'delay'>> => {
    loaded ??= (async () => {
      const { sqsQueue } = await import('../../shared/aws/sqs-queue');
      return sqsQueue(sqs ?? (await import('../../shared/aws/sqs-client')).sqsClient(config), url);
    })();
    // A failed load is tried again on the next delay, not remembered.
    loaded.catch(() => (loaded = undefined));
    return loaded;
  };
  return { delay: async (receiptHandle, seconds) => (await queue()).delay(receiptHandle, seconds) };
}

type MediaDeps = Parameters<typeof keepDmMedia>[1];

/** Processes a batch; the ids of records that failed go back to SQS, the rest are done. */
export async function processBatch(
  records: SQSRecord[],
  deps: IngestDeps,
  completion: CompleteDeps,
  media?: MediaDeps,
  xchat?: XChatIntake,
  inbound?: Pick<Queue, 'delay'>,
): Promise<SQSBatchResponse> {
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
  // XChat messages are opened (or marked encrypted) before anything reads their text: shared/x/xchat-inbound.ts.
  if (xchat) await openXChat(lanes, (xId) => prefetched.isStored(xId), xchat, failures);
  // A redelivery of a stored item changes nothing whoever wrote it: no look-up (no cache read, no X read) for its author.
  const completed = await completeItems(
    [...lanes.values()].flat().map(({ item }) => item),
    completion,
    (item) => prefetched.isStored(item.xId),
  );
  await Promise.all(
    [...lanes.values()].map(async (lane) => {
      for (const { record, item } of lane) {
        const complete = completed.get(item);
        if (!complete?.ok) {
          failures.push(record.messageId);
          // The wait is the message's visibility: it grows with each receive, and a 429 holds it until X's reset.
          const retryInSeconds = lookupRetryDelaySeconds(
            receivesOf(record).receiveCount ?? 1,
            complete?.error.notBefore,
            completion.now().getTime(),
          );
          logger.warn('inbound item not complete yet; SQS will redeliver it', {
            xId: item.xId,
            kind: item.kind,
            messageId: record.messageId,
            retryInSeconds,
            error: complete?.error,
          });
          if (inbound) await putOff(inbound, record, retryInSeconds);
          continue;
        }
        try {
          const known = prefetched(item.xId);
          // A redelivered DM is already stored with its copies: no second download.
          const ready =
            media && known?.stored === undefined ? await keepDmMedia(complete.item, media, receivesOf(record)) : complete.item;
          const result = await ingestItem(ready, deps, known);
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

/**
 * Each item's completion; when the read counter cannot be reached, every item to complete goes back to the queue.
 * Items `stored` says the table already holds are named from their body only.
 */
async function completeItems(
  all: InboundEvent[],
  deps: CompleteDeps,
  stored: (item: InboundEvent) => boolean,
): Promise<Map<InboundEvent, Completion>> {
  const known = new Map<InboundEvent, Completion>(
    all.filter(stored).map((item) => [item, { ok: true, item: completeFromBody(item) }] as const),
  );
  const items = all.filter((item) => !known.has(item));
  if (items.length === 0) return known;
  try {
    const { completions, stats } = await completeBatch(items, deps);
    count(METRIC_NAMES.XUsersNotFound, stats.notFound);
    count(METRIC_NAMES.XLookupsFailed, completions.filter((c) => !c.ok).length);
    if (items.some((item) => item.kind !== 'delete')) logger.info('batch completed', { ...stats });
    return new Map([...known, ...items.map((item, i) => [item, completions[i] as Completion] as const)]);
  } catch (error) {
    const failed = new RetryableError('the batch could not be completed', undefined, { cause: error });
    logger.error('batch could not be completed; SQS will redeliver it', { error: error as Error });
    return new Map([...known, ...items.map((item) => [item, { ok: false, error: failed }] as const)]);
  }
}

type XChatIntake = ReturnType<typeof xchatIntake>;

/** Replaces each XChat item of the lanes by its opened version; one that fails goes back to SQS, out of its lane. */
async function openXChat(
  lanes: Map<string, { record: SQSRecord; item: InboundEvent }[]>,
  stored: (xId: string) => boolean,
  xchat: XChatIntake,
  failures: string[],
): Promise<void> {
  for (const [key, lane] of lanes) {
    const kept: typeof lane = [];
    for (const entry of lane) {
      try {
        kept.push({ record: entry.record, item: await xchat(entry.item, stored(entry.item.xId)) });
      } catch (error) {
        failures.push(entry.record.messageId);
        logger.warn('XChat message could not be opened yet; SQS will redeliver it', { xId: entry.item.xId, error: error as Error });
      }
    }
    lanes.set(key, kept);
  }
}

/** Hides the record for `seconds`; if SQS refuses, the item still goes back, after the queue's visibility timeout. */
async function putOff(inbound: Pick<Queue, 'delay'>, record: SQSRecord, seconds: number): Promise<void> {
  try {
    await inbound.delay(record.receiptHandle, seconds);
  } catch (error) {
    logger.warn('could not set the retry delay; the queue visibility timeout applies', {
      messageId: record.messageId,
      error: error as Error,
    });
  }
}

function receivesOf(record: SQSRecord): { receiveCount?: number } {
  const receives = Number(record.attributes?.ApproximateReceiveCount);
  return Number.isSafeInteger(receives) && receives > 0 ? { receiveCount: receives } : {};
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
    case 'revoke':
      return 'channel';
  }
}

export const handler = lazyHandler(
  (config: Config) => createIngestHandler(config, undefined, attachmentsOf(config)),
  configWithSecrets(FUNCTION_SECRETS.ingest),
);

function attachmentsOf(config: Config): IngestOptions {
  const attachments = s3AttachmentStoreFor(config.aws);
  return attachments ? { attachments } : {};
}
