// The DLQ CLI as a function: argv in, exit code out. It checks the command line, picks the brand and where its queues
// are (AWS in the brand's region, or a local emulator with --endpoint), builds the SQS client (and, for the stream
// failures redrive, the DynamoDB and DynamoDB Streams clients) and runs one command of dlq-commands.ts. dlq-cli.ts is
// only its terminal entry point.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { SQSClient } from '@aws-sdk/client-sqs';
import { LOCAL_AWS } from '../local/services';
import { loadBrandConfig } from '../brand-config';
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
import { deadLetterQueues, findDeadLetterQueue, listCommand, peekCommand, redriveCommand, type DlqContext } from './dlq-commands';

/** The help text of `npm run dlq`. */
export const DLQ_USAGE = `Usage: npm run dlq -- [--brand <brand>] [--endpoint URL] [--region R] <command>

Commands:
  list                       each dead-letter queue's approximate depth
  peek <queue> [--max N]     up to N (default 10, at most 100) messages: ids, receive counts, sent times, and what
                             identifies each (X id, ticket event webhook-id/type/ticket, reply id); never message text.
                             They stay in the queue.
  redrive <queue> [--max N]  move messages back to the queue they came from, bodies and attributes unchanged: all of
                             them with SQS's move task, or N one by one (also where the endpoint lacks the move task).
                             notify-stream-failures: rebuild the failed batches' events from the table stream (it
                             keeps records 24 hours) and queue them on notify-retry, with their original webhook-ids;
                             locally this needs --dynamodb-endpoint URL (the DynamoDB Local endpoint npm start prints)
  help                       this text

Queues: ${deadLetterQueues('<brand>').map((q) => q.label).join(', ')} (or the full names list prints).
Where: AWS in the brand's region (infra/brands/<brand>.json, or --region), with your AWS credentials (AWS_PROFILE...);
--endpoint URL targets a local SQS emulator instead: the one \`npm start\` prints (brand defaults to BRAND, then "demo").
Exit codes: 0 done, 1 failed, 2 wrong command line.`;

/** What runDlqProgram needs from outside; every field but `env` and `out` has a real default. */
export type DlqProgramDeps = {
  env: Record<string, string | undefined>;
  out: Output;
  /** Builds the SQS client; tests may wrap the real one. */
  createSqs?: (options: { endpoint?: string; region?: string }) => SQSClient;
  /** Builds the table stream and table clients for the stream failures redrive; tests may wrap the real ones. */
  createTables?: (options: { endpoint?: string; region?: string }) => NonNullable<DlqContext['tables']>;
  /** The brand file's region, or undefined without a file. */
  brandRegion?: (brand: string) => string | undefined;
  sleep?: (ms: number) => Promise<void>;
};

type Plan = (ctx: DlqContext) => Promise<ExitCode>;

const KNOWN_COMMANDS = new Set(['list', 'peek', 'redrive', 'help']);

/** Runs `npm run dlq -- <argv>`; resolves with the exit code. */
export async function runDlqProgram(argv: string[], deps: DlqProgramDeps): Promise<ExitCode> {
  const { out } = deps;
  let line: CommandLine;
  let plan: Plan | 'help';
  let brand: string;
  try {
    line = parseCommandLine(argv, { strings: ['brand', 'endpoint', 'region', 'max', 'dynamodb-endpoint'] });
    plan = planCommand(line);
    brand = plan === 'help' ? '' : pickBrand(line, deps.env);
    if (plan !== 'help' && line.args[0] !== undefined) {
      const dlq = findDeadLetterQueue(brand, line.args[0]);
      const local = line.values.endpoint !== undefined;
      if (line.command === 'redrive' && dlq.label === 'notify-stream-failures' && local && !line.values['dynamodb-endpoint']) {
        throw new UsageError(
          'redriving notify-stream-failures reads the table stream: locally, also pass --dynamodb-endpoint URL ' +
            '(the DynamoDB Local endpoint npm start prints)',
        );
      }
    }
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    return usageFailure(error, argv, { knownCommands: KNOWN_COMMANDS, usage: DLQ_USAGE, helpHint: 'npm run dlq -- help shows every command' }, out);
  }
  if (plan === 'help') {
    out.line(DLQ_USAGE);
    return EXIT.ok;
  }

  const endpoint = line.values.endpoint;
  const region = endpoint ? LOCAL_AWS.region : (line.values.region ?? (deps.brandRegion ?? brandFileRegion)(brand));
  const sqs = (deps.createSqs ?? createSqsClient)({ endpoint, region });
  // Only the stream failures redrive reads the table and its stream; locally they are at DynamoDB Local's endpoint.
  const dynamodbEndpoint = line.values['dynamodb-endpoint'];
  const tables =
    line.command === 'redrive' && (!endpoint || dynamodbEndpoint)
      ? (deps.createTables ?? createTableClients)({ endpoint: dynamodbEndpoint, region })
      : undefined;
  const ctx: DlqContext = {
    sqs,
    out,
    brand,
    where: endpoint ?? `AWS ${region ?? '(region from your AWS config)'}`,
    local: endpoint !== undefined,
    ...(tables ? { tables } : {}),
    ...(deps.sleep ? { sleep: deps.sleep } : {}),
  };
  try {
    return await plan(ctx);
  } catch (error) {
    if (error instanceof UsageError) {
      out.error(error.message);
      return EXIT.usage;
    }
    if (error instanceof CommandFailure) {
      out.error(error.message);
      return EXIT.failure;
    }
    // AWS's own errors name the cause (AccessDenied, a missing region, an unreachable endpoint): pass them on.
    const name = error instanceof Error ? error.name : 'Error';
    out.error(`${name}: ${error instanceof Error ? error.message : String(error)}`);
    if (!endpoint && region === undefined) {
      out.error(`(no region was given: pass --region, or add infra/brands/${brand}.json, or set AWS_REGION)`);
    }
    if (name === 'AccessDenied' || name === 'AccessDeniedException') {
      out.error(
        'Your AWS identity needs sqs:GetQueueUrl, GetQueueAttributes, ReceiveMessage, ChangeMessageVisibility and ' +
          'DeleteMessage on the DLQ, SendMessage on its source queue, and sqs:StartMessageMoveTask and ' +
          'ListMessageMoveTasks for a full redrive. Redriving notify-stream-failures also needs ' +
          'dynamodb:GetShardIterator and GetRecords on the table stream, dynamodb:GetItem on the table, and ' +
          'sqs:SendMessage on notify-retry.',
      );
    }
    return EXIT.failure;
  } finally {
    sqs.destroy();
    tables?.streams.destroy();
    tables?.dynamodb.destroy();
  }
}

