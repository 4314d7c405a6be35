// `npm run x -- usage`: the X spend the brand's replies caused this month and today, at X's published prices, against
// the monthly cap. It reads the counters the reply worker keeps in the brand's table (shared/replies/spend.ts); X is
// not asked (X's own usage endpoint counts posts, not dollars, and bills per read).
import { ConfigError } from '../../shared/errors';
import { dynamoSpendCounter } from '../../shared/aws/dynamo-spend-counter';
import { DynamoDBClient } from '../../shared/aws/sdk/client-dynamodb';
import { sdkClientOptions } from '../../shared/aws/sdk-client-options';
import { capMicroUsd, nearCap, spendPeriods, usd, type SpendCounter } from '../../shared/replies/spend';
import { loadBrandConfig } from '../brand-config';
import { EXIT, expectOnly, UsageError, type CommandLine, type ExitCode, type Output } from './cli-support';

export const USAGE_COMMAND_HELP = `  usage [--table NAME] [--month YYYY-MM]
                                  the X spend replies caused this month (or --month) and today, at X's prices, against
                                  the cap (X_MONTHLY_SPEND_CAP_USD, or the brand file's xMonthlySpendCapUsd with --brand);
                                  reads the brand's table: --table or TABLE_NAME (the stack's TableName output)`;

export type UsageCommandDeps = {
  env: Record<string, string | undefined>;
  out: Output;
  now?: () => Date;
  /** The brand file's cap and region (default: infra/brands/<brand>.json). */
  lookupBrand?: (brand: string) => { region: string; xMonthlySpendCapUsd?: number };
  /** The counters (default: the table on AWS, or DynamoDB Local at DYNAMODB_ENDPOINT). */
  counterFor?: (input: { table: string; brand: string; region?: string; endpoint?: string }) => SpendCounter;
};

const usageLine = 'npm run x -- [--brand <brand>] usage [--table NAME] [--month YYYY-MM]';

/** Checks the command line (before anything is read); throws UsageError. */
export function checkUsageLine(line: CommandLine): void {
  expectOnly(line, { options: ['brand', 'table', 'month'], maxArgs: 0, usage: usageLine });
  const month = line.values.month;
  if (month !== undefined && !/^\d{4}-(0[1-9]|1[0-2])$/.test(month)) throw new UsageError(`--month must be YYYY-MM, got "${month}". Usage: ${usageLine}`);
}

/** Prints the month's and today's spend against the cap; exit 0, or 1 when the month is at 80 % of the cap or more. */
export async function runUsageCommand(line: CommandLine, deps: UsageCommandDeps): Promise<ExitCode> {
  const brand = line.values.brand ?? deps.env.BRAND;
  if (!brand) throw new ConfigError('no brand: pass --brand <brand> or set BRAND');
  const table = line.values.table ?? deps.env.TABLE_NAME;
  if (!table) {
    throw new ConfigError(
      `no table: pass --table <name> or set TABLE_NAME (the stack's TableName output: aws cloudformation ` +
        `describe-stacks --stack-name SupportBridge-${brand} --query "Stacks[0].Outputs[?OutputKey=='TableName'].OutputValue" --output text)`,
    );
  }
  const brandFile = line.values.brand ? (deps.lookupBrand ?? defaultLookup)(line.values.brand) : undefined;
  const envCap = deps.env.X_MONTHLY_SPEND_CAP_USD ? Number(deps.env.X_MONTHLY_SPEND_CAP_USD) : undefined;
  const capUsd = brandFile?.xMonthlySpendCapUsd ?? envCap;
  const counter = (deps.counterFor ?? defaultCounter)({
    table,
    brand,
    ...(brandFile ? { region: brandFile.region } : {}),
    ...(deps.env.DYNAMODB_ENDPOINT ? { endpoint: deps.env.DYNAMODB_ENDPOINT } : {}),
  });
  const periods = spendPeriods((deps.now ?? (() => new Date()))());
  const month = line.values.month ?? periods.month;
  const [monthMicro, dayMicro] = await Promise.all([counter.month(month), counter.day(periods.day)]);
  const cap = capMicroUsd(capUsd);
  const dollars = (micro: number) => `$${usd(micro).toFixed(4)}`;
  deps.out.line(`X spend caused by replies of ${brand}, estimated at X's published prices:`);
  deps.out.line(
    `  ${month}${month === periods.month ? ' so far' : ''}: ${dollars(monthMicro)}` +
      (cap === undefined ? ' (no monthly cap set)' : ` of the ${dollars(cap)} cap (${Math.round((monthMicro / cap) * 100)} %)`),
  );
  if (month === periods.month) deps.out.line(`  today (${periods.day}, UTC): ${dollars(dayMicro)}`);
  if (month === periods.month && nearCap(monthMicro, cap)) {
    deps.out.error('the month is at 80 % of the cap or more: past it, replies fail with spend_cap until the 1st (UTC)');
    return EXIT.failure;
  }
  return EXIT.ok;
}

function defaultLookup(brand: string): { region: string; xMonthlySpendCapUsd?: number } {
  const config = loadBrandConfig(brand);
  return { region: config.region, ...(config.xMonthlySpendCapUsd === undefined ? {} : { xMonthlySpendCapUsd: config.xMonthlySpendCapUsd }) };
}

function defaultCounter(input: { table: string; brand: string; region?: string; endpoint?: string }): SpendCounter {
  const client = new DynamoDBClient({ ...sdkClientOptions(input.endpoint), ...(input.region && !input.endpoint ? { region: input.region } : {}) });
  return dynamoSpendCounter(client, input.table, input.brand);
}
