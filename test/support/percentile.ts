/**
 * The value at percentile `p` (0–100) of `values` (any order; not modified): the element at index
 * ⌊n·p/100⌋ of the sorted values, the last one for p = 100. The e2e tests' one percentile (bench/
 * has its own nearest-rank one in bench/lib/report.ts: tests do not depend on bench/).
 */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

/** The middle value of `values` (the upper middle one for an even count): percentile 50. */
export function median(values: readonly number[]): number {
  return percentile(values, 50);
}
