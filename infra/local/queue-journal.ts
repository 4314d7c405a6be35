// Local mode's durable queues. The SQS emulator keeps messages in memory, so without this a webhook answered 200 would
// be lost when the runner dies before ingest ran. On AWS, SQS itself is the durable store; locally, every message the
// functions send is appended (and fsynced) to a JSONL journal under DATA_DIR before the send completes, every message
// the local event sources delete is marked done, and on start whatever was sent and never marked done is sent again.
// Duplicates after a crash are expected and harmless (ingest dedupes by X id, notify by webhook-id); losses are not.
//
// Wiring only: the journal hooks into the SQS clients with SDK middleware (journalSends) and into the local event
// sources (their onDeleted/onFailed hooks), so the function code is the same on Lambda and here.
import { randomUUID } from 'node:crypto';
import { mkdir, open, readFile, rename, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Message, MessageAttributeValue, SendMessageBatchRequestEntry, SQSClient } from '@aws-sdk/client-sqs';

/** The message attribute that carries a message's journal id from its send to its delete. */
export const JOURNAL_ID_ATTRIBUTE = 'LocalJournalId';

/** A message attribute as the journal stores it: binary values as base64. */
type StoredAttribute = { DataType: string; StringValue?: string; BinaryValue?: string };

/** One journaled send: what is needed to send the message again after a crash. */
export type JournalEntry = {
  id: string;
  /** The queue's logical name (`inbound`, `reply`, `notifyRetry`): its URL changes with every emulator start. */
  queue: string;
  body: string;
  attributes?: Record<string, StoredAttribute>;
  delaySeconds?: number;
  /** When it was first sent (ISO); a re-send only waits what is left of its delay. */
  at: string;
  /**
   * Set when the local event source saw it fail its last allowed receive: SQS moves it to the dead-letter queue, so
   * after a restart it goes back there, not to its queue.
   */
  parked?: boolean;
};

type Line =
  | ({ op: 'send' } & Omit<JournalEntry, 'parked'>)
  | { op: 'done'; ids: string[] }
  | { op: 'parked'; ids: string[] };

export type QueueJournal = {
  readonly file: string;
  /** Messages sent and never marked done, oldest first: what a start sends again. */
  pending(): JournalEntry[];
  /** Appends the sends and fsyncs them; resolves only once they are on disk. */
  recordSends(entries: JournalEntry[]): Promise<void>;
  /** Marks messages processed and deleted (not fsynced on its own: a lost mark only costs a harmless re-send). */
  recordDone(ids: string[]): Promise<void>;
  /** Marks messages that SQS is moving to their dead-letter queue. */
  recordParked(ids: string[]): Promise<void>;
  /** Flushes and closes the file. Idempotent. */
  close(): Promise<void>;
};

export type QueueJournalOptions = {
  /** Rewrite the file with only the pending sends once this many lines were appended since the last rewrite. */
  compactAfterLines?: number;
  log?: (message: string, error?: unknown) => void;
};

const DEFAULT_COMPACT_AFTER_LINES = 20_000;

/**
 * Opens (or creates) the journal at `file`: reads it, keeps the sends never marked done, and rewrites the file with
 * only those (compaction). A torn last line (the runner was killed mid-append) is skipped: its send never completed,
 * so no webhook was answered 200 for it.
 */
