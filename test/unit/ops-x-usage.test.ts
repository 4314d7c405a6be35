// `npm run x -- usage`: the month's and the day's X spend from the brand's counters, against the cap, without any X
// credentials; a wrong command line costs nothing.
import { describe, expect, it } from 'vitest';
import { memoryOutput } from '../../infra/ops/cli-support';
import { runXProgram } from '../../infra/ops/x-program';
import { memorySpendCounter } from '../support/memory-spend-counter';

const NOW = () => new Date('2026-12-04T10:00:00Z');

async function run(argv: string[], env: Record<string, string> = {}, cap?: number) {
  const counter = memorySpendCounter();
  await counter.reserve({ month: '2026-12', day: '2026-12-03', microUsd: 20_000 });
  await counter.reserve({ month: '2026-12', day: '2026-12-04', microUsd: 10_000 });
  await counter.reserve({ month: '2026-11', day: '2026-11-30', microUsd: 5_000 });
  const asked: unknown[] = [];
  const out = memoryOutput();
  const code = await runXProgram(argv, {
    env,
    out,
    now: NOW,
    usage: {
      lookupBrand: () => ({ region: 'eu-west-1', ...(cap === undefined ? {} : { xMonthlySpendCapUsd: cap }) }),
      counterFor: (input) => {
        asked.push(input);
        return counter;
      },
    },
  });
  return { code, out, asked };
}

describe('npm run x -- usage', () => {
  it("prints the month so far and today against the brand file's cap, reading the table it is given", async () => {
    const { code, out, asked } = await run(['--brand', 'acme', 'usage', '--table', 'acme-table'], {}, 0.05);
    expect(code).toBe(0);
    expect(out.text()).toContain('2026-12 so far: $0.0300 of the $0.0500 cap (60 %)');
    expect(out.text()).toContain('today (2026-12-04, UTC): $0.0100');
    expect(asked).toEqual([{ table: 'acme-table', brand: 'acme', region: 'eu-west-1' }]);
  });

  it('exits 1 from 80 % of the cap (X_MONTHLY_SPEND_CAP_USD, TABLE_NAME and BRAND from the environment)', async () => {
    const { code, out } = await run(['usage'], { BRAND: 'demo', TABLE_NAME: 't', X_MONTHLY_SPEND_CAP_USD: '0.035' });
    expect(code).toBe(1);
    expect(out.text()).toContain('(86 %)');
    expect(out.errors.join('\n')).toContain('80 %');
  });

  it('a past month, without a cap', async () => {
    const { code, out } = await run(['usage', '--month', '2026-11'], { BRAND: 'demo', TABLE_NAME: 't' });
    expect(code).toBe(0);
    expect(out.text()).toContain('2026-11: $0.0050 (no monthly cap set)');
  });

  it('a wrong line or no table is told, and nothing is read', async () => {
    expect((await run(['usage', '--month', '2026-13'], { BRAND: 'demo', TABLE_NAME: 't' })).code).toBe(2);
    expect((await run(['usage', '--webhook-id', '1'], { BRAND: 'demo', TABLE_NAME: 't' })).code).toBe(2);
    const noTable = await run(['usage'], { BRAND: 'demo' });
    expect(noTable.code).toBe(1);
    expect(noTable.out.errors.join('\n')).toContain('TableName');
    expect(noTable.asked).toEqual([]);
  });
});
