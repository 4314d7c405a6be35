// The local runner's composition: the same handler functions Lambda runs, wired to DynamoDB Local, the SQS
// emulator and a loopback HTTP API the way the CDK stack wires them on AWS (shared/aws/resources.ts). This file is
// only wiring; the functions are handed in as factories so the runner does not depend on their modules.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
  type Message as SqsMessage,
} from '@aws-sdk/client-sqs';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { createHelpdeskApiHandler } from '../../functions/helpdesk-api/handler';
import type { createIngestHandler } from '../../functions/ingest/handler';
import type { createNotifyHandler } from '../../functions/notify/handler';
import type { createReconcileHandler } from '../../functions/reconcile/handler';
import type { createReplyHandler } from '../../functions/reply/handler';
import type { createWebhookHandler } from '../../functions/x-webhook/handler';
import { createAwsClients, type AwsClients } from '../../shared/aws/clients';
import { isNotifyItem } from '../../shared/aws/items';
import { QUEUES, TICKET_STREAM, type QueueName, type QueueSpec } from '../../shared/aws/resources';
import { parseConfig, type Config } from '../../shared/config';
import type { AttachmentStore } from '../../shared/attachments/attachment-store';
import type { ReconcileReport } from '../../shared/x/reconcile';
import { CONSOLE_HELPDESK_URL, createLocalConsole, type LocalConsole } from './console/server';
import { attachmentsDir, fileAttachmentStore, LOCAL_ATTACHMENTS_PATH, type FileAttachmentStore } from './file-attachment-store';
import { startHttpServer, type HttpHandler, type HttpRoute, type HttpServer } from './http-server';
import {
  journalIdOf,
  journalSends,
  messageAttributesFor,
  openQueueJournal,
  remainingDelaySeconds,
  type JournalEntry,
  type QueueJournal,
} from './queue-journal';
import {
  LOCAL_AWS,
  LocalServiceError,
  assertPortFree,
  ensureResources,
  startDynamoDbLocal,
  startSqsEmulator,
  type LocalResources,
  type LocalService,
} from './services';
import { startSqsEventSource, type SqsEventSource, type SqsHandler } from './sqs-event-source';
import { startStreamEventSource, type StreamEventSource } from './stream-event-source';

type Env = Record<string, string | undefined>;

/** The notify function: one handler for both of its event sources, the table stream and the notify-retry queue. */
export type NotifyHandler = (
  event: DynamoDBStreamEvent | SQSEvent,
) => Promise<DynamoDBBatchResponse | SQSBatchResponse | void | undefined>;

type Factory<H> = (config: Config, clients?: AwsClients) => H;
/** A function that reaches stored attachments: the runner hands it the local store, as the stack names the bucket. */
type AttachmentsFactory<H> = (config: Config, clients?: AwsClients, options?: { attachments?: AttachmentStore }) => H;

/** The functions to wire, as the factories each function module exports. A missing one is skipped with a warning. */
export type HandlerFactories = {
  webhook?: Factory<HttpHandler>;
  helpdeskApi?: AttachmentsFactory<HttpHandler>;
  ingest?: AttachmentsFactory<SqsHandler>;
  /** `fetch` is the console's when it runs: it records each delivery attempt (console/server.ts). */
  notify?: (config: Config, clients?: AwsClients, options?: { attachments?: AttachmentStore; fetch?: typeof globalThis.fetch }) => NotifyHandler;
  reply?: Factory<SqsHandler>;
  /** Undefined from the factory when the bot's access token is not configured: then nothing is reconciled. */
  reconcile?: Factory<ReconcileRun | undefined>;
};

/** One reconciliation run (functions/reconcile), as EventBridge Scheduler's tick runs it on AWS. */
export type ReconcileRun = () => Promise<ReconcileReport>;

/** Whether the runner reconciles on a timer, as the stack's schedule does, and if not, why. */
export type ReconciliationStatus = { every: number } | { off: string };

/**
 * Dev values for what CONTRACT §1 says has a local default. They are not secret: they are printed at start and
 * committed here, so a developer can sign test webhooks and call the helpdesk API.
 */
export const DEV_DEFAULTS = {
  BRAND: 'demo',
  X_API_KEY: 'dev-x-api-key',
  X_API_SECRET: 'dev-x-api-secret',
  // `whsec_` + base64 of a fixed 32-byte dev string, as the Standard Webhooks spec expects.
  HELPDESK_WEBHOOK_SECRET: `whsec_${Buffer.from('support-bridge-local-dev-secret!').toString('base64')}`,
  HELPDESK_API_TOKEN: 'dev-helpdesk-token-change-me',
  X_BOT_USER_ID: '1602999888777666555',
  X_BOT_USERNAME: 'AcmeSupport',
  // A reply's attachment may come from an image server on this machine (the stack never sets it: shared/replies/reply-media.ts).
  X_REPLY_MEDIA_ALLOW_LOOPBACK: 'true',
} as const;

