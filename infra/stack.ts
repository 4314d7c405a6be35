// One brand's Support Bridge on AWS: the table, queues and secret of shared/aws/resources.ts, the six functions
// wired to them as the local runner wires them locally, the reconciler's schedule, the HTTP API, and the alarms. A brand's stack references
// only its own resources, so brands can be deployed, broken and deleted independently.
import { fileURLToPath } from 'node:url';
import { CfnOutput, Duration, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq, SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { FUNCTION_SECRETS, QUEUES, RECONCILE, TICKET_STREAM, type QueueSpec } from '../shared/aws/resources';
import { SECRET_KEYS } from '../shared/config';
import { METRIC_NAMESPACE, METRIC_SERVICE } from '../shared/metric-names';
import type { BrandConfig } from './brand-config';
import { AttachmentsBucket } from './constructs/attachments-bucket';
import { HELPDESK_API_RESERVED_CONCURRENCY, INGEST_MAX_CONCURRENCY, WEBHOOK_RESERVED_CONCURRENCY } from './constructs/limits';
import { BridgeFunction, FUNCTION_NAMES, type FunctionName } from './constructs/bridge-function';
import { BridgeHttpApi } from './constructs/bridge-http-api';
import { BridgeMonitoring } from './constructs/bridge-monitoring';
import { TicketTable } from './constructs/ticket-table';
import { WorkQueues } from './constructs/work-queues';

/** The repository root (esbuild's working directory). */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Where the function entries live by default. */
export const FUNCTIONS_DIR = fileURLToPath(new URL('../functions', import.meta.url));

/** The CloudFormation stack name of a brand. */
export function stackName(brand: string): string {
  return `SupportBridge-${brand}`;
}

/** The Secrets Manager secret name of a brand. */
export function secretName(brand: string): string {
  return `support-bridge/${brand}`;
}

/** A brand's stack props. */
export type SupportBridgeStackProps = StackProps & {
  brand: BrandConfig;
  /** Overrides functions/ (tests); each `<name>/handler.ts` must exist. */
  functionsDir?: string;
};

/** The settings of each function that are not wiring. */
const FUNCTION_SETTINGS: Record<FunctionName, { memorySize: number; timeoutSeconds: number; description: string }> = {
  // CPU scales with memory: X wants an answer within seconds, so the webhook gets more for faster cold starts.
  'x-webhook': {
    memorySize: 512,
    timeoutSeconds: 10,
    description: 'Answers X CRC checks, verifies and queues webhook events',
  },
  ingest: {
    memorySize: 256,
    timeoutSeconds: QUEUES.inbound.consumerTimeoutSeconds,
    description: 'Stores X items as ticket messages',
  },
  notify: {
    memorySize: 256,
    // One function serves two event sources; it gets the longer of their timeouts.
    timeoutSeconds: Math.max(TICKET_STREAM.consumerTimeoutSeconds, QUEUES.notifyRetry.consumerTimeoutSeconds),
    description: 'Delivers signed ticket events to the helpdesk, with retries',
  },
  // twitter-text (weighted length) is heavy to load: more memory, faster cold starts for the helpdesk's calls.
  'helpdesk-api': { memorySize: 512, timeoutSeconds: 10, description: 'Ticket endpoints for the helpdesk' },
  reply: {
    memorySize: 256,
    timeoutSeconds: QUEUES.reply.consumerTimeoutSeconds,
    description: 'Posts helpdesk replies on X, exactly once',
  },
  reconcile: {
    memorySize: 256,
    timeoutSeconds: RECONCILE.timeoutSeconds,
    description: 'Reads on X what the webhook did not deliver and queues it for ingest',
  },
};

/** One brand's whole bridge. */
export class SupportBridgeStack extends Stack {
  /** The brand this stack serves. */
  readonly brand: BrandConfig;
  /** The tickets table. */
  readonly tickets: TicketTable;
  /** The queues and their dead-letter queues. */
  readonly queues: WorkQueues;
  /** The brand's secret (values filled by ops). */
  readonly secret: secretsmanager.Secret;
  /** The functions, by folder name. */
  readonly functions: Record<FunctionName, BridgeFunction>;
  /** The HTTP API. */
  readonly httpApi: BridgeHttpApi;
  /** The bridge's copies of DM media. */
  readonly attachments: AttachmentsBucket;
  /** Alarm topic, alarms and dashboard. */
  readonly monitoring: BridgeMonitoring;

  constructor(scope: Construct, id: string, props: SupportBridgeStackProps) {
    const { brand, functionsDir, ...stackProps } = props;
    super(scope, id, {
      description: `Support Bridge for ${brand.brand}: X webhooks to helpdesk tickets`,
      tags: { app: 'support-bridge', brand: brand.brand },
      ...stackProps,
    });
    this.brand = brand;
    const namePrefix = `support-bridge-${brand.brand}`;

    this.tickets = new TicketTable(this, 'Tickets');
    this.queues = new WorkQueues(this, 'Queues', { namePrefix });
    this.attachments = new AttachmentsBucket(this, 'Attachments');
    const { inbound, notifyRetry, reply } = this.queues.queues;

    // The secret is created holding placeholders only: the template never carries a secret value. Ops fill it
    // after the first deploy; until then the functions fail at start naming the missing key. The one
    // value the bridge itself can invent, the helpdesk's bearer token, is generated by Secrets Manager.
    this.secret = new secretsmanager.Secret(this, 'Secret', {
      secretName: secretName(brand.brand),
      description: `Support Bridge (${brand.brand}) secrets, JSON keys: ${SECRET_KEYS.join(', ')}`,
      generateSecretString: {
        secretStringTemplate: JSON.stringify(
          Object.fromEntries(SECRET_KEYS.filter((key) => key !== 'HELPDESK_API_TOKEN').map((key) => [key, ''])),
        ),
        generateStringKey: 'HELPDESK_API_TOKEN',
        passwordLength: 48,
        excludePunctuation: true,
      },
    });
    Validations.of(this.secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The values are issued by X (consumer secret, bot access token) and by the helpdesk (webhook secret); no ' +
        'rotation function can re-issue them. They are rotated by ops with those parties, and the functions ' +
        're-read the secret every 5 minutes so a rotation needs no deploy.',
    });

    // Settings every function parses at start (shared/config.ts requires BRAND and the bot's identity everywhere).
    const common: Record<string, string> = {
      BRAND: brand.brand,
      X_BOT_USER_ID: brand.xBotUserId,
      X_BOT_USERNAME: brand.xBotUsername,
      // No NODE_OPTIONS=--enable-source-maps: it parses the bundle's map at every cold start (~10 ms); the bundle maps
      // its own error stacks to the .ts sources when one is first written (shared/source-map-stacks.ts).
      POWERTOOLS_SERVICE_NAME: METRIC_SERVICE,
      POWERTOOLS_METRICS_NAMESPACE: METRIC_NAMESPACE,
    };
    const tableName = this.tickets.table.tableName;
    const attachmentsBucket = this.attachments.bucket.bucketName;
    // What X refuses and what it may cost: checked by the API before queueing and by the reply worker before posting.
    const replySettings: Record<string, string> = {
      X_REPLY_POLICY: brand.xReplyPolicy,
      ...(brand.xMonthlySpendCapUsd === undefined ? {} : { X_MONTHLY_SPEND_CAP_USD: String(brand.xMonthlySpendCapUsd) }),
    };
    const environment: Record<FunctionName, Record<string, string>> = {
      'x-webhook': { INBOUND_QUEUE_URL: inbound.queue.queueUrl },
      // The inbound queue's URL lets ingest hide an item X could not name yet for its backoff (the event source grants
      // sqs:ChangeMessageVisibility on this queue only; ingest sends nothing).
      ingest: {
        TABLE_NAME: tableName,
        INBOUND_QUEUE_URL: inbound.queue.queueUrl,
        ATTACHMENTS_BUCKET: attachmentsBucket,
        MENTION_MERGE_WINDOW_HOURS: String(brand.mentionMergeWindowHours),
        REOPEN_WINDOW_HOURS: String(brand.reopenWindowHours),
        X_READ_BUDGET_PER_DAY: String(brand.xReadBudgetPerDay),
        ...(brand.rules ? { RULES: JSON.stringify(brand.rules) } : {}),
      },
      notify: {
        TABLE_NAME: tableName,
        ATTACHMENTS_BUCKET: attachmentsBucket,
        HELPDESK_WEBHOOK_URL: brand.helpdeskWebhookUrl,
        NOTIFY_RETRY_QUEUE_URL: notifyRetry.queue.queueUrl,
      },
      'helpdesk-api': {
        TABLE_NAME: tableName,
        ATTACHMENTS_BUCKET: attachmentsBucket,
        REPLY_QUEUE_URL: reply.queue.queueUrl,
        ...replySettings,
      },
      // The reply queue's URL lets reply push a message's visibility out to X's rate-limit reset.
      reply: { TABLE_NAME: tableName, REPLY_QUEUE_URL: reply.queue.queueUrl, ...replySettings },
      reconcile: {
        TABLE_NAME: tableName,
        INBOUND_QUEUE_URL: inbound.queue.queueUrl,
        X_READ_BUDGET_PER_DAY: String(brand.xReadBudgetPerDay),
        X_RECONCILE_INTERVAL_SECONDS: String(brand.xReconcileIntervalSeconds),
        ...(brand.listenQueries.length > 0 ? { X_LISTEN_QUERIES: brand.listenQueries.join(';') } : {}),
      },
    };
    const reserved: Partial<Record<FunctionName, number>> = {
      // X's deliveries get a pool nothing else in the account can take; the helpdesk API is kept to its own, which
      // is also its ceiling (infra/constructs/limits.ts).
      'x-webhook': WEBHOOK_RESERVED_CONCURRENCY,
      'helpdesk-api': HELPDESK_API_RESERVED_CONCURRENCY,
      reply: brand.reservedConcurrency.reply,
      notify: brand.reservedConcurrency.notify,
      // One run at a time per brand: the lease (shared/x/reconcile.ts) already makes a second run report "busy";
      // a reservation of one keeps Lambda from even starting it, and caps what the reconciler can cost.
      reconcile: 1,
    };

    const make = (name: FunctionName) =>
      new BridgeFunction(this, pascal(name), {
        name,
        functionsDir: functionsDir ?? FUNCTIONS_DIR,
        projectRoot: PROJECT_ROOT,
        memorySize: FUNCTION_SETTINGS[name].memorySize,
        timeout: Duration.seconds(FUNCTION_SETTINGS[name].timeoutSeconds),
        description: `Support Bridge (${brand.brand}): ${FUNCTION_SETTINGS[name].description}`,
        environment: {
          ...common,
          ...(FUNCTION_SECRETS[name].length > 0 ? { SECRET_ARN: this.secret.secretArn } : {}),
          ...environment[name],
        },
        logRetention: brand.logRetentionDays,
        reservedConcurrentExecutions: reserved[name],
      });
    this.functions = Object.fromEntries(FUNCTION_NAMES.map((name) => [name, make(name)])) as Record<
      FunctionName,
      BridgeFunction
    >;
    const fn = (name: FunctionName) => this.functions[name].fn;

    // Each function reads only the secret values it needs (FUNCTION_SECRETS); IAM cannot grant part of one secret,
    // so the grant is all or nothing: a function that needs none would get no access and no SECRET_ARN (today
    // every one reads some).
    for (const name of FUNCTION_NAMES) {
      if (FUNCTION_SECRETS[name].length > 0) this.secret.grantRead(fn(name));
    }

    // Least privilege, per function (the event sources below add what consuming a queue or the stream needs).
    inbound.queue.grantSendMessages(fn('x-webhook'));
    this.tickets.grantReadWrite(fn('ingest'));
    this.tickets.grantRead(fn('notify'));
    notifyRetry.queue.grantSendMessages(fn('notify'));
    this.tickets.grantReadWrite(fn('helpdesk-api'));
    reply.queue.grantSendMessages(fn('helpdesk-api'));
    this.tickets.grantReadWrite(fn('reply'));
    // The reconciler reads tickets (byStatus, a ticket's messages, X ids) and writes only its own lease and cursors
    // (shared/aws/dynamo-reconcile-store.ts) and the brand's daily read counters (shared/aws/dynamo-x-cache.ts).
    this.tickets.grantRead(fn('reconcile'));
    this.tickets.grantWriteToPartitions(fn('reconcile'), [`RECONCILE#${brand.brand}`, `XREADS#${brand.brand}#*`]);
    inbound.queue.grantSendMessages(fn('reconcile'));
    // DM media copies: ingest writes them and deletes them on redaction; notify and the API sign links to them.
    this.attachments.grantPutDelete(fn('ingest'));
    this.attachments.grantRead(fn('notify'));
    this.attachments.grantRead(fn('helpdesk-api'));

    fn('ingest').addEventSource(sqsSource(inbound.queue, inbound.spec, fn('ingest'), INGEST_MAX_CONCURRENCY));
    fn('reply').addEventSource(
      // As many pollers as reserved concurrency: more would only be throttled, and throttled receives count
      // towards the queue's maxReceiveCount.
      sqsSource(reply.queue, reply.spec, fn('reply'), brand.reservedConcurrency.reply),
    );
    fn('notify').addEventSource(
      // One slot of notify's reservation stays free for the stream's shard pollers.
      sqsSource(notifyRetry.queue, notifyRetry.spec, fn('notify'), Math.max(2, brand.reservedConcurrency.notify - 1)),
    );
    fn('notify').addEventSource(
      new DynamoEventSource(this.tickets.table, {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: TICKET_STREAM.batchSize,
        maxBatchingWindow: Duration.seconds(TICKET_STREAM.maxBatchingWindowSeconds),
        bisectBatchOnError: true,
        // notify itself moves a failed delivery to the retry queue; these retries only cover crashes before that.
        retryAttempts: 10,
        reportBatchItemFailures: true,
        onFailure: new SqsDlq(this.queues.streamFailures),
        // Only ticket items and the channel's health make helpdesk events (shared/aws/items.ts, isNotifyItem);
        // messages and replies change their ticket too, so nothing is lost.
        filters: [
          lambda.FilterCriteria.filter({
            eventName: lambda.FilterRule.or('INSERT', 'MODIFY'),
            dynamodb: {
              NewImage: {
                pk: { S: lambda.FilterRule.beginsWith('CUST#') },
                sk: { S: lambda.FilterRule.beginsWith('TICKET#') },
              },
            },
          }),
          lambda.FilterCriteria.filter({
            eventName: lambda.FilterRule.or('INSERT', 'MODIFY'),
            dynamodb: { NewImage: { pk: { S: lambda.FilterRule.beginsWith('CHANNEL#') }, sk: { S: ['CHANNEL'] } } },
          }),
        ],
      }),
    );
    // The DynamoDB event source grants dynamodb:ListStreams on "*": Lambda's stream poller needs it, and IAM has
    // no resource-level permission for that list action. Every other stream action is on this table's stream ARN.
    Validations.of(this.functions.notify.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Only dynamodb:ListStreams, added by the DynamoDB event source: IAM supports no resource scoping for it, ' +
        'it reveals stream ARNs only, and the read actions (GetRecords, GetShardIterator, DescribeStream) are ' +
        'scoped to this table\'s stream. Tests assert no other statement has a "*" resource.',
    });

    // The reconciler's tick. Scheduler invokes asynchronously: a tick that cannot run (reconciliation's one slot
    // is busy, or the run failed) is dropped once the next tick is due, since the next run does the same work from
    // the stored cursors; retrying would only queue runs behind each other.
    const reconcileEvery = brand.xReconcileIntervalSeconds;
    if (reconcileEvery > 0) {
      fn('reconcile').configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.seconds(reconcileEvery) });
      // Its own role, allowed to invoke the reconciler only: the target's default role would also be granted every
      // version and alias of it (`<arn>:*`), which nothing here publishes.
      const scheduleRole = new iam.Role(this, 'ReconcileScheduleRole', {
        assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
          conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
        }),
        description: `Support Bridge (${brand.brand}): EventBridge Scheduler invokes the reconcile function`,
      });
      scheduleRole.addToPolicy(
        new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [fn('reconcile').functionArn] }),
      );
      new scheduler.Schedule(this, 'ReconcileSchedule', {
        scheduleName: `${namePrefix}-reconcile`,
        description: `Support Bridge (${brand.brand}): reconciliation with X every ${reconcileEvery} s`,
        schedule: scheduler.ScheduleExpression.rate(Duration.seconds(reconcileEvery)),
        target: new LambdaInvoke(fn('reconcile'), {
          role: scheduleRole.withoutPolicyUpdates(),
          retryAttempts: 0,
          maxEventAge: Duration.seconds(60),
        }),
      });
    }

    this.httpApi = new BridgeHttpApi(this, 'Http', {
      brand: brand.brand,
      xWebhook: fn('x-webhook'),
      helpdeskApi: fn('helpdesk-api'),
      throttling: brand.apiThrottling,
      logRetention: brand.logRetentionDays,
    });

    this.monitoring = new BridgeMonitoring(this, 'Monitoring', {
      brand: brand.brand,
      alarmEmail: brand.alarmEmail,
      silentChannelHours: brand.silentChannelHours,
      functions: Object.fromEntries(FUNCTION_NAMES.map((name) => [name, fn(name)])) as Record<
        FunctionName,
        lambda.Function
      >,
      deadLetterQueues: this.queues.deadLetterQueues(),
      workQueues: { inbound: inbound.queue, 'notify-retry': notifyRetry.queue, reply: reply.queue },
      api: this.httpApi.api,
    });

    new CfnOutput(this, 'SecretName', {
      value: secretName(brand.brand),
      description: `Fill this secret (JSON keys: ${SECRET_KEYS.join(', ')})`,
    });
    new CfnOutput(this, 'TableName', { value: tableName });
    new CfnOutput(this, 'AttachmentsBucketName', { value: attachmentsBucket, description: 'DM media copies (expire after 90 days)' });
    for (const [label, queue] of Object.entries(this.queues.deadLetterQueues())) {
      new CfnOutput(this, `DeadLetterQueue${pascal(label)}`, {
        value: queue.queueName,
        description: `Dead-letter queue: ${label}`,
      });
    }
  }
}

/** An SQS event source per the queue's spec, always with partial batch failures. */
function sqsSource(queue: sqs.IQueue, spec: QueueSpec, consumer: lambda.Function, maxConcurrency?: number) {
  const timeout = consumer.timeout?.toSeconds() ?? 3;
  // Lambda refuses the mapping when a message could become visible again while its invocation still runs.
  if (spec.visibilityTimeoutSeconds < timeout) {
    throw new Error(
      `queue ${spec.suffix}: visibility timeout ${spec.visibilityTimeoutSeconds}s < function timeout ${timeout}s`,
    );
  }
  return new SqsEventSource(queue, {
    batchSize: spec.batchSize,
    maxBatchingWindow: spec.maxBatchingWindowSeconds > 0 ? Duration.seconds(spec.maxBatchingWindowSeconds) : undefined,
    reportBatchItemFailures: true,
    maxConcurrency,
  });
}

function pascal(name: string): string {
  return name
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}
