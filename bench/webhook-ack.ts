// webhookAckMs: signed POST → 200, 32 deliveries in flight, one event per body.
// - Only the webhook function is wired (the inbound queue simply fills): on AWS the ingest and notify functions run
//   on other machines than the webhook's and must not compete with it for this machine's two cores.
// - The sender is a separate process (bench/ack-client.ts), as X's servers are: its CPU must not queue in front of
//   the function being timed. What stays in this process is what the local runner puts there: the API Gateway
//   stand-in, the function, and the in-process SQS emulator.
// - A lone delivery (nothing else in flight) is timed too: the service time each of Lambda's concurrent execution
//   environments would see, where 32 deliveries do not share one event loop.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LocalBridge } from '../infra/local/bridge';
import type { AckClientMessage, AckClientRequest } from './ack-client';
import { latencySummary, round } from './stats';
import { realFunctions, startBenchBridge } from './x-traffic';

export const ACK_CONCURRENCY = 32;

export type WebhookAckResult = {
  webhookAckMs: { p50: number; p99: number };
  samples: number;
  maxMs: number;
  deliveriesPerSec: number;
  /** The same POST with nothing else in flight. */
  single: { p50: number; p99: number };
  /** CPU the bridge's process spent per delivery at 32 in flight (API Gateway stand-in, function, SQS emulator). */
  cpuMsPerDelivery: number;
};

const CLIENT = fileURLToPath(new URL('./ack-client.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Warms up, times `singles` lone deliveries, then `samples` deliveries at ACK_CONCURRENCY in flight. */
export async function measureWebhookAck(
  endpoints: { dynamodbEndpoint: string; sqsEndpoint: string },
  options: { warmup?: number; samples?: number; singles?: number } = {},
): Promise<WebhookAckResult> {
  const job: Omit<AckClientRequest, 'url' | 'secret'> = {
    warmup: options.warmup ?? 256,
    singles: options.singles ?? 200,
    samples: options.samples ?? 1536,
    concurrency: ACK_CONCURRENCY,
  };
  const { webhook } = await realFunctions();
  const bridge: LocalBridge = await startBenchBridge({ endpoints, prefix: 'bench-ack', handlers: { webhook } });
  try {
    let cpu0: NodeJS.CpuUsage | undefined;
    let cpu: NodeJS.CpuUsage | undefined;
    const done = await new Promise<Extract<AckClientMessage, { phase: 'done' }>>((resolveDone, reject) => {
      // tsx runs the client's TypeScript; stdio is inherited for its errors only (it prints nothing else).
      const child = fork(CLIENT, [], { cwd: ROOT, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error('the ack client did not finish within 120 s'));
      }, 120_000);
      child.on('message', (message: AckClientMessage) => {
        if (message.phase === 'concurrent-start') cpu0 = process.cpuUsage();
        if (message.phase === 'done') {
          cpu = process.cpuUsage(cpu0);
          resolveDone(message);
        }
        if (message.phase === 'failed') reject(new Error(`ack client: ${message.error}`));
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        if (code !== 0) reject(new Error(`the ack client exited with ${code}`));
      });
      child.once('error', reject);
      child.send({ ...job, url: `${bridge.url}/x/webhook`, secret: bridge.config.x.apiSecret } satisfies AckClientRequest);
    });
    const refused = Object.entries(done.statuses).filter(([status]) => status !== '200');
    if (refused.length) throw new Error(`the webhook answered ${JSON.stringify(Object.fromEntries(refused))}`);
    return {
      webhookAckMs: latencySummary(done.latencies),
      samples: job.samples,
      maxMs: Math.round(Math.max(...done.latencies)),
      deliveriesPerSec: Math.round(job.samples / done.seconds),
      single: latencySummary(done.single),
      cpuMsPerDelivery: round(((cpu?.user ?? 0) + (cpu?.system ?? 0)) / 1000 / job.samples, 2),
    };
  } finally {
    await bridge.stop();
  }
}
