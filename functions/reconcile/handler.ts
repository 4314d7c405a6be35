// Primary adapter: an EventBridge Scheduler tick (or the local runner's timer) → one reconciliation run for the brand
// (shared/x/reconcile.ts) → a log line and metrics. A run that stops early (budget, X's rate limit) is no failure: the
// next tick continues from the cursors; only the table or the queue being unreachable throws, and Lambda retries.
import type { AwsClients } from '../../shared/aws/clients';
import { dynamoDbClient } from '../../shared/aws/dynamodb-client';
import { dynamoReconcileStore } from '../../shared/aws/dynamo-reconcile-store';
import { dynamoChannelHealthStore, dynamoTicketStore } from '../../shared/aws/dynamo-ticket-store';
import { dynamoXCache } from '../../shared/aws/dynamo-x-cache';
import { lazyHandler } from '../../shared/aws/lambda-config';
import { configWithSecrets } from '../../shared/aws/lambda-secrets';
import { FUNCTION_SECRETS, RECONCILE } from '../../shared/aws/resources';
import { sqsClient } from '../../shared/aws/sqs-client';
import { sqsQueue } from '../../shared/aws/sqs-queue';
import { readBudgetWatch } from '../../shared/channel/channel-health';
import type { Config } from '../../shared/config';
import { required } from '../../shared/config';
import { count, instrumented, logger } from '../../shared/logger';
import { METRIC_NAMES } from '../../shared/metric-names';
import { reconcile, type ReconcileReport } from '../../shared/x/reconcile';
import { createXTimelineReads, type XTimelineReads } from '../../shared/x/reconcile-x-client';
import { xReads } from '../../shared/x/x-reads';

/** A run may hold the brand's lease this long: the function's timeout (infra/stack.ts), after which Lambda stops it. */
export const RECONCILE_LEASE_MS = RECONCILE.timeoutSeconds * 1000;

export type ReconcileOptions = {
  /** Replaces the X client built from the config (tests). */
  x?: XTimelineReads;
  /** Replaces the clock (tests: a later run, after a killed run's lease expired). */
  now?: () => Date;
};

/**
 * The reconcile function for this config, or undefined when the bot's access token is not configured (local mode
 * without X): then nothing is read and the caller says reconciliation is off.
 */
export function createReconcileHandler(
  config: Config,
  clients: Pick<AwsClients, 'dynamodb' | 'sqs'> = { dynamodb: dynamoDbClient(config), sqs: sqsClient(config) },
  options: ReconcileOptions = {},
): (() => Promise<ReconcileReport>) | undefined {
  const { accessToken, accessTokenSecret } = config.x;
  const x =
    options.x ??
    (accessToken && accessTokenSecret
      ? createXTimelineReads({ ...config.x, accessToken, accessTokenSecret })
      : undefined);
  if (!x) return undefined;
  const tableName = required(config.aws.tableName, 'TABLE_NAME');
  const now = options.now ?? (() => new Date());
  const cache = dynamoXCache(clients.dynamodb, tableName, { brand: config.brand, now });
  const lookups = {
    users: async () => ({ users: [], notFound: [] }),
    posts: async () => ({ posts: [], users: [], notFound: [] }),
  };
  const channel = dynamoChannelHealthStore(clients.dynamodb, tableName, config.brand);
  const deps = {
    brand: config.brand,
    bot: { xUserId: config.x.botUserId, username: config.x.botUsername },
    x,
    // Only `page` is used here: the look-ups are ingest's.
    reads: xReads({
      x: lookups,
      counter: cache.reads,
      budgetPerDay: config.x.readBudgetPerDay,
      now,
      budget: readBudgetWatch({ store: channel, now }),
    }),
    store: dynamoReconcileStore(clients.dynamodb, tableName, config.brand),
    tickets: dynamoTicketStore(clients.dynamodb, tableName),
    inboundQueue: sqsQueue(clients.sqs, required(config.aws.inboundQueueUrl, 'INBOUND_QUEUE_URL')),
    now,
    leaseMs: RECONCILE_LEASE_MS,
    channel,
    listenQueries: config.x.listenQueries,
  };
  return () =>
    instrumented('reconcile', config.brand, async () => {
      const report = await reconcile(deps);
      count(METRIC_NAMES.ReconcileItemsFound, report.found);
      count(METRIC_NAMES.ReconcileItemsMissed, report.missed);
      count(METRIC_NAMES.ReconcileWebhookMissed, report.webhookMissed);
      count(METRIC_NAMES.ListeningItemsQueued, report.listened ?? 0);
      if (report.outcome !== 'done' && report.outcome !== 'busy' && report.outcome !== 'waiting') count(METRIC_NAMES.ReconcileStopped);
      const log = report.outcome === 'done' || report.outcome === 'busy' || report.outcome === 'waiting' ? logger.info : logger.warn;
      log.call(logger, 'reconciliation run', { ...report, costUsd: report.costMicroUsd / 1_000_000 });
      return report;
    });
}

/** Lambda's entry point: the scheduler's event carries nothing the run needs. */
export const handler = lazyHandler(
  (config: Config) => {
    const run = createReconcileHandler(config);
    if (!run) throw new Error('Invalid configuration: X_ACCESS_TOKEN is required by this function');
    return () => run();
  },
  configWithSecrets(FUNCTION_SECRETS.reconcile),
);
