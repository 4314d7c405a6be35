// The local stand-in for Lambda's DynamoDB stream event source mapping, read from DynamoDB Local's stream: every
// shard in order (parents before children), filtered like an ESM filter, batches as DynamoDBStreamEvent, partial
// batch failures retried from the first failed record, a batch that exhausts its retries handed to an on-failure
// destination as Lambda's record of it (shard and sequence range, not the records), and a checkpoint per shard so a
// restart resumes where the last run stopped instead of re-sending every ticket event of the last 24 hours.
import { randomUUID } from 'node:crypto';
import { open, readFile, rename } from 'node:fs/promises';
import {
  DescribeStreamCommand,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ResourceNotFoundException,
  TrimmedDataAccessException,
  type AttributeValue as SdkAttributeValue,
  type DynamoDBStreamsClient,
  type _Record as SdkRecord,
  type Shard,
} from '@aws-sdk/client-dynamodb-streams';
import type { AttributeValue, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { TICKET_STREAM } from '../../shared/aws/resources';

/** A Lambda DynamoDB stream handler. `void` means the whole batch succeeded; a throw means it failed. */
export type StreamHandler = (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse | void | undefined>;

export type StreamEventSourceOptions = {
  /** For logs and stats, e.g. `notify`. */
  name: string;
  streams: DynamoDBStreamsClient;
  streamArn: string;
  handler: StreamHandler;
  /** Like an ESM filter: records it rejects are skipped (and checkpointed) without an invocation. */
  filter?: (record: DynamoDBRecord) => boolean;
  batchSize?: number;
  /** Wait between GetRecords calls on a shard that had nothing new. Default 100 ms. */
  pollIntervalMs?: number;
  /** How often DescribeStream looks for new shards. Default 1 s (and at once when a shard closes). */
  discoveryIntervalMs?: number;
  /** Where the checkpoint lives; none = in memory only (tests), and a new source starts at TRIM_HORIZON. */
  checkpointFile?: string;
  /** Retries of a failing batch before it is discarded (Lambda's MaximumRetryAttempts). Default 10, as the stack. */
  maxRetries?: number;
  /**
   * Lambda's on-failure destination: receives the record of a batch discarded after maxRetries, in Lambda's shape.
   * The batch is checkpointed only once this resolves; until then it is tried again (a stop leaves it for the next
   * run). Without it a discarded batch is only logged.
   */
  onFailure?: (failure: StreamBatchFailure) => Promise<void>;
  /** Backoff between retries: base × 2^attempt, capped. Defaults 200 ms and 5 s. */
  retryBaseDelayMs?: number;
  retryMaxDelayMs?: number;
  /** The consumer's timeout: an invocation still running after it counts as failed. */
  timeoutSeconds?: number;
  awsRegion?: string;
  log?: (message: string, error?: unknown) => void;
};

export type StreamEventSourceStats = {
  /** DynamoDB Streams requests made, by action (DescribeStream, GetShardIterator, GetRecords). */
  requests: Record<string, number>;
  records: number;
  filteredOut: number;
  invocations: number;
  delivered: number;
  retries: number;
  /** Records given up on after maxRetries (on AWS they would go to the on-failure destination). */
  discarded: number;
  handlerErrors: number;
  shards: number;
};

/**
 * What Lambda sends to a DynamoDB stream event source's on-failure destination when a batch exhausts its retries:
 * where the batch was in the stream, not its records (those stay in the stream for its 24-hour retention).
 */
export type StreamBatchFailure = {
  requestContext: { requestId: string; functionArn: string; condition: 'RetryAttemptsExhausted'; approximateInvokeCount: number };
  responseContext: { statusCode: number; executedVersion: string; functionError?: string };
  version: '1.0';
  timestamp: string;
  DDBStreamBatchInfo: {
    shardId: string;
    startSequenceNumber: string;
    endSequenceNumber: string;
    approximateArrivalOfFirstRecord?: string;
    approximateArrivalOfLastRecord?: string;
    batchSize: number;
    streamArn: string;
  };
};

/** The durable position of the source: the last sequence number processed per shard, and which shards are done. */
export type StreamCheckpoint = {
  version: 1;
  streamArn: string;
  shards: Record<string, { sequenceNumber?: string; closed?: boolean }>;
};

export type StreamEventSource = {
  readonly name: string;
  /** Invocations running or waiting out a retry backoff. */
  readonly inFlight: number;
  /**
   * True when nothing is in flight and every open shard has answered an empty GetRecords that started at or after
   * `since` (epoch ms): every record written before `since` has been delivered.
   */
  caughtUpSince(since: number): boolean;
  stats(): StreamEventSourceStats;
  checkpoint(): StreamCheckpoint;
  /** Stops polling and resolves once in-flight invocations have settled and the checkpoint is written. Idempotent. */
  stop(): Promise<void>;
};

type ShardState = {
  shard: Shard;
  running: boolean;
  finished: boolean;
  lastEmptyPollStartedAt: number;
};

/** Loads the checkpoint, then starts following the stream. */
export async function startStreamEventSource(options: StreamEventSourceOptions): Promise<StreamEventSource> {
  const log = options.log ?? ((message, error) => console.error(`[${options.name}] ${message}`, error ?? ''));
  const batchSize = options.batchSize ?? TICKET_STREAM.batchSize;
  const pollIntervalMs = options.pollIntervalMs ?? 100;
  const discoveryIntervalMs = options.discoveryIntervalMs ?? 1000;
  const maxRetries = options.maxRetries ?? 10;
  const baseDelay = options.retryBaseDelayMs ?? 200;
  const maxDelay = options.retryMaxDelayMs ?? 5000;
  const timeoutMs = (options.timeoutSeconds ?? TICKET_STREAM.consumerTimeoutSeconds) * 1000;
  const awsRegion = options.awsRegion ?? 'us-east-1';
  const filter = options.filter ?? (() => true);

  const stats: StreamEventSourceStats = {
    requests: {},
    records: 0,
    filteredOut: 0,
    invocations: 0,
    delivered: 0,
    retries: 0,
    discarded: 0,
    handlerErrors: 0,
    shards: 0,
  };
  const count = (action: string) => {
    stats.requests[action] = (stats.requests[action] ?? 0) + 1;
  };

  const checkpoint = await loadCheckpoint(options.checkpointFile, options.streamArn, log);
  const store = checkpointWriter(options.checkpointFile, () => checkpoint, log);
  const shards = new Map<string, ShardState>();
  const workers = new Set<Promise<void>>();
  const abort = new AbortController();
  let stopping = false;
  let inFlight = 0;
  let lastDiscoveryStartedAt = 0;
  let lastShardFinishedAt = 0;
  let wake: (() => void) | undefined;

  /** Sleeps, cut short by stop() (and, for the discovery loop, by a shard closing). */
  const pause = (ms: number, wakeable = false) =>
    new Promise<void>((resolvePause) => {
      if (abort.signal.aborted) return resolvePause();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        abort.signal.removeEventListener('abort', done);
        if (wakeable && wake === done) wake = undefined;
        resolvePause();
      }
      abort.signal.addEventListener('abort', done, { once: true });
      if (wakeable) wake = done;
    });

  const isDone = (shardId: string | undefined) =>
    !shardId || !shards.has(shardId) || shards.get(shardId)?.finished === true;

  async function iteratorFor(shardId: string): Promise<string | undefined> {
    const position = checkpoint.shards[shardId]?.sequenceNumber;
    count('GetShardIterator');
    const result = await options.streams.send(
      new GetShardIteratorCommand({
        StreamArn: options.streamArn,
        ShardId: shardId,
        ...(position
          ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: position }
          : { ShardIteratorType: 'TRIM_HORIZON' }),
      }),
      { abortSignal: abort.signal },
    );
    return result.ShardIterator;
  }

  /** Sets the shard's checkpoint and persists it. */
  function advance(shardId: string, sequenceNumber: string | undefined, closed = false) {
    checkpoint.shards[shardId] = { ...(sequenceNumber ? { sequenceNumber } : {}), ...(closed ? { closed } : {}) };
    return store.write();
  }

  /**
   * One handler call, with Lambda's outcome rules: the index of the first failed record (-1 when none), and
   * `functionError` when the function failed as a whole (threw or timed out) rather than reporting records.
   */
  async function invoke(batch: DynamoDBRecord[]): Promise<{ failedAt: number; functionError?: string }> {
    stats.invocations++;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)));
    try {
      const result = await Promise.race([options.handler({ Records: batch }), timeout]);
      if (result === 'timeout') {
        log(`invocation timed out after ${timeoutMs} ms`);
        return { failedAt: 0, functionError: 'Unhandled' };
      }
      const failures = result?.batchItemFailures ?? [];
      if (failures.length === 0) return { failedAt: -1 };
      const positions = failures.map((f) => batch.findIndex((r) => r.dynamodb?.SequenceNumber === f.itemIdentifier));
      // Lambda: an identifier that names no record of the batch (empty, null, unknown) fails the whole batch.
      if (positions.some((p) => p < 0)) return { failedAt: 0 };
      return { failedAt: Math.min(...positions) };
    } catch (error) {
      stats.handlerErrors++;
      log('invocation failed', error);
      return { failedAt: 0, functionError: 'Unhandled' };
    } finally {
      clearTimeout(timer);
    }
  }

  /** Lambda's record of a discarded batch, for the on-failure destination. */
  function failureRecord(shardId: string, batch: DynamoDBRecord[], invocations: number, functionError?: string): StreamBatchFailure {
    // Lambda writes arrival times to the second, without milliseconds.
    const arrival = (record: DynamoDBRecord | undefined) => {
      const seconds = record?.dynamodb?.ApproximateCreationDateTime;
      return seconds === undefined ? undefined : new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    };
    const first = arrival(batch[0]);
    const last = arrival(batch.at(-1));
    return {
      requestContext: {
        requestId: randomUUID(),
        functionArn: `arn:aws:lambda:${awsRegion}:000000000000:function:${options.name}`,
        condition: 'RetryAttemptsExhausted',
        approximateInvokeCount: invocations,
      },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', ...(functionError ? { functionError } : {}) },
      version: '1.0',
      timestamp: new Date().toISOString(),
      DDBStreamBatchInfo: {
        shardId,
        startSequenceNumber: batch[0]?.dynamodb?.SequenceNumber ?? '',
        endSequenceNumber: batch.at(-1)?.dynamodb?.SequenceNumber ?? '',
        ...(first ? { approximateArrivalOfFirstRecord: first } : {}),
        ...(last ? { approximateArrivalOfLastRecord: last } : {}),
        batchSize: batch.length,
        streamArn: options.streamArn,
      },
    };
  }

  /**
   * Hands a discarded batch's record to the on-failure destination, trying until it takes it: like Lambda, the
   * source does not move past a batch whose failure record was not delivered. False when stopped first.
   */
  async function sendToDestination(failure: StreamBatchFailure): Promise<boolean> {
    if (!options.onFailure) return true;
    for (let attempt = 0; ; attempt++) {
      inFlight++;
      try {
        await options.onFailure(failure);
        return true;
      } catch (error) {
        log(`could not send the record of a discarded batch to the on-failure destination; trying again`, error);
      } finally {
        inFlight--;
      }
      if (stopping) return false;
      await backOff(attempt);
      if (stopping) return false;
    }
  }

  /** Waits before retry `attempt`, counted as in flight so waitForIdle() does not call the stream drained meanwhile. */
  async function backOff(attempt: number): Promise<void> {
    inFlight++;
    try {
      await pause(Math.min(maxDelay, baseDelay * 2 ** attempt));
    } finally {
      inFlight--;
    }
  }

  /**
   * Delivers one batch: on a partial failure the checkpoint moves up to the record before the first failure and
   * the retry starts there. Returns false when stopped mid-retry (the checkpoint then still points before the
   * failed record, so the next run retries it).
   */
  async function deliver(shardId: string, batch: DynamoDBRecord[]): Promise<boolean> {
    let pending = batch;
    for (let attempt = 0; ; attempt++) {
      inFlight++;
      let failedAt: number;
      let functionError: string | undefined;
      try {
        ({ failedAt, functionError } = await invoke(pending));
      } finally {
        inFlight--;
      }
      if (failedAt < 0) {
        stats.delivered += pending.length;
        return true;
      }
      if (failedAt > 0) {
        stats.delivered += failedAt;
        await advance(shardId, pending[failedAt - 1]?.dynamodb?.SequenceNumber);
        pending = pending.slice(failedAt);
      }
      if (attempt >= maxRetries) {
        const where = options.onFailure ? 'its record goes to the on-failure destination' : 'no on-failure destination is set';
        log(
          `giving up on ${pending.length} records after ${maxRetries} retries (first sequence number ` +
            `${pending[0]?.dynamodb?.SequenceNumber}); ${where}`,
        );
        if (!(await sendToDestination(failureRecord(shardId, pending, attempt + 1, functionError)))) return false;
        stats.discarded += pending.length;
        return true;
      }
      stats.retries++;
      await backOff(attempt);
      if (stopping) return false;
    }
  }

  async function followShard(state: ShardState): Promise<void> {
    const shardId = state.shard.ShardId ?? '';
    let iterator: string | undefined;
    let errorDelay = pollIntervalMs;
    while (!stopping) {
      const startedAt = Date.now();
      const after = checkpoint.shards[shardId]?.sequenceNumber;
      let records: SdkRecord[];
      let next: string | undefined;
      try {
        iterator ??= await iteratorFor(shardId);
        if (!iterator) break;
        count('GetRecords');
        const result = await options.streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: batchSize }), {
          abortSignal: abort.signal,
        });
        records = result.Records ?? [];
        next = result.NextShardIterator;
        errorDelay = pollIntervalMs;
      } catch (error) {
        if (stopping) return;
        if (error instanceof ExpiredIteratorException) {
          iterator = undefined;
          continue;
        }
        if (error instanceof TrimmedDataAccessException) {
          // The checkpoint is older than the stream's retention: those records are gone, start from the oldest left.
          log(`records after the checkpoint of ${shardId} were trimmed; resuming from the oldest record`);
          delete checkpoint.shards[shardId];
          iterator = undefined;
          continue;
        }
        if (error instanceof ResourceNotFoundException) {
          log(`shard ${shardId} is gone`);
          break;
        }
        log(`GetRecords on ${shardId} failed; retrying in ${errorDelay} ms`, error);
        await pause(errorDelay);
        errorDelay = Math.min(errorDelay * 2, 5000);
        continue;
      }
      // Belt and braces: never hand the function a record at or before the checkpoint.
      const fresh = after ? records.filter((r) => BigInt(r.dynamodb?.SequenceNumber ?? '0') > BigInt(after)) : records;
      const events = fresh.map((r) => toLambdaRecord(r, options.streamArn, awsRegion));
      stats.records += events.length;
      const wanted = events.filter((r) => filter(r));
      stats.filteredOut += events.length - wanted.length;
      if (wanted.length > 0 && !(await deliver(shardId, wanted))) return;
      const last = records.at(-1)?.dynamodb?.SequenceNumber;
      if (!next) {
        // A closed shard read to its end: remember it is done so a restart does not read it again.
        await advance(shardId, last ?? after, true);
        break;
      }
      if (last) await advance(shardId, last);
      iterator = next;
      if (records.length === 0) {
        state.lastEmptyPollStartedAt = startedAt;
        await pause(pollIntervalMs);
      }
    }
    state.finished = true;
    lastShardFinishedAt = Date.now();
    // Its children may start now: look for them at once.
    wake?.();
  }

  function startReadyShards() {
    for (const state of shards.values()) {
      if (state.running || state.finished) continue;
      if (!isDone(state.shard.ParentShardId)) continue;
      state.running = true;
      const worker = followShard(state).catch((error) => log(`shard ${state.shard.ShardId} stopped`, error));
      workers.add(worker);
      void worker.finally(() => workers.delete(worker));
    }
  }

  async function discover(): Promise<void> {
    const startedAt = Date.now();
    let exclusiveStart: string | undefined;
    do {
      count('DescribeStream');
      const result = await options.streams.send(
        new DescribeStreamCommand({ StreamArn: options.streamArn, ExclusiveStartShardId: exclusiveStart }),
        { abortSignal: abort.signal },
      );
      for (const shard of result.StreamDescription?.Shards ?? []) {
        const id = shard.ShardId;
        if (!id || shards.has(id)) continue;
        const closedBefore = checkpoint.shards[id]?.closed === true;
        shards.set(id, { shard, running: false, finished: closedBefore, lastEmptyPollStartedAt: 0 });
      }
      exclusiveStart = result.StreamDescription?.LastEvaluatedShardId;
    } while (exclusiveStart);
    stats.shards = shards.size;
    // Shards the stream no longer lists were trimmed: their checkpoints can go.
    for (const id of Object.keys(checkpoint.shards)) if (!shards.has(id)) delete checkpoint.shards[id];
    lastDiscoveryStartedAt = startedAt;
    startReadyShards();
  }

  // The first discovery runs before start() returns, so a bad stream ARN fails the start, not a log line later.
  await discover();
  const discovery = (async () => {
    while (!stopping) {
      await pause(discoveryIntervalMs, true);
      if (stopping) break;
      try {
        await discover();
      } catch (error) {
        if (!stopping) log('DescribeStream failed', error);
      }
    }
  })();

  let stopped: Promise<void> | undefined;
  return {
    name: options.name,
    get inFlight() {
      return inFlight;
    },
    caughtUpSince(since) {
      if (inFlight > 0) return false;
      for (const state of shards.values()) {
        if (state.finished) continue;
        // A shard waiting for its parent, or one that has not yet answered empty since `since`, may hold records.
        if (!state.running || state.lastEmptyPollStartedAt < since) return false;
      }
      // A closed shard's children appear at the discovery after it closed.
      return lastDiscoveryStartedAt >= lastShardFinishedAt;
    },
    stats: () => ({ ...stats, requests: { ...stats.requests } }),
    checkpoint: () => structuredClone(checkpoint),
    stop() {
      stopped ??= (async () => {
        stopping = true;
        abort.abort();
        await discovery;
        await Promise.all([...workers]);
        await store.write();
      })();
      return stopped;
    },
  };
}

