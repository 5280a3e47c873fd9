/**
 * Produce delays of one stream (ms from ffmpeg writing a part to Kafka acknowledging it): count,
 * max and percentiles over the most recent `keep` samples, for the stream's end-of-session log
 * (the histogram `tributary_ll_part_produce_delay_seconds` is the service-wide view).
 */
export class ProduceDelayStats {
  private readonly recent: number[] = [];
  private count = 0;
  private max = 0;

  constructor(private readonly keep = 2048) {}

  add(ms: number): void {
    this.count += 1;
    this.max = Math.max(this.max, ms);
    this.recent.push(ms);
    if (this.recent.length > this.keep) this.recent.shift();
  }

  summary(): { count: number; p50: number; p95: number; max: number } {
    const sorted = [...this.recent].sort((a, b) => a - b);
    const at = (q: number): number => (sorted.length === 0 ? 0 : round(sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]));
    return { count: this.count, p50: at(0.5), p95: at(0.95), max: round(this.max) };
  }
}

const round = (ms: number): number => Math.round(ms * 10) / 10;
