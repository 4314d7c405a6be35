// What the ops CLIs (`npm run x`, `npm run dlq`) share: argv parsing, the usage error, exit codes and the output sink
// their commands write to. Commands never touch process.argv, process.exit or the console directly, so tests run
// them as functions and read what a person would have seen.
import { parseArgs } from 'node:util';

/** 0: done; 1: the command ran and failed (X refused, AWS refused, something is wrong); 2: the command line is wrong. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;
/** One of EXIT's values. */
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The command line cannot work as given; the message says what to type instead. Exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The command ran and could not do its job (X or AWS refused, nothing to act on); the message says why. Exit code 1. */
export class CommandFailure extends Error {
  override readonly name = 'CommandFailure';
}

/** Where a command talks to the person running it: `line` for results (stdout), `error` for problems (stderr). */
export type Output = {
  line(text?: string): void;
  error(text: string): void;
};

/** The terminal. */
export const consoleOutput: Output = {
  line: (text = '') => console.log(text),
  error: (text) => console.error(text),
};

/** An Output that keeps what was written, for tests (and for nothing else). */
export function memoryOutput(): Output & { lines: string[]; errors: string[]; text(): string } {
  const lines: string[] = [];
  const errors: string[] = [];
  return {
    lines,
    errors,
    line: (text = '') => lines.push(text),
    error: (text) => errors.push(text),
    text: () => [...lines, ...errors].join('\n'),
  };
}

/** A parsed command line: the command word, its positional arguments, and the options given. */
export type CommandLine = {
  command: string | undefined;
  args: string[];
  /** `--name value` options that were given. */
  values: Record<string, string>;
  /** `--name` switches that were given. */
  flags: Set<string>;
};

/**
 * Parses argv (without node and the script) against the options a CLI knows: `strings` take a value, `flags` do not;
 * `--help`/`-h` is always known. Options may come before or after the command. Throws UsageError for an unknown
 * option or a missing value.
 */
export function parseCommandLine(argv: string[], spec: { strings: readonly string[]; flags?: readonly string[] }): CommandLine {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = { help: { type: 'boolean', short: 'h' } };
  for (const name of spec.strings) options[name] = { type: 'string' };
  for (const name of spec.flags ?? []) options[name] = { type: 'boolean' };
  let parsed: { values: Record<string, string | boolean | (string | boolean)[] | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    // node:util's own wording is clear ("Unknown option '--bogus'"); keep its first sentence only.
    const message = error instanceof Error ? error.message.split('. ')[0] : String(error);
    throw new UsageError(message ?? 'invalid command line');
  }
  const values: Record<string, string> = {};
  const flags = new Set<string>();
  for (const [name, value] of Object.entries(parsed.values)) {
    if (typeof value === 'string') values[name] = value;
    else if (value === true) flags.add(name);
  }
  const [command, ...args] = parsed.positionals;
  return { command, args, values, flags };
}

/** Throws UsageError when the command line has options or more positionals than `command` takes. */
export function expectOnly(
  line: CommandLine,
  allowed: { options?: readonly string[]; maxArgs: number; usage: string },
): void {
  const given = [...Object.keys(line.values), ...[...line.flags].filter((f) => f !== 'help')];
  const stray = given.find((name) => !(allowed.options ?? []).includes(name));
  if (stray) throw new UsageError(`--${stray} does not apply to "${line.command}". Usage: ${allowed.usage}`);
  if (line.args.length > allowed.maxArgs) {
    throw new UsageError(`unexpected argument "${line.args[allowed.maxArgs]}". Usage: ${allowed.usage}`);
  }
}

/** A whole number option within [min, max], or undefined when absent. Throws UsageError naming the option. */
export function intOption(line: CommandLine, name: string, range: { min: number; max: number; why?: string }): number | undefined {
  const raw = line.values[name];
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < range.min || value > range.max) {
    const why = range.why ? `${range.why}: ` : '';
    throw new UsageError(`${why}--${name} must be a whole number from ${range.min} to ${range.max}, got "${raw}"`);
  }
  return value;
}

/** The brand slug rule of shared/config.ts and infra/brand-config.ts. */
export const BRAND_SLUG = /^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/;

/** Checks a `--brand` value; throws UsageError when it cannot be a brand. */
export function checkedBrand(brand: string): string {
  if (!BRAND_SLUG.test(brand)) throw new UsageError(`--brand must be a brand slug such as "acme" ([a-z0-9-]), got "${brand}"`);
  return brand;
}

/**
 * Reports a usage error and returns the usage exit code. A wrong command word gets the whole usage; a wrong detail
 * of a known command gets one line and a pointer to help, not a screenful.
 */
export function usageFailure(
  error: UsageError,
  argv: string[],
  cli: { knownCommands: ReadonlySet<string>; usage: string; helpHint: string },
  out: Output,
): ExitCode {
  const known = argv.some((a) => cli.knownCommands.has(a));
  out.error(known ? `${error.message}\n(${cli.helpHint})` : `${error.message}\n\n${cli.usage}`);
  return EXIT.usage;
}