async function loadCheckpoint(
  file: string | undefined,
  streamArn: string,
  log: (message: string, error?: unknown) => void,
): Promise<StreamCheckpoint> {
  const fresh: StreamCheckpoint = { version: 1, streamArn, shards: {} };
  if (!file) return fresh;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return fresh;
    throw error;
  }
  try {
    const parsed = JSON.parse(text) as Partial<StreamCheckpoint>;
    // A checkpoint of another stream (the table was recreated) says nothing about this one.
    if (parsed.version !== 1 || parsed.streamArn !== streamArn || typeof parsed.shards !== 'object' || !parsed.shards) {
      return fresh;
    }
    return { version: 1, streamArn, shards: parsed.shards };
  } catch (error) {
    // Writes are atomic (rename), so this is a hand-edited file: start over rather than refuse to start.
    log(`ignoring unreadable checkpoint ${file}`, error);
    return fresh;
  }
}

/** Persists the checkpoint atomically (temp file, fsync, rename), one write at a time, always the latest state. */
function checkpointWriter(
  file: string | undefined,
  current: () => StreamCheckpoint,
  log: (message: string, error?: unknown) => void,
) {
  let chain: Promise<void> = Promise.resolve();
  return {
    write(): Promise<void> {
      if (!file) return Promise.resolve();
      chain = chain.then(async () => {
        const temp = `${file}.${process.pid}.tmp`;
        try {
          const handle = await open(temp, 'w');
          try {
            await handle.writeFile(`${JSON.stringify(current(), null, 2)}\n`);
            await handle.sync();
          } finally {
            await handle.close();
          }
          await rename(temp, file);
        } catch (error) {
          // The previous checkpoint stays valid; at worst a restart delivers a few records again (at least once).
          log(`could not write checkpoint ${file}`, error);
        }
      });
      return chain;
    },
  };
}