/** The subset of DEV_DEFAULTS that are secrets on AWS: a person must be warned when these dev values are in use. */
export const DEV_SECRET_NAMES = ['X_API_KEY', 'X_API_SECRET', 'HELPDESK_WEBHOOK_SECRET', 'HELPDESK_API_TOKEN'] as const;

/** `env` with DEV_DEFAULTS filled in where a variable is unset or blank, and the names that were filled. */
export function withDevDefaults(env: Env): { env: Env; defaulted: (keyof typeof DEV_DEFAULTS)[] } {
  const filled: Env = { ...env };
  const defaulted: (keyof typeof DEV_DEFAULTS)[] = [];
  for (const [name, value] of Object.entries(DEV_DEFAULTS) as [keyof typeof DEV_DEFAULTS, string][]) {
    if (filled[name] === undefined || filled[name] === '') {
      filled[name] = value;
      defaulted.push(name);
    }
  }
  return { env: filled, defaulted };
}

/**
 * The routes the stack's HTTP API declares (infra/constructs/bridge-http-api.ts), with the same answer for anything
 * else: API Gateway's 404, no function called.
 */
export const HTTP_ROUTES: HttpRoute[] = [
  { routeKey: 'GET /x/webhook', target: 'webhook' },
  { routeKey: 'POST /x/webhook', target: 'webhook' },
  { routeKey: 'GET /healthz', target: 'helpdeskApi' },
  { routeKey: 'GET /tickets', target: 'helpdeskApi' },
  { routeKey: 'GET /tickets/{ticketId}', target: 'helpdeskApi' },
  { routeKey: 'PATCH /tickets/{ticketId}', target: 'helpdeskApi' },
  { routeKey: 'GET /tickets/{ticketId}/attachments/{attachmentId}', target: 'helpdeskApi' },
  { routeKey: 'POST /tickets/{ticketId}/replies', target: 'helpdeskApi' },
];

export type LocalBridgeOptions = {
  /** HTTP port on 127.0.0.1; 0 (the default) picks a free one. */
  port?: number;
  /**
   * Where DynamoDB data (`dynamodb/`), the stream checkpoint (`checkpoints/`) and the queue journal (`queues/`) live
   * between runs.
   */
  dataDir?: string;
  /** Keep nothing on disk (the default when no dataDir is given). */
  inMemory?: boolean;
  /** Run our own DynamoDB Local in its own process group (see startDynamoDbLocal); for `npm start`, which handles signals. */
  detachDynamoDb?: boolean;
  /** Reuse running emulators (a test run's shared ones) instead of starting our own; they are not stopped by stop(). */
  emulators?: { dynamodbEndpoint: string; sqsEndpoint: string };
  /** Names the table `<prefix>-tickets` and the queues `<prefix>-<suffix>`. Default `support-bridge-<brand>`. */
  prefix?: string;
  /** The environment (CONTRACT §1); unset dev values get DEV_DEFAULTS, resource names come from what is created. */
  env?: Env;
  handlers: HandlerFactories;
  /** Stream poll interval on an idle shard. Default 100 ms. */
  pollIntervalMs?: number;
  /** Concurrent pollers per queue. Default 2. */
  sqsConcurrency?: number;
  /** Per-queue overrides (tests shorten visibility timeouts and receive counts). */
  queueSpecs?: Partial<Record<QueueName, Partial<QueueSpec>>>;
  /** Stream retry policy for failing batches. */
  streamRetry?: { maxRetries?: number; baseDelayMs?: number; maxDelayMs?: number };
  log?: (message: string, error?: unknown) => void;
  /**
   * Serve the local console at /console (`npm start` only; never in the stack): its page, login link and event feed.
   * Without HELPDESK_WEBHOOK_URL, events then go to the console's own helpdesk instead of being only printed.
   */
  console?: boolean | { print?: (text: string) => void };
};

/** SDK calls made by the functions' clients, by command, with DynamoDB's consumed capacity. */
export type RequestCounts = {
  dynamodb: Record<string, { calls: number; errors: number; capacityUnits: number }>;
  sqs: Record<string, { calls: number; errors: number }>;
  /** Sum of ConsumedCapacity.CapacityUnits over every DynamoDB call. */
  dynamodbCapacityUnits: number;
  /** Requests the event sources made (ReceiveMessage, DeleteMessageBatch, GetRecords, ...), by source. */
  eventSources: Record<string, Record<string, number>>;
};

