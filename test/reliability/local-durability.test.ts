// Local mode survives `kill -9`. The real `npm start` runner (infra/local/main.ts, through tsx) runs as a child process
// on a temporary DATA_DIR; the test plays X (signed webhooks) and the helpdesk (a loopback receiver), kills the runner's
// whole process group with SIGKILL right after it answered 200 and at a random moment under load, starts it again on
// the same DATA_DIR, and checks through the helpdesk API that every delivery answered 200 ends as exactly one message
// in exactly one ticket, and that every ticket reached the helpdesk.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../infra/local/services';
import { signWebhookBody } from '../../shared/x/signature';
import { createHelpdeskReceiver, type HelpdeskReceiver } from '../support/helpdesk-receiver';
import { aaaMention, nextXId, xaaDm, xaaMention, type XUserRef } from '../support/x-payloads';
import { seededRandom } from './support/faults';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const TSX_CLI = join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
const SEED = Number(process.env.FAULT_SEED ?? Date.now() % 1_000_000);
const SECRETS = {
  X_API_SECRET: `durable-${randomBytes(8).toString('hex')}`,
  HELPDESK_WEBHOOK_SECRET: `whsec_${randomBytes(32).toString('base64')}`,
  HELPDESK_API_TOKEN: `durable-token-${randomBytes(8).toString('hex')}`,
};

type Runner = { child: ChildProcess; output: string[]; exited: Promise<number | null>; url: string };

let dataDir: string;
let port: number;
let helpdesk: HelpdeskReceiver;
const running = new Set<Runner>();

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'bridge-durable-'));
  port = await freePort();
  helpdesk = createHelpdeskReceiver(SECRETS.HELPDESK_WEBHOOK_SECRET);
  await helpdesk.start();
});