export async function openQueueJournal(file: string, options: QueueJournalOptions = {}): Promise<QueueJournal> {
  const log = options.log ?? ((message: string, error?: unknown) => console.error(message, error ?? ''));
  const compactAfter = options.compactAfterLines ?? DEFAULT_COMPACT_AFTER_LINES;
  await mkdir(dirname(file), { recursive: true });
  const entries = await load(file, log);
  await rewrite(file, entries);

  let handle: FileHandle = await open(file, 'a');
  let linesSinceCompaction = 0;
  let buffer: string[] = [];
  let waiters: { resolve: () => void; reject: (error: unknown) => void }[] = [];
  let flushing: Promise<void> | undefined;
  let closed: Promise<void> | undefined;

  // Group commit: every append waiting while a write+fsync runs goes out in the next single write+fsync, so a burst
  // of webhooks costs a few fsyncs, not one each.
  async function flushAll(): Promise<void> {
    while (buffer.length > 0) {
      const lines = buffer;
      const done = waiters;
      buffer = [];
      waiters = [];
      try {
        await handle.write(lines.join(''));
        await handle.datasync();
      } catch (error) {
        for (const waiter of done) waiter.reject(error);
        continue;
      }
      for (const waiter of done) waiter.resolve();
      linesSinceCompaction += lines.length;
      if (linesSinceCompaction >= compactAfter) await compact();
    }
  }

  // A long-running runner would otherwise grow the file forever. What is pending is already on disk in the current
  // file, so a failed rewrite only costs a bigger file; the append handle is reopened either way.
  async function compact(): Promise<void> {
    linesSinceCompaction = 0;
    try {
      await handle.close();
      await rewrite(file, entries);
    } catch (error) {
      log(`queue journal ${file}: compaction failed; keeping the longer file`, error);
    } finally {
      handle = await open(file, 'a');
    }
  }

  function append(lines: Line[]): Promise<void> {
    if (closed) return Promise.reject(new Error(`queue journal ${file} is closed`));
    buffer.push(...lines.map((line) => `${JSON.stringify(line)}\n`));
    const written = new Promise<void>((resolve, reject) => waiters.push({ resolve, reject }));
    kick();
    return written;
  }

  function kick(): void {
    if (flushing) return;
    flushing = flushAll().finally(() => {
      flushing = undefined;
      // Lines appended after the loop saw an empty buffer but before this ran would otherwise wait forever.
      if (buffer.length > 0) kick();
    });
  }

  return {
    file,
    pending: () => [...entries.values()].map((entry) => ({ ...entry })),
    recordSends(sent) {
      for (const entry of sent) entries.set(entry.id, { ...entry });
      return append(sent.map((entry) => ({ op: 'send', ...withoutParked(entry) })));
    },
    recordDone(ids) {
      const known = ids.filter((id) => entries.delete(id));
      return known.length > 0 ? append([{ op: 'done', ids: known }]) : Promise.resolve();
    },
    recordParked(ids) {
      const known = ids.filter((id) => {
        const entry = entries.get(id);
        if (entry) entry.parked = true;
        return entry !== undefined;
      });
      return known.length > 0 ? append([{ op: 'parked', ids: known }]) : Promise.resolve();
    },
    close() {
      closed ??= (async () => {
        while (flushing) await flushing;
        await handle.close();
      })();
      return closed;
    },
  };
}

function withoutParked(entry: JournalEntry): Omit<JournalEntry, 'parked'> {
  const { parked: _parked, ...rest } = entry;
  return rest;
}

async function load(file: string, log: (message: string, error?: unknown) => void): Promise<Map<string, JournalEntry>> {
  const entries = new Map<string, JournalEntry>();
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return entries;
    throw error;
  }
  let unreadable = 0;
  for (const raw of text.split('\n')) {
    if (raw.trim() === '') continue;
    let line: Line;
    try {
      line = JSON.parse(raw) as Line;
    } catch {
      unreadable++;
      continue;
    }
    if (line.op === 'send' && typeof line.id === 'string' && typeof line.queue === 'string' && typeof line.body === 'string') {
      const { op: _op, ...entry } = line;
      entries.set(entry.id, entry);
    } else if (line.op === 'done' && Array.isArray(line.ids)) {
      for (const id of line.ids) entries.delete(id);
    } else if (line.op === 'parked' && Array.isArray(line.ids)) {
      for (const id of line.ids) {
        const entry = entries.get(id);
        if (entry) entry.parked = true;
      }
    }
  }
  if (unreadable > 0) log(`queue journal ${file}: skipped ${unreadable} torn or unreadable line(s)`);
  return entries;
}

