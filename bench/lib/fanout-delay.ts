/**
 * Where a delivery's time goes inside event-gateway: `tributary_fanout_delay_seconds` (Kafka
 * record timestamp of a flush's oldest event → handed to the fan-out (`consumed`) → written to
 * every socket (`written`)), read from its /metrics before and after a phase. The difference of
 * the cumulative buckets is the phase's histogram; a quantile is the upper bound of its bucket.
 */
export type DelayHistogram = Map<string, [le: number, count: number][]>;

export async function readFanoutDelay(url: string): Promise<DelayHistogram> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const histogram: DelayHistogram = new Map();
  for (const line of text.split('\n')) {
    const match = /^tributary_fanout_delay_seconds_bucket\{([^}]*)\}\s+(\S+)/.exec(line);
    if (!match) continue;
    const stage = /stage="([^"]+)"/.exec(match[1])?.[1];
    const le = /le="([^"]+)"/.exec(match[1])?.[1];
    if (!stage || !le) continue;
    const buckets = histogram.get(stage) ?? [];
    buckets.push([le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le), Number(match[2])]);
    histogram.set(stage, buckets);
  }
  return histogram;
}

/** The q-quantile (0–1) of `stage` between two reads, as "≤ N ms" (its bucket's upper bound), or `n/a`. */
export function delayQuantile(before: DelayHistogram, after: DelayHistogram, stage: string, q: number): string {
  const end = after.get(stage);
  if (!end) return 'n/a';
  const start = new Map(before.get(stage) ?? []);
  const counts = end.map(([le, count]) => [le, count - (start.get(le) ?? 0)] as const);
  const total = counts[counts.length - 1]?.[1] ?? 0;
  if (total <= 0) return 'n/a';
  const found = counts.find(([, count]) => count >= q * total);
  if (!found) return 'n/a';
  return Number.isFinite(found[0]) ? `≤ ${found[0] * 1000} ms` : `> ${counts[counts.length - 2][0] * 1000} ms`;
}

/** "consumed p50 ≤ …, p99 ≤ …; written p50 ≤ …, p99 ≤ …" over one phase (flushes, not deliveries). */
export function describeFanoutDelay(before: DelayHistogram, after: DelayHistogram): string {
  const stage = (name: string) => `${name} p50 ${delayQuantile(before, after, name, 0.5)}, p99 ${delayQuantile(before, after, name, 0.99)}`;
  return `gateway, Kafka record timestamp → ${stage('consumed')}; → ${stage('written')} (per flush)`;
}