/** What was still on the queues when the bridge went idle: messages waiting out a visibility timeout or delay. */
export type IdleReport = {
  queues: Record<QueueName, { visible: number; notVisible: number; delayed: number; deadLetters: number }>;
};

export type LocalBridge = {
  url: string;
  port: number;
  config: Config;
  /** The complete environment the config was parsed from. */
  env: Env;
  /** The functions' AWS clients (counted). */
  clients: AwsClients;
  resources: LocalResources;
  endpoints: { dynamodb: string; sqs: string };
  /**
   * The table stream's on-failure destination, `<prefix>-notify-stream-failures` as on AWS: where a stream batch
   * notify failed on after its retries is recorded (`npm run dlq -- redrive notify-stream-failures` rebuilds its
   * events). Not journaled: like every queue of the emulator it lives in memory only.
   */
  streamFailuresQueue: { name: string; url: string };
  /**
   * DM media copies: files under `<DATA_DIR>/attachments` (a temporary folder in memory mode, removed by stop()),
   * served by this runner at LOCAL_ATTACHMENTS_PATH through signed links, as S3 serves presigned links on AWS.
   */
  attachments: FileAttachmentStore;
  /**
   * With a data dir: the journal that makes the in-memory queues durable (infra/local/queue-journal.ts), and how many
   * messages this start sent again because an earlier run had not finished them.
   */
  queueJournal?: { file: string; requeued: number };
  /** The reconciler's timer: every X_RECONCILE_INTERVAL_SECONDS, or off and why. */
  reconciliation: ReconciliationStatus;
  /** The local console, when asked for (options.console). */
  console?: LocalConsole;
  /**
   * Runs reconciliation once, after any run in progress (runs never overlap, timer or not), whatever the interval;
   * undefined when the reconcile function is not wired or has no X access token.
   */
  reconcileOnce(): Promise<ReconcileReport | undefined>;
  eventSources: {
    ingest?: SqsEventSource;
    notifyRetry?: SqsEventSource;
    reply?: SqsEventSource;
    notifyStream?: StreamEventSource;
  };
  requestCounts(): RequestCounts;
  resetRequestCounts(): void;
  /**
   * Resolves when every wired queue has no visible message, no batch is in flight and the stream is read to its
   * end, twice in a row. Messages waiting out a visibility timeout or a delay are reported, not waited for, unless
   * `untilEmpty` (then the wired queues must hold nothing at all: mind their visibility timeouts and delays).
   */
  waitForIdle(options?: { timeoutMs?: number; untilEmpty?: boolean }): Promise<IdleReport>;
  /** The same as waitForIdle. */
  drain(options?: { timeoutMs?: number; untilEmpty?: boolean }): Promise<IdleReport>;
  /** Stops HTTP, then the event sources (waiting for in-flight batches), then our own emulators. Idempotent. */
  stop(): Promise<void>;
};

// Commands whose consumed capacity DynamoDB reports when asked (ReturnConsumedCapacity).
const CAPACITY_COMMANDS = new Set([
  'GetItemCommand',
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'QueryCommand',
  'ScanCommand',
  'BatchGetItemCommand',
  'BatchWriteItemCommand',
  'TransactGetItemsCommand',
  'TransactWriteItemsCommand',
]);

type Counter = { calls: number; errors: number; capacityUnits: number };

function capacityOf(output: unknown): number {
  const consumed = (output as { ConsumedCapacity?: unknown } | undefined)?.ConsumedCapacity;
  const list = Array.isArray(consumed) ? consumed : consumed ? [consumed] : [];
  return list.reduce((sum: number, c: { CapacityUnits?: number }) => sum + (c.CapacityUnits ?? 0), 0);
}

/**
 * Counts every command a client sends. On DynamoDB it also asks for ConsumedCapacity (TOTAL) when the caller did
 * not, so benchmarks see the capacity a workload would be billed for; the functions ignore the extra output field.
 */