function toLambdaAttribute(value: SdkAttributeValue): AttributeValue {
  const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
  // Lambda's events are JSON: binary values arrive as base64 strings, not bytes.
  if (value.B !== undefined) return { B: base64(value.B) };
  if (value.BS !== undefined) return { BS: value.BS.map(base64) };
  if (value.L !== undefined) return { L: value.L.map(toLambdaAttribute) };
  if (value.M !== undefined) return { M: toLambdaImage(value.M) ?? {} };
  return value as AttributeValue;
}

function toLambdaImage(image: Record<string, SdkAttributeValue> | undefined): Record<string, AttributeValue> | undefined {
  if (!image) return undefined;
  return Object.fromEntries(Object.entries(image).map(([k, v]) => [k, toLambdaAttribute(v)]));
}

/** One stream record as Lambda hands it to the function (epoch-second timestamps, base64 binaries). */
export function toLambdaRecord(record: SdkRecord, streamArn: string, awsRegion: string): DynamoDBRecord {
  const d = record.dynamodb ?? {};
  const created = d.ApproximateCreationDateTime;
  return {
    eventID: record.eventID,
    eventName: record.eventName,
    eventVersion: record.eventVersion ?? '1.1',
    eventSource: 'aws:dynamodb',
    // DynamoDB Local reports its own pseudo-region (`ddblocal`); functions should see the region they run in.
    awsRegion,
    dynamodb: {
      ...(created ? { ApproximateCreationDateTime: Math.floor(created.getTime() / 1000) } : {}),
      Keys: toLambdaImage(d.Keys),
      ...(d.NewImage ? { NewImage: toLambdaImage(d.NewImage) } : {}),
      ...(d.OldImage ? { OldImage: toLambdaImage(d.OldImage) } : {}),
      SequenceNumber: d.SequenceNumber,
      SizeBytes: d.SizeBytes,
      StreamViewType: d.StreamViewType,
    },
    eventSourceARN: streamArn,
    ...(record.userIdentity ? { userIdentity: record.userIdentity } : {}),
  };
}