function planCommand(line: CommandLine): Plan | 'help' {
  if (line.flags.has('help') || line.command === 'help') return 'help';
  if (line.values.endpoint !== undefined) checkedEndpoint(line.values.endpoint);
  const common = ['brand', 'endpoint', 'region'];
  const queueArg = (usage: string) => {
    const queue = line.args[0];
    if (queue === undefined) throw new UsageError(`missing the queue. Usage: ${usage}`);
    return queue;
  };
  switch (line.command) {
    case 'list':
      expectOnly(line, { options: common, maxArgs: 0, usage: 'npm run dlq -- [--brand B] list' });
      return async (ctx) => ((await listCommand(ctx)) ? EXIT.ok : EXIT.failure);
    case 'peek': {
      const usage = 'npm run dlq -- [--brand B] peek <queue> [--max N]';
      expectOnly(line, { options: [...common, 'max'], maxArgs: 1, usage });
      const queue = queueArg(usage);
      const max = intOption(line, 'max', { min: 1, max: 100 });
      return async (ctx) => {
        await peekCommand(ctx, queue, { max });
        return EXIT.ok;
      };
    }
    case 'redrive': {
      const usage = 'npm run dlq -- [--brand B] redrive <queue> [--max N] [--dynamodb-endpoint URL]';
      expectOnly(line, { options: [...common, 'max', 'dynamodb-endpoint'], maxArgs: 1, usage });
      const queue = queueArg(usage);
      const max = intOption(line, 'max', { min: 1, max: 100_000 });
      const dynamodbEndpoint = line.values['dynamodb-endpoint'];
      if (dynamodbEndpoint !== undefined) checkedEndpoint(dynamodbEndpoint, '--dynamodb-endpoint');
      return async (ctx) => ((await redriveCommand(ctx, queue, { max })).failure ? EXIT.failure : EXIT.ok);
    }
    case undefined:
      throw new UsageError('no command given');
    default:
      throw new UsageError(`unknown command "${line.command}"`);
  }
}

// The brand names the queues. Locally the runner's default brand is "demo" (infra/local/bridge.ts DEV_DEFAULTS); on
// AWS there is no default: redriving another brand's queue by accident must not be one typo away.
function pickBrand(line: CommandLine, env: Record<string, string | undefined>): string {
  const brand = line.values.brand ?? (env.BRAND || undefined) ?? (line.values.endpoint ? 'demo' : undefined);
  if (!brand) throw new UsageError('which brand? pass --brand <brand> (or --endpoint URL for the local runner)');
  return checkedBrand(brand);
}

function checkedEndpoint(value: string, option = '--endpoint'): void {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new UsageError(`${option} must be an http(s) URL such as http://127.0.0.1:9324 (npm start prints it), got "${value}"`);
  }
}

function brandFileRegion(brand: string): string | undefined {
  try {
    return loadBrandConfig(brand).region;
  } catch {
    // No (valid) brand file: the AWS SDK's own region (AWS_REGION, the profile) applies, or --region.
    return undefined;
  }
}

function createTableClients({ endpoint, region }: { endpoint?: string; region?: string }): NonNullable<DlqContext['tables']> {
  const options = endpoint ? { endpoint, ...LOCAL_AWS } : region ? { region } : {};
  return { streams: new DynamoDBStreamsClient(options), dynamodb: new DynamoDBClient(options) };
}

function createSqsClient({ endpoint, region }: { endpoint?: string; region?: string }): SQSClient {
  // fauxqs's queue URLs name a host that does not resolve: an explicit endpoint makes every call go to the emulator.
  if (endpoint) return new SQSClient({ endpoint, ...LOCAL_AWS });
  return new SQSClient(region ? { region } : {});
}
