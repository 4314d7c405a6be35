// The X ops CLI as a function: argv in, exit code out. It checks the command line before anything else (so a typo
// costs no secret read and no X request), finds the credentials (x-credentials.ts), builds the X ops client and runs
// one command of x-commands.ts, printing errors as what to do. x-cli.ts is only its terminal entry point.
import { ConfigError, PermanentError, RetryableError } from '../../shared/errors';
import { createXOpsClient, type XOpsClient, type XClientOptions } from '../../shared/x/x-client';
import {
  checkedBrand,
  CommandFailure,
  EXIT,
  expectOnly,
  intOption,
  parseCommandLine,
  UsageError,
  usageFailure,
  type CommandLine,
  type ExitCode,
  type Output,
} from './cli-support';
import {
  BOT_EVENT_TYPES,
  deleteCommand,
  explainXError,
  REPLAY_BOUNDS,
  REPLAY_TO_MIN_AGE_MINUTES,
  REPLAY_WINDOW_HOURS,
  registerCommand,
  replayCommand,
  replayWindow,
  revalidateCommand,
  statusCommand,
  subscribeCommand,
  unsubscribeCommand,
  type XCommandContext,
} from './x-commands';
import { resolveXSettings, type BrandLookup, type SecretReader } from './x-credentials';
import { checkUsageLine, runUsageCommand, USAGE_COMMAND_HELP, type UsageCommandDeps } from './usage-command';
import { checkXChatLine, runXChatCommand, XCHAT_COMMANDS, XCHAT_USAGE, type XChatProgramDeps } from './xchat-commands';

/** The help text of `npm run x`. */
export const X_USAGE = `Usage: npm run x -- [--brand <brand>] <command>

Commands:
  register <webhook-url>          register the stack's WebhookUrl output with X (X checks its CRC answer first)
  subscribe [--webhook-id ID] [--events a,b]
                                  subscribe the bot's events to the webhook (default: ${BOT_EVENT_TYPES.map((e) => e.eventType).join(', ')})
  status                          webhooks with X's valid flag, subscriptions, and what needs doing (exit 1 if anything)
  revalidate [webhook-id]         ask X to CRC-check the webhook again (re-enables delivery once it passes)
  replay [--hours N | --from ISO [--to ISO]] [--webhook-id ID]
                                  ask X to re-deliver the last N hours (default and most: ${REPLAY_WINDOW_HOURS}, all X keeps),
                                  up to ${REPLAY_TO_MIN_AGE_MINUTES} minutes ago: ${REPLAY_BOUNDS}
  delete <webhook-id>             delete a webhook
  unsubscribe <subscription-id>   delete one X Activity subscription
${XCHAT_USAGE}
${USAGE_COMMAND_HELP}
  help                            this text

Credentials: X_API_KEY, X_API_SECRET (the X app's consumer key and secret), X_ACCESS_TOKEN, X_ACCESS_TOKEN_SECRET
(the bot account's OAuth 1.0a token) and X_BOT_USER_ID from the environment; or, with --brand <brand>, from the
brand's Secrets Manager secret support-bridge/<brand> (AWS credentials from AWS_PROFILE etc.) and the bot id from
infra/brands/<brand>.json. X_API_BASE_URL points the CLI at another X API origin (a loopback fake).
status, replay and unsubscribe call endpoints X opens only to the app: the CLI asks X for the app-only Bearer token
with the consumer key and secret (POST /oauth2/token) once per run; the other calls are signed as the bot.
Exit codes: 0 done, 1 failed (or status found a problem), 2 wrong command line.`;

/** What runXProgram needs from outside; every field but `env` and `out` has a real default. */
export type XProgramDeps = {
  env: Record<string, string | undefined>;
  out: Output;
  now?: () => Date;
  readSecret?: SecretReader;
  lookupBrand?: BrandLookup;
  /** Builds the X ops client; tests may wrap the real one. */
  createClient?: (options: XClientOptions) => XOpsClient;
  /** Per-request timeout towards X (ms). */
  timeoutMs?: number;
  /** What chat-setup / chat-status reach besides X's ops (xchat-commands.ts); real defaults. */
  xchat?: Pick<XChatProgramDeps, 'writeSecret' | 'createChatClient' | 'juiceboxModule'>;
  /** What `usage` reads (usage-command.ts); real defaults. */
  usage?: Pick<UsageCommandDeps, 'lookupBrand' | 'counterFor'>;
};

type Plan = (ctx: XCommandContext) => Promise<ExitCode>;

const KNOWN_COMMANDS = new Set(['register', 'subscribe', 'status', 'revalidate', 'replay', 'delete', 'unsubscribe', 'usage', 'help', ...XCHAT_COMMANDS]);
const STRING_OPTIONS = ['brand', 'webhook-id', 'hours', 'from', 'to', 'events', 'table', 'month'] as const;

