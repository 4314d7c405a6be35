// Imported first by bench/run.ts, before any function module loads: the functions' Powertools logger and metrics read
// their settings once, at module scope.
//
// The functions log as they do on Lambda (INFO, one JSON line per item, EMF metrics per invocation), so the CPU that
// costs is inside every figure. On Lambda those bytes go to the runtime's log pipe; here they would bury the report,
// so stdout is gated while a measurement runs: the lines are built, then dropped. Progress goes to stderr.
process.env.POWERTOOLS_LOG_LEVEL ??= 'INFO';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'false';
// The SDK's "Node 20 is ending" notice is about this machine, not about the figures.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const realWrite = process.stdout.write.bind(process.stdout);
let dropped = 0;

/** Drops everything written to stdout until the returned function is called; returns how many writes were dropped. */
export function gateStdout(): () => number {
  dropped = 0;
  process.stdout.write = ((..._args: unknown[]) => {
    dropped++;
    // Tell the writer the chunk is handled, as a fast pipe would.
    const callback = _args.find((a) => typeof a === 'function') as (() => void) | undefined;
    callback?.();
    return true;
  }) as typeof process.stdout.write;
  return () => {
    process.stdout.write = realWrite;
    return dropped;
  };
}

/** One progress line for the person watching (stderr, so stdout stays the report). */
export function progress(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}
