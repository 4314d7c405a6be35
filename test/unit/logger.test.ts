// Log lines carry the function and brand of the invocation they belong to, also when one process serves several
// invocations of several functions at once (the local runner does).
import { afterEach, beforeEach, expect, it } from 'vitest';
import { instrumented, logger } from '../../shared/logger';

// Powertools writes INFO to stdout and WARN and ERROR to stderr.
const lines: string[] = [];
const writes = { stdout: process.stdout.write.bind(process.stdout), stderr: process.stderr.write.bind(process.stderr) };
const keep = ((chunk: unknown) => {
  lines.push(String(chunk));
  return true;
}) as typeof process.stdout.write;

beforeEach(() => {
  lines.length = 0;
  process.stdout.write = keep;
  process.stderr.write = keep;
  logger.setLogLevel('INFO');
});

afterEach(() => {
  process.stdout.write = writes.stdout;
  process.stderr.write = writes.stderr;
  logger.setLogLevel('SILENT');
});

/** A promise the test resolves itself, so two invocations interleave in a chosen order rather than by timers. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open = () => undefined as void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

it('concurrent invocations of different functions each log under their own name', async () => {
  // Both invocations are in flight at once; notify logs first, then ingest, each after awaiting.
  const ingestMayLog = gate();
  const notifyMayLog = gate();
  const both = Promise.all([
    instrumented('ingest', 'acme', async () => {
      await ingestMayLog.opened;
      logger.info('ingest line', { xId: '1' });
    }),
    instrumented('notify', 'acme', async () => {
      await notifyMayLog.opened;
      logger.error('notify line', { error: new Error('helpdesk down') });
      ingestMayLog.open();
    }),
  ]);
  notifyMayLog.open();
  await both;
  logger.warn('between invocations');
  const parsed = lines.flatMap((l) => l.split('\n')).filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(parsed.map((l) => [l.message, l.fn, l.brand])).toEqual([
    ['notify line', 'notify', 'acme'],
    ['ingest line', 'ingest', 'acme'],
    ['between invocations', undefined, undefined],
  ]);
  expect(parsed[0]!.error).toMatchObject({ name: 'Error', message: 'helpdesk down' });
  expect(parsed[1]!.xId).toBe('1');
});