/** Runs `npm run x -- <argv>`; resolves with the exit code. Never throws for anything X, AWS or the user did. */
export async function runXProgram(argv: string[], deps: XProgramDeps): Promise<ExitCode> {
  const { out } = deps;
  let line: CommandLine;
  let plan: Plan | 'help' | 'usage';
  try {
    line = parseCommandLine(argv, { strings: STRING_OPTIONS, flags: ['force', 'unlock'] });
    plan = line.command === 'usage' && !line.flags.has('help')
      ? (checkUsageLine(line), 'usage')
      : XCHAT_COMMANDS.has(line.command ?? '')
      ? checkXChatLine(line, () => runXChatCommand(line, { env: deps.env, out, readSecret: deps.readSecret, lookupBrand: deps.lookupBrand, ...deps.xchat }))
      : planCommand(line, deps.now ?? (() => new Date()));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    return usageFailure(error, argv, { knownCommands: KNOWN_COMMANDS, usage: X_USAGE, helpHint: 'npm run x -- help shows every command' }, out);
  }
  if (plan === 'help') {
    out.line(X_USAGE);
    return EXIT.ok;
  }

  const brand = line.values.brand;
  const prefix = `npm run x --${brand ? ` --brand ${brand}` : ''}`;
  try {
    // usage reads the brand's table, not X: no X credentials needed.
    if (plan === 'usage') return await runUsageCommand(line, { env: deps.env, out, ...(deps.now ? { now: deps.now } : {}), ...deps.usage });
    const settings = await resolveXSettings({ env: deps.env, brand, readSecret: deps.readSecret, lookupBrand: deps.lookupBrand });
    const x = (deps.createClient ?? createXOpsClient)({
      ...settings.credentials,
      apiBaseUrl: settings.apiBaseUrl,
      ...(deps.timeoutMs === undefined ? {} : { timeoutMs: deps.timeoutMs }),
    });
    return await plan({
      x,
      out,
      now: deps.now,
      botUserId: settings.botUserId,
      brand: settings.brand,
      cli: prefix,
      apiBaseUrl: settings.apiBaseUrl,
      credentialsSource: settings.source,
    });
  } catch (error) {
    if (error instanceof UsageError) {
      out.error(error.message);
      return EXIT.usage;
    }
    if (
      error instanceof ConfigError ||
      error instanceof CommandFailure ||
      error instanceof PermanentError ||
      error instanceof RetryableError
    ) {
      for (const text of explainXError(error, { cli: prefix })) out.error(text);
      return EXIT.failure;
    }
    // A bug: say so plainly, without a stack trace a person cannot act on (set DEBUG=1 to see it).
    out.error(`unexpected error: ${error instanceof Error ? error.message : String(error)}`);
    if (deps.env.DEBUG && error instanceof Error && error.stack) out.error(error.stack);
    return EXIT.failure;
  }
}

/** Checks the command line and returns what to run; throws UsageError. Nothing is read or sent before this passes. */
function planCommand(line: CommandLine, now: () => Date): Plan | 'help' {
  if (line.values.brand !== undefined) checkedBrand(line.values.brand);
  if (line.flags.has('help') || line.command === 'help') return 'help';
  const arg = (usage: string, what: string) => {
    const value = line.args[0];
    if (value === undefined) throw new UsageError(`missing ${what}. Usage: ${usage}`);
    return value;
  };
  // X's ids are digits; anything else is a typo (or a URL pasted in the wrong place), not something to send to X.
  const xId = <T extends string | undefined>(value: T, what: string): T => {
    if (value !== undefined && !/^\d{1,20}$/.test(value)) throw new UsageError(`${what} must be a numeric X id, got "${value}"`);
    return value;
  };
  const usageOf = (rest: string) => `npm run x -- [--brand <brand>] ${line.command} ${rest}`.trim();
  switch (line.command) {
    case 'register': {
      const usage = usageOf('<webhook-url>');
      expectOnly(line, { options: ['brand'], maxArgs: 1, usage });
      const url = arg(usage, 'the webhook URL');
      return (ctx) => registerCommand(ctx, url);
    }
    case 'subscribe': {
      expectOnly(line, { options: ['brand', 'webhook-id', 'events'], maxArgs: 0, usage: usageOf('[--webhook-id ID] [--events a,b]') });
      const webhookId = xId(line.values['webhook-id'], '--webhook-id');
      const events = line.values.events?.split(',').map((e) => e.trim()).filter(Boolean);
      if (events !== undefined && events.length === 0) throw new UsageError('--events needs at least one event type');
      return (ctx) => subscribeCommand(ctx, { webhookId, eventTypes: events });
    }
    case 'status':
      expectOnly(line, { options: ['brand'], maxArgs: 0, usage: usageOf('') });
      return (ctx) => statusCommand(ctx);
    case 'revalidate': {
      expectOnly(line, { options: ['brand'], maxArgs: 1, usage: usageOf('[webhook-id]') });
      const webhookId = xId(line.args[0], 'the webhook id');
      return (ctx) => revalidateCommand(ctx, webhookId);
    }
    case 'replay': {
      expectOnly(line, {
        options: ['brand', 'webhook-id', 'hours', 'from', 'to'],
        maxArgs: 0,
        usage: usageOf('[--hours N | --from ISO [--to ISO]] [--webhook-id ID]'),
      });
      // The 24-hour limit is X's; refuse more here, before any request, with the reason.
      const why = `X keeps only the last ${REPLAY_WINDOW_HOURS} hours of deliveries`;
      const hours = intOption(line, 'hours', { min: 1, max: REPLAY_WINDOW_HOURS, why });
      const options = { webhookId: xId(line.values['webhook-id'], '--webhook-id'), hours, from: line.values.from, to: line.values.to };
      replayWindow(options, now());
      return (ctx) => replayCommand(ctx, options);
    }
    case 'delete': {
      const usage = usageOf('<webhook-id>');
      expectOnly(line, { options: ['brand'], maxArgs: 1, usage });
      const webhookId = xId(arg(usage, 'the webhook id'), 'the webhook id');
      return (ctx) => deleteCommand(ctx, webhookId);
    }
    case 'unsubscribe': {
      const usage = usageOf('<subscription-id>');
      expectOnly(line, { options: ['brand'], maxArgs: 1, usage });
      const subscriptionId = xId(arg(usage, 'the subscription id'), 'the subscription id');
      return (ctx) => unsubscribeCommand(ctx, subscriptionId);
    }
    case undefined:
      throw new UsageError('no command given');
    default:
      throw new UsageError(`unknown command "${line.command}"`);
  }
}
