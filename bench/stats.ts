// Percentiles and rounding for the benchmark's figures: small, dependency-free, the same everywhere in bench/.

/** The p-th percentile (0–100) by nearest rank: a value that was actually measured, never an interpolation. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** The median (the 50th percentile by nearest rank). */
export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** p50 and p99, rounded to 0.1 ms: the shape every latency figure of the report takes. */
export function latencySummary(values: readonly number[]): { p50: number; p99: number } {
  return { p50: round(percentile(values, 50), 1), p99: round(percentile(values, 99), 1) };
}

/** `value` rounded to `digits` decimals. */
export function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