afterAll(async () => {
  // Whatever happened, nothing this test started keeps running: the runners' groups, then a java they left.
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

/** A live, non-zombie process's arguments, or undefined. */
function javaArgs(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (/^\S+ \(.*\) [ZX]/.test(stat)) return undefined;
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return undefined;
  }
}

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
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    output.push(...chunk.toString('utf8').split('\n'));
    if (output.length > 400) output.splice(0, output.length - 400);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const runner: Runner = { child, output, exited, url: `http://127.0.0.1:${port}` };
  running.add(runner);
  void exited.then(() => running.delete(runner));
  const deadline = Date.now() + 90_000;
  let gone = false;
  void exited.then(() => (gone = true));
  for (;;) {
    if (gone) throw new Error(`the runner exited during start:\n${output.slice(-40).join('\n')}`);
    try {
      if ((await fetch(`${runner.url}/healthz`, { signal: AbortSignal.timeout(1000) })).status === 200) return runner;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`the runner did not answer /healthz:\n${output.slice(-40).join('\n')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function kill9(runner: Runner): Promise<void> {
  killGroup(runner, 'SIGKILL');
  await runner.exited;
}

async function stopGracefully(runner: Runner): Promise<number | null> {
  process.kill(runner.child.pid!, 'SIGTERM');
  const code = await Promise.race([runner.exited, new Promise<'late'>((r) => setTimeout(() => r('late'), 30_000))]);
  if (code === 'late') {
    killGroup(runner, 'SIGKILL');
    throw new Error(`the runner did not stop within 30 s:\n${runner.output.slice(-40).join('\n')}`);
  }
  return code;
}

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

describe('local mode survives kill -9', () => {
  const acknowledged: Post[] = [];
  const unanswered: Post[] = [];

  it('deliveries answered 200 right before kill -9, and more killed at a random moment under load, are all there after a restart, once each', async () => {
    // Run 1: a few deliveries, and kill -9 the moment the last one is acknowledged.
    const first = await startRunner();
    const firstJava = javaPid();
    expect(firstJava).toBeDefined();
    for (const post of Array.from({ length: 12 }, newPost)) {
      const status = await deliver(first, post);
      expect(status).toBe(200);
      acknowledged.push(post);
    }
    await kill9(first);
    // Its java was detached (so Ctrl-C does not reach it mid-batch): it outlived the runner on the same data dir.
    expect(javaArgs(firstJava!)).toContain(join(dataDir, 'dynamodb'));

    // Run 2: the start stops that java before starting its own, then takes a burst and is killed in the middle of it.
    const second = await startRunner();
    expect(javaArgs(firstJava!)).toBeUndefined();
    const random = seededRandom(SEED);
    const burst = Array.from({ length: 40 }, newPost);
    const killAfter = 8 + Math.floor(random() * 20);
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
    expect(answered).toBeGreaterThanOrEqual(killAfter);

    // Run 3: X retries what was never acknowledged (it would, for minutes), and more traffic comes in.
    const third = await startRunner();
    const later = Array.from({ length: 8 }, newPost);
    for (const post of [...unanswered, ...later]) {
      expect(await deliver(third, post)).toBe(200);
      acknowledged.push(post);
    }
    const expectedTickets = new Set(acknowledged.map(ticketOf));
    const deadline = Date.now() + 60_000;
    let listed: string[] = [];
    while (Date.now() < deadline) {
      listed = await allTickets(third);
      if (expectedTickets.size <= listed.length) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const context = `seed ${SEED}, killed after ${killAfter} answers; runner output:\n${third.output.slice(-30).join('\n')}`;
    expect(listed.length, context).toBe(expectedTickets.size);
    expect(new Set(listed), context).toEqual(expectedTickets);
    for (const post of acknowledged) {
      const view = await api<{ messages: { xId: string }[] }>(third, `/tickets/${ticketOf(post)}`);
      expect(view.status, post.xId).toBe(200);
      // Exactly one message: the one delivered, however often it was queued again after a crash.
      expect(view.json.messages.map((m) => m.xId), post.xId).toEqual([post.xId]);
    }

    // Every ticket reaches the helpdesk; an event may repeat (same webhook-id, same body) only across a kill -9.
    const createdIds = new Set([...expectedTickets].map((id) => `evt_${id}_1`));
    await helpdesk.waitFor((events) => [...createdIds].every((id) => events.some((e) => e.webhookId === id && e.status === 204)), 30_000);
    const created = helpdesk.events.filter((e) => e.type === 'ticket.created');
    expect(new Set(created.map((e) => e.webhookId))).toEqual(createdIds);
    for (const id of createdIds) {
      const copies = created.filter((e) => e.webhookId === id);
      expect(new Set(copies.map((e) => e.body)).size, id).toBe(1);
    }

    // A graceful stop leaves nothing running: no java on this data dir.
    const thirdJava = javaPid();
    expect(await stopGracefully(third)).toBe(0);
    expect(javaPid()).toBeUndefined();
    if (thirdJava !== undefined) expect(javaArgs(thirdJava)).toBeUndefined();
  }, 240_000);

  it('after a graceful stop, a restart re-sends nothing: the stream checkpoint and the queue journal are up to date', async () => {
    const before = helpdesk.events.length;
    const runner = await startRunner();
    try {
      // The start compacted the journal to what was never finished: nothing, after a graceful stop.
      const journal = await readFile(join(dataDir, 'queues', 'support-bridge-durable.jsonl'), 'utf8');
      expect(journal).toBe('');
      const listed = await allTickets(runner);
      expect(listed.length).toBe(new Set(acknowledged.map(ticketOf)).size);
      // Give a wrongly re-read stream or re-sent queue message time to show up.
      await new Promise((r) => setTimeout(r, 2500));
      expect(helpdesk.events.slice(before).map((e) => e.webhookId)).toEqual([]);
      expect(runner.output.join('\n')).not.toMatch(/re-queued now/);
    } finally {
      expect(await stopGracefully(runner)).toBe(0);
    }
  }, 120_000);
});