/** Replaces the file with only the pending sends: temp file, fsync, rename, so a crash leaves the old or the new. */
async function rewrite(file: string, entries: Map<string, JournalEntry>): Promise<void> {
  const temp = `${file}.${process.pid}.tmp`;
  const lines: Line[] = [];
  for (const entry of entries.values()) {
    lines.push({ op: 'send', ...withoutParked(entry) });
    if (entry.parked) lines.push({ op: 'parked', ids: [entry.id] });
  }
  const handle = await open(temp, 'w');
  try {
    await handle.writeFile(lines.map((line) => `${JSON.stringify(line)}\n`).join(''));
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, file);
  // The rename itself must survive a power cut too: fsync the directory (not possible on every platform).
  try {
    const dir = await open(dirname(file), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch {
    // Best effort.
  }
}

function storeAttributes(attributes: Record<string, MessageAttributeValue> | undefined): Record<string, StoredAttribute> | undefined {
  if (!attributes) return undefined;
  const stored: Record<string, StoredAttribute> = {};
  for (const [name, value] of Object.entries(attributes)) {
    if (name === JOURNAL_ID_ATTRIBUTE) continue;
    stored[name] = {
      DataType: value.DataType ?? 'String',
      ...(value.StringValue !== undefined ? { StringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined ? { BinaryValue: Buffer.from(value.BinaryValue).toString('base64') } : {}),
    };
  }
  return Object.keys(stored).length > 0 ? stored : undefined;
}

/** The SDK form of a journaled message's attributes, with its journal id, ready to send again. */
export function messageAttributesFor(entry: JournalEntry): Record<string, MessageAttributeValue> {
  const attributes: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(entry.attributes ?? {})) {
    attributes[name] = {
      DataType: value.DataType,
      ...(value.StringValue !== undefined ? { StringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined ? { BinaryValue: Buffer.from(value.BinaryValue, 'base64') } : {}),
    };
  }
  attributes[JOURNAL_ID_ATTRIBUTE] = { DataType: 'String', StringValue: entry.id };
  return attributes;
}

/** The journal id a received message carries, if it was journaled. */
export function journalIdOf(message: Message): string | undefined {
  return message.MessageAttributes?.[JOURNAL_ID_ATTRIBUTE]?.StringValue;
}

/** Seconds of a journaled message's delay still to wait at `now` (epoch ms). */
export function remainingDelaySeconds(entry: JournalEntry, now: number): number {
  if (!entry.delaySeconds) return 0;
  const elapsed = Math.floor((now - Date.parse(entry.at)) / 1000);
  return Math.max(0, Math.min(900, entry.delaySeconds - (Number.isFinite(elapsed) ? elapsed : 0)));
}

type SendInput = {
  QueueUrl?: string;
  MessageBody?: string;
  DelaySeconds?: number;
  MessageAttributes?: Record<string, MessageAttributeValue>;
  Entries?: SendMessageBatchRequestEntry[];
};
type BatchOutput = { Failed?: { Id?: string }[] };

/**
 * Journals every SendMessage and SendMessageBatch this client makes to one of `queues` (URL → logical name) before
 * the request goes out, tagging each message with its journal id. If the journal cannot be written the send fails, so
 * the caller (the webhook) answers 5xx and X retries: a 200 is never given for a message that is not on disk.
 * Entries SQS reports as failed are marked done at once (they were never queued); a thrown send leaves its entries
 * pending, because a timeout can hide an accepted message: a restart sends them again (a duplicate, never a loss).
 */
export function journalSends(client: SQSClient, journal: QueueJournal, queues: ReadonlyMap<string, string>): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as SendInput;
      const queue = input.QueueUrl === undefined ? undefined : queues.get(input.QueueUrl);
      if (!queue) return next(args);
      const at = new Date().toISOString();
      if (context.commandName === 'SendMessageCommand') {
        const entry: JournalEntry = {
          id: randomUUID(),
          queue,
          body: input.MessageBody ?? '',
          ...optionalFields(input.MessageAttributes, input.DelaySeconds),
          at,
        };
        await journal.recordSends([entry]);
        return next({ ...args, input: { ...input, MessageAttributes: messageAttributesFor(entry) } as typeof args.input });
      }
      if (context.commandName === 'SendMessageBatchCommand' && input.Entries) {
        const tagged = input.Entries.map((original) => ({
          original,
          entry: {
            id: randomUUID(),
            queue,
            body: original.MessageBody ?? '',
            ...optionalFields(original.MessageAttributes, original.DelaySeconds),
            at,
          } satisfies JournalEntry,
        }));
        await journal.recordSends(tagged.map((t) => t.entry));
        const result = await next({
          ...args,
          input: {
            ...input,
            Entries: tagged.map(({ original, entry }) => ({ ...original, MessageAttributes: messageAttributesFor(entry) })),
          } as typeof args.input,
        });
        const failed = new Set(((result.output as BatchOutput).Failed ?? []).map((f) => f.Id));
        const refused = tagged.filter((t) => failed.has(t.original.Id)).map((t) => t.entry.id);
        if (refused.length > 0) await journal.recordDone(refused);
        return result;
      }
      return next(args);
    },
    { step: 'initialize', name: 'localQueueJournal', override: true },
  );
}

function optionalFields(
  attributes: Record<string, MessageAttributeValue> | undefined,
  delaySeconds: number | undefined,
): Pick<JournalEntry, 'attributes' | 'delaySeconds'> {
  const stored = storeAttributes(attributes);
  return { ...(stored ? { attributes: stored } : {}), ...(delaySeconds ? { delaySeconds } : {}) };
}
