import type { PlaybackStats } from '@tributary/contracts';

/**
 * The latest `playback.stats` snapshot per stream. A snapshot replaces the stored one only when it
 * is at least as new (`generated_at`), so a re-read of the topic after a restart or a rebalance
 * between stats replicas never moves a stream back in time.
 */
export class StatsStore {
  private readonly latest = new Map<string, { stats: PlaybackStats; at: number }>();

  constructor(private readonly maxStreams = 100_000) {}

  put(stats: PlaybackStats): boolean {
    const at = Date.parse(stats.generated_at);
    const current = this.latest.get(stats.stream_id);
    if (current && current.at > at) return false;
    this.latest.delete(stats.stream_id);
    this.latest.set(stats.stream_id, { stats, at });
    if (this.latest.size > this.maxStreams) {
      const oldest = this.latest.keys().next().value;
      if (oldest !== undefined) this.latest.delete(oldest);
    }
    return true;
  }

  get(streamId: string): PlaybackStats | undefined {
    return this.latest.get(streamId)?.stats;
  }

  get size(): number {
    return this.latest.size;
  }
}