function countRequests(client: DynamoDBClient | SQSClient, counters: Map<string, Counter>, askCapacity: boolean): void {
  (client as DynamoDBClient).middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName ?? 'UnknownCommand';
      const counter = counters.get(name) ?? { calls: 0, errors: 0, capacityUnits: 0 };
      counters.set(name, counter);
      counter.calls++;
      const input = args.input as Record<string, unknown>;
      const withCapacity =
        askCapacity && CAPACITY_COMMANDS.has(name) && input.ReturnConsumedCapacity === undefined
          ? { ...args, input: { ...input, ReturnConsumedCapacity: 'TOTAL' } }
          : args;
      try {
        const result = await next(withCapacity);
        counter.capacityUnits += capacityOf(result.output);
        return result;
      } catch (error) {
        counter.errors++;
        throw error;
      }
    },
    { step: 'initialize', name: 'localRequestCounter', override: true },
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A ticket's or the channel's stream record: the notify function's event-source filter, as the stack declares it. */
export function isNotifyRecord(record: DynamoDBRecord): boolean {
  const image = record.dynamodb?.NewImage;
  return image !== undefined && isNotifyItem({ pk: image.pk?.S, sk: image.sk?.S });
}

// Dead letters wait for a person: kept as long as SQS allows (14 days), as the stack keeps them.
const STREAM_FAILURES_RETENTION_SECONDS = String(14 * 24 * 60 * 60);

/**
 * Creates (or reuses) `<prefix>-notify-stream-failures`, the queue the stack names the table stream's on-failure
 * destination (infra/constructs/work-queues.ts), so the DLQ CLI finds it under the same name locally.
 */
export async function ensureStreamFailuresQueue(sqs: SQSClient, prefix: string): Promise<{ name: string; url: string }> {
  const name = `${prefix}-notify-stream-failures`;
  const { QueueUrl } = await sqs.send(
    new CreateQueueCommand({ QueueName: name, Attributes: { MessageRetentionPeriod: STREAM_FAILURES_RETENTION_SECONDS } }),
  );
  if (!QueueUrl) throw new LocalServiceError(`the SQS emulator gave no URL for ${name}`);
  return { name, url: QueueUrl };
}

