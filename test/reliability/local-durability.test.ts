// Local mode survives `kill -9`. The real `npm start` runner (infra/local/main.ts, through tsx) runs as a child process
// on a temporary DATA_DIR; the test plays X (signed webhooks) and the helpdesk (a loopback receiver), kills the runner's
// whole process group with SIGKILL, starts it again on the same DATA_DIR, and checks through the helpdesk API that
// every delivery answered 200 ends as exactly one message in exactly one ticket, and that every ticket reached the
// helpdesk.
//
// The journal has to be the thing that saved them, so the test makes sure it was. Before the first kill, DynamoDB
// Local is frozen (SIGSTOP): the webhook still queues and answers 200, ingest can take the messages but never store
// them, so at the kill the acknowledged deliveries exist only as unfinished lines of the journal. The test reads
// those lines itself before each restart and requires the start to re-queue exactly them (the runner prints
// "(N re-queued now)"), and each of them to end as one message. The second kill comes at a random moment under load.
//
// Replaying a failure: every failure prints `FAULT_SEED=<n>`; run
//   FAULT_SEED=<n> npx vitest run test/reliability/local-durability.test.ts
// to replay it. The seed picks the customers' ids and after how many answered deliveries the second kill comes; which
// of them ingest had finished by that answer still depends on the machine, so a replay kills at the same count of
// answers, not in the same state. Without FAULT_SEED the seed is drawn from the clock.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { freePort } from '../../infra/local/services';
import { signWebhookBody } from '../../shared/x/signature';
import { createHelpdeskReceiver, type HelpdeskReceiver } from '../support/helpdesk-receiver';
import { aaaMention, nextXId, xaaDm, xaaMention, type XUserRef } from '../support/x-payloads';
import { seededRandom } from './support/faults';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const TSX_CLI = join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
const SEED = Number(process.env.FAULT_SEED ?? Date.now() % 1_000_000);
const REPLAY = `FAULT_SEED=${SEED}`;
const SECRETS = {
  X_API_SECRET: `durable-${randomBytes(8).toString('hex')}`,
  HELPDESK_WEBHOOK_SECRET: `whsec_${randomBytes(32).toString('base64')}`,
  HELPDESK_API_TOKEN: `durable-token-${randomBytes(8).toString('hex')}`,
};
// Hang guards for condition waits, well inside the tests' own timeouts; nothing here asserts how long anything took.
const POLL = { timeout: 120_000, interval: 100 };

type Runner = {
  child: ChildProcess;
  /** The tail of what it printed, stdout and stderr together. */
  output: () => string;
  exited: Promise<number | null>;
  url: string;
  /** What its start banner says it sent again from the journal ("(N re-queued now)"; absent means 0). */
  requeued: number;
};

let dataDir: string;
let port: number;
let helpdesk: HelpdeskReceiver;
const running = new Set<Runner>();
const startedRunners: Runner[] = [];
const journalFile = () => join(dataDir, 'queues', 'support-bridge-durable.jsonl');

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'bridge-durable-'));
  port = await freePort();
  helpdesk = createHelpdeskReceiver(SECRETS.HELPDESK_WEBHOOK_SECRET);
  await helpdesk.start();
});

