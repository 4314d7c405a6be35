// `npm run bench`: the Support Bridge's figures on this machine, against the local services on loopback. Prints a
// table and the details behind it, then, as the very last line of stdout, one JSON object with the fields.
// The same JSON goes to .bench/last.json. Progress goes to stderr. Everything started here is stopped here.
import { gateStdout, progress } from './bench-env';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measureBundles } from './bundles';
import { measureCapacity } from './capacity';
import { measureEndToEnd } from './end-to-end';
import { measureIngestThroughput } from './ingest-throughput';
import { startBenchServices, type BenchServices } from './local-services';
import { startLoadMeter } from './machine-load';
import { render, type Details } from './report';
import { measureSqsRequests } from './sqs-requests';
import { measureWebhookAck } from './webhook-ack';
import { closeTraffic } from './x-traffic';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
// The issue allows five minutes; a run that is still going after six has hung somewhere and is stopped.
const WATCHDOG_MS = 6 * 60 * 1000;

async function main(): Promise<void> {
  const started = performance.now();
  const foreignCores: Details['foreignCores'] = {};
  let services: BenchServices | undefined;
  const ungate = gateStdout();
  const watchdog = setTimeout(() => {
    ungate();
    console.error(`bench: still running after ${WATCHDOG_MS / 60_000} minutes; stopping`);
    void (services?.stop() ?? Promise.resolve()).finally(() => process.exit(1));
  }, WATCHDOG_MS);
  watchdog.unref();

  /** Runs one measurement with the load meter on, so a busy machine shows in the report. */
  const measure = async <T>(key: string, label: string, work: () => Promise<T>, pids: number[] = []): Promise<T> => {
    progress(`${label}…`);
    const meter = startLoadMeter(pids);
    const t0 = performance.now();
    const result = await work();
    foreignCores[key] = meter.foreignCores();
    progress(`${label}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    return result;
  };

  try {
    // Bundles first, before java starts: the import timings want a quiet machine.
    const bundles = await measure('bundles', 'bundling the six functions and timing fresh imports on Node 24 against their SDK floor', () => measureBundles());
    services = await measure('services', 'starting DynamoDB Local and the SQS emulator', () => startBenchServices());
    const { endpoints } = services;
    const pids = [services.dynamodb.pid];
    const ack = await measure('ack', 'webhook ack at 32 in flight', () => measureWebhookAck(endpoints), pids);
    // The burst also warms DynamoDB Local's JIT, which would otherwise land in the end-to-end tail.
    const sqs = await measure('sqs', 'SQS requests over a burst through the whole pipeline', () => measureSqsRequests(endpoints), pids);
    const capacity = await measure('capacity', 'capacity per new ticket and per duplicate', () => measureCapacity(endpoints), pids);
    const endToEnd = await measure('endToEnd', 'end to end at a steady rate', () => measureEndToEnd(endpoints), pids);
    const ingest = await measure('ingest', 'ingest throughput against the DynamoDB ceiling', () => measureIngestThroughput(endpoints), pids);
    await services.stop();
    closeTraffic();

    const details: Details = { ack, ingest, capacity, sqs, bundles, endToEnd, foreignCores, seconds: (performance.now() - started) / 1000 };
    const { text, json } = render(details);
    await mkdir(join(ROOT, '.bench'), { recursive: true });
    await writeFile(join(ROOT, '.bench', 'last.json'), `${json}\n`);
    await writeFile(join(ROOT, '.bench', 'last-details.json'), `${JSON.stringify(details, null, 2)}\n`);
    ungate();
    console.log(text);
    console.log(json);
  } finally {
    ungate();
    clearTimeout(watchdog);
    closeTraffic();
    await services?.stop();
  }
}

main().catch((error: unknown) => {
  console.error('bench failed:', error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
});