/** Starts the bridge: emulators (or the given ones), table and queues, event sources, HTTP. */
export async function startLocalBridge(options: LocalBridgeOptions): Promise<LocalBridge> {
  const log = options.log ?? ((message: string, error?: unknown) => console.error(message, error ?? ''));
  const { env: baseEnv } = withDevDefaults(options.env ?? {});
  // Fail on bad configuration before spending seconds starting java.
  const preliminary = parseConfig(baseEnv);
  const prefix = options.prefix ?? `support-bridge-${preliminary.brand}`;
  const inMemory = options.inMemory ?? !options.dataDir;
  const dataDir = options.dataDir ? resolve(options.dataDir) : undefined;
  const pollIntervalMs = options.pollIntervalMs ?? 100;
  // A taken port is found out now, not after seconds of starting java.
  if (options.port) await assertPortFree(options.port, 'PORT');

  const owned: LocalService[] = [];
  const cleanup: (() => Promise<void> | void)[] = [];
  const stopAll = async () => {
    for (const step of cleanup.reverse()) await step();
    await Promise.all(owned.map((s) => s.stop()));
  };

  try {
    let endpoints: { dynamodb: string; sqs: string };
    if (options.emulators) {
      endpoints = { dynamodb: options.emulators.dynamodbEndpoint, sqs: options.emulators.sqsEndpoint };
    } else {
      const [dynamo, sqs] = await Promise.allSettled([
        startDynamoDbLocal({
          dataDir: inMemory || !dataDir ? undefined : join(dataDir, 'dynamodb'),
          detached: options.detachDynamoDb,
        }),
        startSqsEmulator(),
      ]);
      for (const started of [dynamo, sqs]) if (started.status === 'fulfilled') owned.push(started.value);
      if (dynamo.status === 'rejected') throw dynamo.reason;
      if (sqs.status === 'rejected') throw sqs.reason;
      endpoints = { dynamodb: dynamo.value.endpoint, sqs: sqs.value.endpoint };
    }

    // Clients of the runner itself (resources, pollers, idle checks): not counted as the functions' requests.
    const admin = {
      dynamodb: new DynamoDBClient({ endpoint: endpoints.dynamodb, ...LOCAL_AWS }),
      sqs: new SQSClient({ endpoint: endpoints.sqs, ...LOCAL_AWS }),
      streams: new DynamoDBStreamsClient({ endpoint: endpoints.dynamodb, ...LOCAL_AWS }),
    };
    cleanup.push(() => Object.values(admin).forEach((c) => c.destroy()));

    const resources = await ensureResources(admin, {
      tableName: `${prefix}-tickets`,
      queuePrefix: prefix,
      queueSpecs: options.queueSpecs,
    });
    const streamFailuresQueue = await ensureStreamFailuresQueue(admin.sqs, prefix);

    // The emulator forgets its queues when the runner stops or dies; the journal remembers every message until it
    // was processed, and this start sends again what the last run left unfinished.
    let journal: QueueJournal | undefined;
    let requeued = 0;
    if (!inMemory && dataDir) {
      journal = await openQueueJournal(join(dataDir, 'queues', `${prefix}.jsonl`), { log });
      const opened = journal;
      cleanup.push(() => opened.close());
      requeued = await resendUnfinished(admin.sqs, opened.pending(), resources);
    }

    const env: Env = {
      ...baseEnv,
      TABLE_NAME: resources.tableName,
      INBOUND_QUEUE_URL: resources.queues.inbound.url,
      REPLY_QUEUE_URL: resources.queues.reply.url,
      NOTIFY_RETRY_QUEUE_URL: resources.queues.notifyRetry.url,
      DYNAMODB_ENDPOINT: endpoints.dynamodb,
      SQS_ENDPOINT: endpoints.sqs,
      ...(options.console && !baseEnv.HELPDESK_WEBHOOK_URL ? { HELPDESK_WEBHOOK_URL: CONSOLE_HELPDESK_URL } : {}),
    };
    const config = parseConfig(env);
    const clients = createAwsClients(config);
    cleanup.push(() => {
      clients.dynamodb.destroy();
      clients.sqs.destroy();
    });
    const dynamoCounters = new Map<string, Counter>();
    const sqsCounters = new Map<string, Counter>();
    countRequests(clients.dynamodb, dynamoCounters, true);
    countRequests(clients.sqs, sqsCounters, false);
    if (journal) {
      const queueNames = new Map((Object.keys(QUEUES) as QueueName[]).map((name) => [resources.queues[name].url, name] as const));
      journalSends(clients.sqs, journal, queueNames);
    }

    const attachmentsFolder = inMemory || !dataDir ? await mkdtemp(join(tmpdir(), 'support-bridge-attachments-')) : attachmentsDir(dataDir);
    if (inMemory || !dataDir) cleanup.push(() => rm(attachmentsFolder, { recursive: true, force: true }));
    let httpUrl = '';
    const attachments = fileAttachmentStore({ dir: attachmentsFolder, baseUrl: () => httpUrl });
    const withAttachments = <H>(factory: AttachmentsFactory<H> | undefined): Factory<H> | undefined =>
      factory && ((c, k) => factory(c, k, { attachments }));

    // One instance per function, shared by its event sources, as one Lambda function serves all its triggers.
    const build = <H>(name: string, factory: Factory<H> | undefined, consequence: string): H | undefined => {
      if (factory) return factory(config, clients);
      log(`WARNING: the ${name} function is not wired locally: ${consequence}`);
      return undefined;
    };
    const webhook = build('x-webhook', options.handlers.webhook, 'POST /x/webhook answers 503');
    const helpdeskApi = build('helpdesk-api', withAttachments(options.handlers.helpdeskApi), 'the helpdesk API answers 503');
    const ingest = build('ingest', withAttachments(options.handlers.ingest), 'X events stay on the inbound queue');
    const localConsole = options.console
      ? createLocalConsole({
          brand: config.brand,
          bot: { id: config.x.botUserId, username: config.x.botUsername },
          apiToken: config.helpdesk.apiToken,
          webhookSecrets: [config.helpdesk.webhookSecret],
          xApiSecret: config.x.apiSecret,
          baseUrl: () => httpUrl,
          sqs: admin.sqs,
          ...(typeof options.console === 'object' && options.console.print ? { print: options.console.print } : {}),
        })
      : undefined;
    const notifyFactory = options.handlers.notify;
    const notify = build(
      'notify',
      notifyFactory && ((c: Config, k?: AwsClients) => notifyFactory(c, k, { attachments, ...(localConsole ? { fetch: localConsole.fetch } : {}) })),
      'no ticket events reach the helpdesk',
    );
    const reply = build('reply', options.handlers.reply, 'replies stay queued');
    const reconcile = build('reconcile', options.handlers.reconcile, 'nothing the webhook missed is read from X');
    const reconciler = startReconcileTimer(reconcile, {
      intervalSeconds: config.x.reconcileIntervalSeconds,
      // The factory answers undefined without the bot's token: reading X needs the account's user context.
      offWithoutRun: options.handlers.reconcile ? 'X_ACCESS_TOKEN is not set' : 'the reconcile function is not wired',
      log,
    });

    const sqsSource = (name: string, queue: QueueName, handler: SqsHandler) => {
      const q = resources.queues[queue];
      const source = startSqsEventSource({
        name,
        sqs: admin.sqs,
        queueUrl: q.url,
        queueArn: q.arn,
        handler,
        batchSize: q.spec.batchSize,
        concurrency: options.sqsConcurrency ?? 2,
        timeoutSeconds: q.spec.consumerTimeoutSeconds,
        awsRegion: LOCAL_AWS.region,
        log,
        ...(journal ? journalHooks(journal, q.spec.maxReceiveCount) : {}),
      });
      cleanup.push(() => source.stop());
      return source;
    };
    const eventSources: LocalBridge['eventSources'] = {};
    if (ingest) eventSources.ingest = sqsSource('ingest', 'inbound', ingest);
    if (notify) {
      eventSources.notifyRetry = sqsSource('notify-retry', 'notifyRetry', notify);
      const checkpointFile = inMemory || !dataDir ? undefined : join(dataDir, 'checkpoints', `${resources.tableName}.stream.json`);
      if (checkpointFile) await mkdir(join(dataDir ?? '', 'checkpoints'), { recursive: true });
      const stream = await startStreamEventSource({
        name: 'notify-stream',
        streams: admin.streams,
        streamArn: resources.streamArn,
        handler: notify,
        filter: isNotifyRecord,
        batchSize: TICKET_STREAM.batchSize,
        pollIntervalMs,
        checkpointFile,
        maxRetries: options.streamRetry?.maxRetries,
        retryBaseDelayMs: options.streamRetry?.baseDelayMs,
        retryMaxDelayMs: options.streamRetry?.maxDelayMs,
        // As the stack's SqsDlq on-failure destination: Lambda's record of the batch, not its records.
        onFailure: async (failure) => {
          await admin.sqs.send(new SendMessageCommand({ QueueUrl: streamFailuresQueue.url, MessageBody: JSON.stringify(failure) }));
        },
        timeoutSeconds: TICKET_STREAM.consumerTimeoutSeconds,
        awsRegion: LOCAL_AWS.region,
        log,
      });
      cleanup.push(() => stream.stop());
      eventSources.notifyStream = stream;
    }
    if (reply) eventSources.reply = sqsSource('reply', 'reply', reply);

    let http: HttpServer;
    try {
      http = await startHttpServer({
        port: options.port ?? 0,
        handlers: { webhook, helpdeskApi },
        routes: HTTP_ROUTES,
        localRoutes: [
          { pathPrefix: LOCAL_ATTACHMENTS_PATH, handle: (req, res) => attachments.serve(req, res) },
          ...(localConsole ? [localConsole.route] : []),
        ],
        log,
      });
      httpUrl = http.url;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw code === 'EADDRINUSE' || code === 'EACCES'
        ? new LocalServiceError(`port ${options.port} (PORT) is not available: ${code}`)
        : error;
    }
    // HTTP stops first, so nothing new enters while the event sources finish their batches.
    cleanup.push(() => http.stop());
    // Before HTTP: an open event feed is a request that never ends.
    if (localConsole) cleanup.push(() => localConsole.stop());
    // Before HTTP even: no new run starts, and the one in progress finishes its page while the queues are there.
    cleanup.push(() => reconciler.stop());

    const wiredQueues: [QueueName, SqsEventSource | undefined][] = [
      ['inbound', eventSources.ingest],
      ['notifyRetry', eventSources.notifyRetry],
      ['reply', eventSources.reply],
    ];

    async function queueReport(): Promise<IdleReport> {
      const read = async (url: string) =>
        (
          await admin.sqs.send(
            new GetQueueAttributesCommand({
              QueueUrl: url,
              AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
            }),
          )
        ).Attributes ?? {};
      const entries = await Promise.all(
        (Object.keys(QUEUES) as QueueName[]).map(async (name) => {
          const [main, dlq] = await Promise.all([read(resources.queues[name].url), read(resources.queues[name].dlq.url)]);
          const n = (v: string | undefined) => Number(v ?? 0);
          return [
            name,
            {
              visible: n(main.ApproximateNumberOfMessages),
              notVisible: n(main.ApproximateNumberOfMessagesNotVisible),
              delayed: n(main.ApproximateNumberOfMessagesDelayed),
              deadLetters: n(dlq.ApproximateNumberOfMessages) + n(dlq.ApproximateNumberOfMessagesNotVisible),
            },
          ] as const;
        }),
      );
      return { queues: Object.fromEntries(entries) as IdleReport['queues'] };
    }

    const busy = () =>
      wiredQueues.some(([, source]) => (source?.inFlight ?? 0) > 0) || (eventSources.notifyStream?.inFlight ?? 0) > 0;

    async function waitForIdle({ timeoutMs = 30_000, untilEmpty = false } = {}): Promise<IdleReport> {
      const deadline = Date.now() + timeoutMs;
      let since = Date.now();
      let confirmations = 0;
      for (;;) {
        await sleep(25);
        let state: 'busy' | 'catching-up' | 'pending' | 'quiet' = 'catching-up';
        let report: IdleReport | undefined;
        if (busy()) state = 'busy';
        else if (eventSources.notifyStream?.caughtUpSince(since) ?? true) {
          report = await queueReport();
          const holding = (q: IdleReport['queues'][QueueName]) => q.visible + (untilEmpty ? q.notVisible + q.delayed : 0);
          const visible = wiredQueues.some(([name, source]) => source && report && holding(report.queues[name]) > 0);
          state = busy() ? 'busy' : visible ? 'pending' : 'quiet';
        }
        if (state === 'quiet' && report) {
          // Twice, each with a fresh observation window: a message sent or a record written by a batch that
          // finished just before the first look is seen by the second.
          if (++confirmations >= 2) return report;
          since = Date.now();
        } else if (state !== 'catching-up') {
          confirmations = 0;
          since = Date.now();
        }
        if (Date.now() > deadline) {
          const detail = report ? JSON.stringify(report.queues) : state;
          throw new Error(`the bridge did not become idle within ${timeoutMs} ms (${detail})`);
        }
      }
    }

    let stopped: Promise<void> | undefined;
    return {
      url: http.url,
      port: http.port,
      config,
      env,
      clients,
      resources,
      endpoints,
      streamFailuresQueue,
      attachments,
      ...(journal ? { queueJournal: { file: journal.file, requeued } } : {}),
      reconciliation: reconciler.status,
      ...(localConsole ? { console: localConsole } : {}),
      reconcileOnce: () => reconciler.runOnce(),
      eventSources,
      requestCounts() {
        const snapshot = (counters: Map<string, Counter>) =>
          Object.fromEntries([...counters].map(([name, c]) => [name.replace(/Command$/, ''), { ...c }]));
        const sources: Record<string, Record<string, number>> = {};
        for (const source of [eventSources.ingest, eventSources.notifyRetry, eventSources.reply, eventSources.notifyStream]) {
          if (source) sources[source.name] = source.stats().requests;
        }
        return {
          dynamodb: snapshot(dynamoCounters),
          sqs: Object.fromEntries(
            [...sqsCounters].map(([name, c]) => [name.replace(/Command$/, ''), { calls: c.calls, errors: c.errors }]),
          ),
          dynamodbCapacityUnits: [...dynamoCounters.values()].reduce((sum, c) => sum + c.capacityUnits, 0),
          eventSources: sources,
        };
      },
      resetRequestCounts() {
        dynamoCounters.clear();
        sqsCounters.clear();
      },
      waitForIdle,
      drain: waitForIdle,
      stop() {
        stopped ??= stopAll();
        return stopped;
      },
    };

  } catch (error) {
    await stopAll();
    throw error;
  }
}

