// The spend counter in memory, for unit tests (the DynamoDB one is shared/aws/dynamo-spend-counter.ts).
import type { SpendCounter } from '../../shared/replies/spend';

export function memorySpendCounter(): SpendCounter & { totals: Map<string, number> } {
  const totals = new Map<string, number>();
  return {
    totals,
    month: async (month) => totals.get(month) ?? 0,
    day: async (day) => totals.get(day) ?? 0,
    async reserve({ month, day, microUsd, capMicroUsd }) {
      const spent = totals.get(month) ?? 0;
      if (capMicroUsd !== undefined && spent + microUsd > capMicroUsd) return undefined;
      totals.set(month, spent + microUsd);
      totals.set(day, (totals.get(day) ?? 0) + microUsd);
      return spent + microUsd;
    },
  };
}