afterAll(async () => {
  // Whatever happened, nothing this test started keeps running: the runners' groups, then a java they left (SIGKILL
  // also ends a java this test froze).
  for (const runner of running) killGroup(runner, 'SIGKILL');
  await Promise.all([...running].map((r) => r.exited));
  const java = javaPid();
  if (java !== undefined && javaArgs(java)?.includes(join(dataDir, 'dynamodb'))) process.kill(java, 'SIGKILL');
  await helpdesk?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

function killGroup(runner: Runner, signal: NodeJS.Signals): void {
  try {
    // The runner leads its own process group (tsx and the node it starts): kill -9 reaches all of them at once.
    process.kill(-runner.child.pid!, signal);
  } catch {
    // Already gone.
  }
}

/** The DynamoDB Local java the runner recorded in DATA_DIR, if the record is there. */
function javaPid(): number | undefined {
  try {
    return (JSON.parse(readFileSync(join(dataDir, 'dynamodb', 'dynamodb-local.pid'), 'utf8')) as { pid: number }).pid;
  } catch {
    return undefined;
  }
}

/** A process's state letter from /proc (R, S, T = stopped, Z, ...), or undefined when it is gone. */
function processState(pid: number): string | undefined {
  try {
    return /^\S+ \(.*\) (\S)/.exec(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

/** A live, non-zombie process's arguments, or undefined. */
function javaArgs(pid: number): string | undefined {
  const state = processState(pid);
  if (state === undefined || state === 'Z' || state === 'X') return undefined;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return undefined;
  }
}

/** When the calling test fails (a timeout included): the seed to replay it, and the tail of each runner it started. */
function reportOnFailure(context: () => string): void {
  const from = startedRunners.length;
  onTestFailed(() => {
    const tails = startedRunners.slice(from).map((r, i) => `--- runner ${i + 1} output (tail) ---\n${r.output().split('\n').slice(-40).join('\n')}`);
    console.error(`local-durability failed; replay with ${REPLAY}. ${context()}\n${tails.join('\n')}`);
  });
}

// The banner's last journal line: "unfinished messages are sent again at the next start (N re-queued now)".
const BANNER_REQUEUED = /sent again at the next start(?: \((\d+) re-queued now\))?\n/;

/** Starts `npm start`'s entry point and resolves once it printed its banner (it is up and has re-sent the journal). */
async function startRunner(): Promise<Runner> {
  const env: Record<string, string> = {
    ...(Object.fromEntries(Object.entries(process.env).filter(([k, v]) => v !== undefined && k !== 'NODE_OPTIONS' && !k.startsWith('VITEST'))) as Record<string, string>),
    ...SECRETS,
    DATA_DIR: dataDir,
    PORT: String(port),
    BRAND: 'durable',
    HELPDESK_WEBHOOK_URL: helpdesk.url,
    POWERTOOLS_LOG_LEVEL: 'WARN',
    POWERTOOLS_METRICS_DISABLED: 'true',
  };
  const child = spawn(process.execPath, [TSX_CLI, 'infra/local/main.ts'], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  const listeners = new Set<() => void>();
  const keep = (chunk: Buffer) => {
    text = (text + chunk.toString('utf8')).slice(-64_000);
    for (const listener of listeners) listener();
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const runner: Runner = { child, output: () => text, exited, url: `http://127.0.0.1:${port}`, requeued: 0 };
  running.add(runner);
  startedRunners.push(runner);
  void exited.then(() => running.delete(runner));

  // No deadline of its own: the test's timeout is the hang guard, and a failure prints this runner's output.
  const banner = await new Promise<RegExpExecArray>((done, fail) => {
    const check = () => {
      const match = BANNER_REQUEUED.exec(text);
      if (match) {
        listeners.delete(check);
        done(match);
      }
    };
    listeners.add(check);
    void exited.then(() => fail(new Error(`the runner exited during start:\n${text.split('\n').slice(-40).join('\n')}`)));
    check();
  });
  runner.requeued = Number(banner[1] ?? 0);
  expect((await fetch(`${runner.url}/healthz`)).status).toBe(200);
  return runner;
}

async function kill9(runner: Runner): Promise<void> {
  killGroup(runner, 'SIGKILL');
  await runner.exited;
}

/**
 * SIGTERM to the runner itself (the node process tsx started), which stops gracefully; resolves with the exit code
 * (the test's timeout guards a stop that never ends). Not to tsx: tsx relays a signal it gets to its child, but when
 * the child has not acknowledged it within 30 ms (a loaded machine) it SIGKILLs the child and exits 143, which would
 * test tsx's patience instead of the runner's stop.
 */
async function stopGracefully(runner: Runner): Promise<number | null> {
  const tsx = runner.child.pid!;
  const children = readFileSync(`/proc/${tsx}/task/${tsx}/children`, 'utf8').trim().split(/\s+/).map(Number);
  const main = children.find((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('infra/local/main.ts'));
  expect(main, `the runner process under tsx ${tsx}`).toBeDefined();
  process.kill(main!, 'SIGTERM');
  return runner.exited;
}

type PendingEntry = { queue: string; body: string; parked: boolean };

/**
 * What the journal file holds unfinished, read independently of infra/local/queue-journal.ts (so a bug there cannot
 * hide here): sends not followed by a done mark, in order; a torn last line is skipped, as the runner skips it.
 */
async function readPendingJournal(): Promise<PendingEntry[]> {
  let text: string;
  try {
    text = await readFile(journalFile(), 'utf8');
  } catch {
    return [];
  }
  const pending = new Map<string, PendingEntry>();
  for (const raw of text.split('\n')) {
    let line: { op?: string; id?: string; ids?: string[]; queue?: string; body?: string };
    try {
      line = JSON.parse(raw) as typeof line;
    } catch {
      continue;
    }
    if (line.op === 'send' && line.id) pending.set(line.id, { queue: line.queue ?? '', body: line.body ?? '', parked: false });
    if (line.op === 'done') for (const id of line.ids ?? []) pending.delete(id);
    if (line.op === 'parked') {
      for (const id of line.ids ?? []) {
        const entry = pending.get(id);
        if (entry) entry.parked = true;
      }
    }
  }
  return [...pending.values()];
}

/** The X ids of the inbound items the journal holds unfinished. */
const inboundXIds = (pending: PendingEntry[]) => pending.filter((e) => e.queue === 'inbound').map((e) => (JSON.parse(e.body) as { xId: string }).xId);

type Post = { xId: string; author: XUserRef; kind: 'mention' | 'dm'; body: Record<string, unknown> };
let serial = 0;
function newPost(): Post {
  serial++;
  const author = { id: String(6_600_000_000 + (SEED % 10_000) * 1000 + serial), username: `durable${serial}`, name: `Durable ${serial}` };
  const xId = nextXId();
  const kind = serial % 5 === 0 ? 'dm' : 'mention';
  const body = kind === 'dm' ? xaaDm({ id: xId, sender: author }) : serial % 2 ? xaaMention({ id: xId, author }) : aaaMention({ id: xId, author });
  return { xId, author, kind, body };
}
const ticketOf = (post: Post) => `${post.kind === 'dm' ? 'dm' : 'mn'}-${post.author.id}-1`;
const createdEventOf = (post: Post) => `evt_${ticketOf(post)}_1`;

/** POSTs as X does; resolves with 200 only for an acknowledged delivery, 0 when the connection died. */
async function deliver(runner: Runner, post: Post): Promise<number> {
  const raw = Buffer.from(JSON.stringify(post.body));
  try {
    const response = await fetch(`${runner.url}/x/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-twitter-webhooks-signature': signWebhookBody(SECRETS.X_API_SECRET, raw) },
      body: raw,
    });
    return response.status;
  } catch {
    return 0;
  }
}

async function api<T>(runner: Runner, path: string): Promise<{ status: number; json: T }> {
  const response = await fetch(`${runner.url}${path}`, { headers: { authorization: `Bearer ${SECRETS.HELPDESK_API_TOKEN}` } });
  return { status: response.status, json: (await response.json()) as T };
}

/** Every ticket the helpdesk API lists, following the cursor. */
async function allTickets(runner: Runner): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 50; page++) {
    const answer: { json: { tickets: { id: string }[]; nextCursor: string | null } } = await api(runner, `/tickets?limit=100${cursor ? `&cursor=${cursor}` : ''}`);
    ids.push(...answer.json.tickets.map((t) => t.id));
    cursor = answer.json.nextCursor;
    if (!cursor) break;
  }
  return ids;
}

const sorted = (values: string[]) => [...values].sort();

describe('local mode survives kill -9', () => {
  const acknowledged: Post[] = [];
  const unanswered: Post[] = [];

  it('deliveries answered 200 right before kill -9, while only the journal held them, and more killed at a random moment under load, are all there after a restart, once each', async () => {
    // The seed's one draw: how many answered deliveries of the burst come before the second kill.
    const killAfter = 8 + Math.floor(seededRandom(SEED)() * 20);
    reportOnFailure(() => `Second kill after ${killAfter} answers.`);

    // Run 1: a few deliveries go all the way through (the journal then holds nothing unfinished)...
    const first = await startRunner();
    const firstJava = javaPid();
    expect(firstJava).toBeDefined();
    const processed = Array.from({ length: 6 }, newPost);
    for (const post of processed) {
      expect(await deliver(first, post), REPLAY).toBe(200);
      acknowledged.push(post);
    }
    await expect.poll(async () => (await readPendingJournal()).length, { ...POLL, message: `the journal drains, ${REPLAY}` }).toBe(0);

    // ...then DynamoDB Local freezes: the webhook (which touches only the queue) still answers 200, but ingest cannot
    // store anything, so nothing it receives is ever finished. kill -9 the moment the last one is acknowledged.
    process.kill(firstJava!, 'SIGSTOP');
    await expect.poll(() => processState(firstJava!), POLL).toBe('T');
    const held = Array.from({ length: 6 }, newPost);
    for (const post of held) {
      expect(await deliver(first, post), REPLAY).toBe(200);
      acknowledged.push(post);
    }
    await kill9(first);
    // Its java was detached (so Ctrl-C does not reach it mid-batch): it outlived the runner on the same data dir.
    expect(javaArgs(firstJava!)).toContain(join(dataDir, 'dynamodb'));
    process.kill(firstJava!, 'SIGCONT');

    // At the kill, the held deliveries were answered 200 and exist nowhere but in the journal: exactly them, unparked.
    const leftByFirst = await readPendingJournal();
    expect(sorted(inboundXIds(leftByFirst)), `journal-only at the first kill, ${REPLAY}`).toEqual(sorted(held.map((p) => p.xId)));
    expect(leftByFirst.filter((e) => e.queue !== 'inbound' || e.parked), REPLAY).toEqual([]);

    // Run 2: the start stops that java before starting its own and sends again exactly what the journal held, then
    // takes a burst and is killed in the middle of it.
    const second = await startRunner();
    expect(javaArgs(firstJava!)).toBeUndefined();
    expect(second.requeued, `re-queued at the second start, ${REPLAY}`).toBe(leftByFirst.length);
    const burst = Array.from({ length: 40 }, newPost);
    let answered = 0;
    let killing: Promise<void> | undefined;
    await Promise.all(
      Array.from({ length: 6 }, async (_, lane) => {
        for (let i = lane; i < burst.length; i += 6) {
          const post = burst[i]!;
          const status = killing ? 0 : await deliver(second, post);
          if (status === 200) {
            acknowledged.push(post);
            if (++answered === killAfter) killing ??= kill9(second);
          } else {
            unanswered.push(post);
          }
        }
      }),
    );
    await (killing ?? kill9(second));
    expect(answered, REPLAY).toBeGreaterThanOrEqual(killAfter);

    // What the second kill left unfinished: whatever it is, the next start must send exactly that again. Every
    // unfinished inbound item is one this test delivered (answered, or cut off by the kill after its journal write).
    const leftBySecond = await readPendingJournal();
    const delivered = new Set([...acknowledged, ...unanswered].map((p) => p.xId));
    expect(inboundXIds(leftBySecond).filter((xId) => !delivered.has(xId)), REPLAY).toEqual([]);

    // Run 3: X retries what was never acknowledged (it would, for minutes), and more traffic comes in.
    const third = await startRunner();
    expect(third.requeued, `re-queued at the third start, ${REPLAY}, killed after ${killAfter} answers`).toBe(leftBySecond.length);
    const later = Array.from({ length: 8 }, newPost);
    for (const post of [...unanswered, ...later]) {
      expect(await deliver(third, post), REPLAY).toBe(200);
      acknowledged.push(post);
    }
    const expectedTickets = new Set(acknowledged.map(ticketOf));
    const context = `${REPLAY}, killed after ${killAfter} answers`;
    await expect.poll(async () => (await allTickets(third)).length, { ...POLL, message: `tickets listed, ${context}` }).toBeGreaterThanOrEqual(expectedTickets.size);
    const listed = await allTickets(third);
    expect(listed.length, context).toBe(expectedTickets.size);
    expect(new Set(listed), context).toEqual(expectedTickets);
    const journalOnly = new Set([...inboundXIds(leftByFirst), ...inboundXIds(leftBySecond)]);
    for (const post of acknowledged) {
      const view = await api<{ messages: { xId: string }[] }>(third, `/tickets/${ticketOf(post)}`);
      const label = `${post.xId}${journalOnly.has(post.xId) ? ' (only in the journal at a kill)' : ''}, ${context}`;
      expect(view.status, label).toBe(200);
      // Exactly one message: the one delivered, however often it was queued again after a crash.
      expect(view.json.messages.map((m) => m.xId), label).toEqual([post.xId]);
    }

    // Every ticket reaches the helpdesk; an event may repeat (same webhook-id, same body) only across a kill -9.
    const createdIds = new Set([...expectedTickets].map((id) => `evt_${id}_1`));
    await helpdesk.waitFor((events) => [...createdIds].every((id) => events.some((e) => e.webhookId === id && e.status === 204)), POLL.timeout);
    const created = helpdesk.events.filter((e) => e.type === 'ticket.created');
    expect(new Set(created.map((e) => e.webhookId)), context).toEqual(createdIds);
    for (const id of createdIds) {
      const copies = created.filter((e) => e.webhookId === id);
      expect(new Set(copies.map((e) => e.body)).size, `${id}, ${context}`).toBe(1);
    }

    // A graceful stop leaves nothing running: no java on this data dir.
    const thirdJava = javaPid();
    expect(await stopGracefully(third)).toBe(0);
    expect(javaPid()).toBeUndefined();
    if (thirdJava !== undefined) expect(javaArgs(thirdJava)).toBeUndefined();
  }, 420_000);

  it('after a graceful stop, a restart re-sends nothing: the stream checkpoint and the queue journal are up to date', async () => {
    reportOnFailure(() => 'After a graceful stop.');
    const before = helpdesk.events.length;
    const runner = await startRunner();
    // The start compacted the journal to what was never finished, and re-sent it: nothing, after a graceful stop.
    expect(runner.requeued).toBe(0);
    expect(await readFile(journalFile(), 'utf8')).toBe('');
    const listed = await allTickets(runner);
    expect(listed.length).toBe(new Set(acknowledged.map(ticketOf)).size);
    // A stream re-read from before the checkpoint would show up ahead of anything new: the stream source hands notify
    // one batch at a time, in stream order, and a batch is delivered whole before the next is read. So once the
    // event of a second new post (written after the first one's event was delivered, hence in a later batch) has
    // arrived, every older record the restart re-read has arrived too.
    const probes = [newPost(), newPost()];
    for (const probe of probes) {
      expect(await deliver(runner, probe)).toBe(200);
      await helpdesk.waitFor((events) => events.some((e) => e.webhookId === createdEventOf(probe) && e.status === 204), POLL.timeout);
    }
    expect(helpdesk.events.slice(before).map((e) => e.webhookId)).toEqual(probes.map(createdEventOf));
    expect(await stopGracefully(runner)).toBe(0);
  }, 240_000);
});