/**
 * The reconciler's timer: a run every `intervalSeconds`, each started only after the previous one finished (a timer
 * armed when a run ends, never an interval), so runs never overlap, here as the lease and reserved concurrency make
 * sure on AWS. Manual runs queue behind the one in progress. Off without a run function or with an interval of 0.
 */
export function startReconcileTimer(
  run: ReconcileRun | undefined,
  { intervalSeconds, offWithoutRun, log }: { intervalSeconds: number; offWithoutRun: string; log: (message: string, error?: unknown) => void },
): { status: ReconciliationStatus; runOnce(): Promise<ReconcileReport | undefined>; stop(): Promise<void> } {
  let last: Promise<unknown> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const runOnce = (): Promise<ReconcileReport | undefined> => {
    if (!run) return Promise.resolve(undefined);
    if (stopped) return Promise.reject(new Error('the local bridge is stopped: no reconciliation run'));
    const next = last.then(() => run());
    last = next.catch(() => undefined);
    return next;
  };
  const status: ReconciliationStatus = !run
    ? { off: offWithoutRun }
    : intervalSeconds === 0
      ? { off: 'X_RECONCILE_INTERVAL_SECONDS is 0' }
      : { every: intervalSeconds };
  const arm = () => {
    if (stopped || !('every' in status)) return;
    timer = setTimeout(() => {
      timer = undefined;
      runOnce()
        // A run that stops early (budget, X's 429) resolves; one that throws (table or queue unreachable) is logged,
        // and the next tick resumes from the cursors, as the next scheduled invocation does on AWS.
        .catch((error: unknown) => log('reconciliation run failed', error))
        .finally(arm);
    }, status.every * 1000);
  };
  arm();
  return {
    status,
    runOnce,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await last;
    },
  };
}

