// The local queue journal (infra/local/queue-journal.ts) and the stale-java guard on their own: what survives a
// torn append, what a start sends again, and that a pid file never makes the runner signal a process that is not its
// DynamoDB Local.
import { spawn } from 'node:child_process';
import { appendFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openQueueJournal, remainingDelaySeconds } from '../../infra/local/queue-journal';
import { stopStaleDynamoDbLocal } from '../../infra/local/services';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'queue-journal-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const entry = (id: string, extra: object = {}) => ({ id, queue: 'inbound', body: `{"n":"${id}"}`, at: new Date().toISOString(), ...extra });

describe('queue journal', () => {
  it('keeps what was sent and not done, across reopenings, and compacts to exactly that', async () => {
    const file = join(dir, 'a', 'journal.jsonl');
    const journal = await openQueueJournal(file, { log: () => undefined });
    await Promise.all([journal.recordSends([entry('1'), entry('2')]), journal.recordSends([entry('3', { attributes: { kind: { DataType: 'String', StringValue: 'x' } } })])]);
    await journal.recordDone(['2', 'unknown']);
    await journal.recordParked(['3']);
    await journal.close();

    const reopened = await openQueueJournal(file, { log: () => undefined });
    expect(reopened.pending().map((e) => [e.id, e.parked ?? false])).toEqual([
      ['1', false],
      ['3', true],
    ]);
    expect(reopened.pending()[1]!.attributes).toEqual({ kind: { DataType: 'String', StringValue: 'x' } });
    await reopened.close();
    // Compacted on open: two sends and the parking mark, nothing about the finished message.
    const lines = (await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { op: string; id?: string });
    expect(lines.map((l) => `${l.op}:${l.id ?? ''}`)).toEqual(['send:1', 'send:3', 'parked:']);
  });

  it('skips a torn last line (the runner killed mid-append): that send never completed, so it was never acknowledged', async () => {
    const file = join(dir, 'torn.jsonl');
    const journal = await openQueueJournal(file, { log: () => undefined });
    await journal.recordSends([entry('ok')]);
    await journal.close();
    await appendFile(file, '{"op":"send","id":"torn","queue":"inb');
    const logged: string[] = [];
    const reopened = await openQueueJournal(file, { log: (m) => logged.push(m) });
    expect(reopened.pending().map((e) => e.id)).toEqual(['ok']);
    expect(logged.join()).toMatch(/skipped 1 torn/);
    await reopened.close();
  });

  it('compacts while running once it grew to its threshold, and only then, down to exactly the pending sends', async () => {
    const file = join(dir, 'threshold.jsonl');
    const journal = await openQueueJournal(file, { compactAfterLines: 50, log: () => undefined });
    const lineOf = (l: { op: string; id?: string; ids?: string[] }) => `${l.op}:${l.id ?? l.ids?.join(',') ?? ''}`;
    const fileLines = async () => (await readFile(file, 'utf8')).trim().split('\n').map((l) => lineOf(JSON.parse(l) as { op: string }));
    // Every call appends one line: 30 sends, each but every third followed by its done mark, make 50 lines.
    const appended: string[] = [];
    const pending: string[] = [];
    let seenBelowThreshold = false;
    for (let i = 0; i < 30; i++) {
      await journal.recordSends([entry(`m${i}`)]);
      appended.push(`send:m${i}`);
      if (i % 3 === 0) {
        pending.push(`m${i}`);
        continue;
      }
      if (appended.length === 49) {
        // One line short of the threshold: the file is everything appended, done marks included.
        expect(await fileLines()).toEqual(appended);
        seenBelowThreshold = true;
      }
      await journal.recordDone([`m${i}`]);
      appended.push(`done:m${i}`);
    }
    expect(appended).toHaveLength(50);
    expect(seenBelowThreshold).toBe(true);
    // The 50th line started a compaction; close() waits for it (nothing else is written).
    await journal.close();
    expect(await fileLines()).toEqual(pending.map((id) => `send:${id}`));
    const reopened = await openQueueJournal(file, { log: () => undefined });
    expect(reopened.pending().map((e) => e.id)).toEqual(pending);
    await reopened.close();
  });

  it('keeps appending across compactions while running, without losing a pending send', async () => {
    const file = join(dir, 'grow.jsonl');
    const journal = await openQueueJournal(file, { compactAfterLines: 50, log: () => undefined });
    for (let i = 0; i < 120; i++) {
      await journal.recordSends([entry(`m${i}`)]);
      if (i % 3 !== 0) await journal.recordDone([`m${i}`]);
    }
    await journal.close();
    // 200 lines were appended. Appends arriving during a compaction go out after it, so where the last one fell (and
    // the exact length) depends on timing; that some ran does not: without them, all 200 would be there.
    const lines = (await readFile(file, 'utf8')).trim().split('\n');
    expect(lines.length).toBeLessThan(200);
    const reopened = await openQueueJournal(file, { log: () => undefined });
    expect(reopened.pending().map((e) => e.id)).toEqual(Array.from({ length: 40 }, (_, i) => `m${i * 3}`));
    await reopened.close();
  });

  it('a re-sent message waits only what is left of its delay', () => {
    const now = Date.now();
    expect(remainingDelaySeconds({ ...entry('d'), delaySeconds: 30, at: new Date(now - 10_000).toISOString() }, now)).toBe(20);
    expect(remainingDelaySeconds({ ...entry('d'), delaySeconds: 30, at: new Date(now - 60_000).toISOString() }, now)).toBe(0);
    expect(remainingDelaySeconds(entry('d'), now)).toBe(0);
  });
});

describe('stale DynamoDB Local guard', () => {
  it('never signals a process that is not DynamoDB Local on this data dir, and forgets the stale record', async () => {
    const data = join(dir, 'dynamodb');
    const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      await mkdir(data, { recursive: true });
      for (const pid of [sleeper.pid!, process.pid, 999_999_999]) {
        await writeFile(join(data, 'dynamodb-local.pid'), JSON.stringify({ pid }));
        expect(await stopStaleDynamoDbLocal(data)).toBeUndefined();
        await expect(readFile(join(data, 'dynamodb-local.pid'))).rejects.toThrow();
      }
      expect(sleeper.exitCode).toBeNull();
      expect(sleeper.signalCode).toBeNull();
    } finally {
      sleeper.kill('SIGKILL');
    }
  });
});
