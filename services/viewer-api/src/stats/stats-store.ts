import type { PlaybackStats } from '@tributary/contracts';
import { LRUCache } from 'lru-cache';

export interface StatsStoreLimits {
  /** Streams kept at most (least recently updated go first). */
  maxStreams: number;
  /** A stream without a new snapshot for this long (it ended long ago) is forgotten. */
  ttlMs: number;
  /** Clock for the time-to-live (tests). */
  perf?: { now(): number };
}

export const DEFAULT_STATS_STORE_LIMITS: StatsStoreLimits = { maxStreams: 100_000, ttlMs: 60 * 60_000 };

/**
 * The latest `playback.stats` snapshot per stream. A snapshot replaces the stored one only when it
 * is at least as new (`generated_at`), so a re-read of the topic after a restart or a rebalance
 * between stats replicas never moves a stream back in time. Bounded by count and age (lru-cache).
 */
export class StatsStore {
  private readonly latest: LRUCache<string, { stats: PlaybackStats; at: number }>;
  private lastPurge = 0;

  constructor(private readonly limits: StatsStoreLimits = DEFAULT_STATS_STORE_LIMITS) {
    this.latest = new LRUCache<string, { stats: PlaybackStats; at: number }>({
      max: limits.maxStreams,
      ttl: limits.ttlMs,
      ...(limits.perf ? { perf: limits.perf, ttlResolution: 0 } : {}),
    });
  }

  put(stats: PlaybackStats): boolean {
    this.purgeNowAndThen();
    const at = Date.parse(stats.generated_at);
    const current = this.latest.get(stats.stream_id);
    if (current && current.at > at) return false;
    this.latest.set(stats.stream_id, { stats, at });
    return true;
  }

  get(streamId: string): PlaybackStats | undefined {
    return this.latest.get(streamId)?.stats;
  }

  get size(): number {
    return this.latest.size;
  }

  /** Drops expired streams (at most once a second: it walks every entry). */
  purgeNowAndThen(): void {
    const now = (this.limits.perf ?? performance).now();
    if (now - this.lastPurge < 1_000) return;
    this.lastPurge = now;
    this.latest.purgeStale();
  }
}