/**
 * Sends again, with their journal ids, the messages an earlier run journaled and never finished: to their queue, or
 * to its dead-letter queue when SQS was parking them there. Returns how many.
 */
async function resendUnfinished(sqs: SQSClient, pending: JournalEntry[], resources: LocalResources): Promise<number> {
  const known = pending.filter((entry) => Object.hasOwn(resources.queues, entry.queue));
  const now = Date.now();
  const byUrl = new Map<string, JournalEntry[]>();
  for (const entry of known) {
    const queue = resources.queues[entry.queue as QueueName];
    const url = entry.parked ? queue.dlq.url : queue.url;
    byUrl.set(url, [...(byUrl.get(url) ?? []), entry]);
  }
  for (const [url, entries] of byUrl) {
    for (let i = 0; i < entries.length; i += 10) {
      const chunk = entries.slice(i, i + 10);
      const result = await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: url,
          Entries: chunk.map((entry, index) => ({
            Id: String(index),
            MessageBody: entry.body,
            MessageAttributes: messageAttributesFor(entry),
            DelaySeconds: remainingDelaySeconds(entry, now),
          })),
        }),
      );
      if (result.Failed?.length) {
        throw new LocalServiceError(`could not re-queue ${result.Failed.length} journaled messages: ${result.Failed[0]?.Message ?? ''}`);
      }
    }
  }
  return known.length;
}

