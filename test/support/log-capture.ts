// Every line a test's process writes, kept in memory instead of printed: Powertools writes to process.stdout through
// its own Console, the local runner and libraries use console.*. Both are intercepted until stop().
export type LogCapture = {
  /** Everything written so far, in order, chunks as written. */
  readonly chunks: string[];
  /** Everything written so far as one text. */
  text(): string;
  /** Restores stdout, stderr and the console. */
  stop(): void;
};

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Starts capturing; an Error handed to the console is kept with its name, message, stack and own properties. */
export function captureLogs(): LogCapture {
  const chunks: string[] = [];
  const originals = {
    stdout: process.stdout.write.bind(process.stdout),
    stderr: process.stderr.write.bind(process.stderr),
    console: { ...console },
  };
  const keep = (chunk: unknown) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : String(chunk));
    return true;
  };
  process.stdout.write = ((chunk: unknown) => keep(chunk)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: unknown) => keep(chunk)) as typeof process.stderr.write;
  for (const method of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) {
    // Replacing the console is the point: every line must be searched.
    console[method] = (...args: unknown[]) => {
      keep(args.map((a) => (a instanceof Error ? `${a.name}: ${a.message}\n${a.stack ?? ''} ${safeJson(a)}` : typeof a === 'string' ? a : safeJson(a))).join(' ') + '\n');
    };
  }
  return {
    chunks,
    text: () => chunks.join(''),
    stop() {
      process.stdout.write = originals.stdout;
      process.stderr.write = originals.stderr;
      Object.assign(console, originals.console);
    },
  };
}
