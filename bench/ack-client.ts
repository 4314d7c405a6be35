// The X side of webhookAckMs, in a process of its own (forked by webhook-ack.ts): X's delivery servers are not in
// the bridge's process, so their CPU (building, signing and sending 32 requests at a time) must not queue in front
// of the function being timed. Builds single-event bodies, signs them as X does, POSTs them on keep-alive
// connections and reports the latencies to the parent over IPC.
import { Agent, request } from 'node:http';
import { signedDelivery, xaaMention } from '../test/support/x-payloads';

export type AckClientRequest = {
  url: string;
  secret: string;
  warmup: number;
  singles: number;
  samples: number;
  concurrency: number;
};

export type AckClientMessage =
  | { phase: 'concurrent-start' }
  | { phase: 'done'; single: number[]; latencies: number[]; seconds: number; statuses: Record<string, number> }
  | { phase: 'failed'; error: string };

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

function post(url: string, rawBody: Buffer, headers: Record<string, string>): Promise<number> {
  return new Promise((resolveStatus, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': String(rawBody.length) }, timeout: 30_000 }, (res) => {
      res.resume();
      res.once('end', () => resolveStatus(res.statusCode ?? 0));
      res.once('error', reject);
    });
    req.once('timeout', () => req.destroy(new Error('POST timed out after 30 s')));
    req.once('error', reject);
    req.end(rawBody);
  });
}

async function run(job: AckClientRequest): Promise<void> {
  const total = job.warmup + job.singles + job.samples;
  // A new customer per delivery, built ahead so only signing and sending happen while the clock runs.
  const bodies = Array.from({ length: total }, (_, i) =>
    xaaMention({
      author: { id: String(7_100_000_000_000 + i), username: `ack_${i}`, name: `Ack ${i}` },
      createdAt: new Date(),
      text: '@AcmeSupport my order #A-1234 has not arrived',
    }),
  );
  const statuses: Record<string, number> = {};
  const send = async (i: number) => {
    const delivery = signedDelivery(bodies[i], job.secret);
    const t0 = performance.now();
    const status = await post(job.url, delivery.rawBody, delivery.headers);
    statuses[status] = (statuses[status] ?? 0) + 1;
    return performance.now() - t0;
  };
  const loop = async (from: number, count: number, concurrency: number, into?: number[]) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(concurrency, count) }, async () => {
        while (next < count) {
          const ms = await send(from + next++);
          into?.push(ms);
        }
      }),
    );
  };
  await loop(0, job.warmup, job.concurrency);
  const single: number[] = [];
  await loop(job.warmup, job.singles, 1, single);
  process.send?.({ phase: 'concurrent-start' } satisfies AckClientMessage);
  const latencies: number[] = [];
  const started = performance.now();
  await loop(job.warmup + job.singles, job.samples, job.concurrency, latencies);
  const seconds = (performance.now() - started) / 1000;
  process.send?.({ phase: 'done', single, latencies, seconds, statuses } satisfies AckClientMessage);
}

process.once('message', (job: AckClientRequest) => {
  run(job)
    .catch((error: unknown) => process.send?.({ phase: 'failed', error: String((error as Error).message ?? error) } satisfies AckClientMessage))
    .finally(() => {
      agent.destroy();
      process.disconnect?.();
    });
});