/** The event-source hooks that keep the journal in step: deleted messages are done, last failures are parked. */
function journalHooks(journal: QueueJournal, maxReceiveCount: number) {
  const ids = (messages: SqsMessage[]) => messages.map(journalIdOf).filter((id): id is string => id !== undefined);
  return {
    onDeleted: (messages: SqsMessage[]) => journal.recordDone(ids(messages)),
    // SQS moves a message to the dead-letter queue at the receive after its maxReceiveCount-th failed one.
    onFailed: (messages: SqsMessage[]) =>
      journal.recordParked(ids(messages.filter((m) => Number(m.Attributes?.ApproximateReceiveCount ?? 0) >= maxReceiveCount))),
  };
}

const FUNCTION_MODULES = {
  webhook: ['../../functions/x-webhook/handler', 'createWebhookHandler'],
  helpdeskApi: ['../../functions/helpdesk-api/handler', 'createHelpdeskApiHandler'],
  ingest: ['../../functions/ingest/handler', 'createIngestHandler'],
  notify: ['../../functions/notify/handler', 'createNotifyHandler'],
  reply: ['../../functions/reply/handler', 'createReplyHandler'],
  reconcile: ['../../functions/reconcile/handler', 'createReconcileHandler'],
} as const satisfies Record<keyof HandlerFactories, readonly [string, string]>;

// Type-only: the real factories must fit the slots they are loaded into (erased at run time, so nothing loads here).
type FitsSlots<T extends Required<HandlerFactories>> = T;
type _RealFactoriesFit = FitsSlots<{
  webhook: typeof createWebhookHandler;
  helpdeskApi: typeof createHelpdeskApiHandler;
  ingest: typeof createIngestHandler;
  notify: typeof createNotifyHandler;
  reply: typeof createReplyHandler;
  reconcile: typeof createReconcileHandler;
}>;

/**
 * The real functions' factories, imported at run time so the runner starts (with a warning per missing function)
 * while a function is still being written. A module that exists but fails to load is an error, not a warning.
 */
export async function loadFunctionHandlers(
  log: (message: string) => void = (m) => console.error(m),
): Promise<HandlerFactories> {
  const factories: HandlerFactories = {};
  for (const [key, [path, exportName]] of Object.entries(FUNCTION_MODULES) as [keyof HandlerFactories, readonly [string, string]][]) {
    let module: Record<string, unknown>;
    try {
      module = (await import(/* @vite-ignore */ path)) as Record<string, unknown>;
    } catch (error) {
      const text = String((error as Error).message ?? error);
      const code = (error as NodeJS.ErrnoException).code;
      const missing =
        (code === 'ERR_MODULE_NOT_FOUND' || /Cannot find module|Failed to load url|does not exist/i.test(text)) &&
        text.includes(path.replace('../../', ''));
      if (!missing) throw error;
      log(`WARNING: ${path.replace('../../', '')}.ts not found: the ${key} function is not wired`);
      continue;
    }
    const factory = module[exportName];
    if (typeof factory !== 'function') throw new Error(`${path.replace('../../', '')}.ts does not export ${exportName}`);
    (factories as Record<string, unknown>)[key] = factory;
  }
  return factories;
}
