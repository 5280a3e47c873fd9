import type { PlaybackStats, StatsPoint } from '@tributary/contracts';
import { LRUCache } from 'lru-cache';

export interface StreamStats {
  latest: PlaybackStats;
  points: StatsPoint[];
}

export interface StatsHistoryOptions {
  /** Chart points older than this (before the newest snapshot) are dropped; a stream without a snapshot for this long is forgotten. */
  historyMs: number;
  /** Streams kept at most (least recently updated go first). */
  maxStreams: number;
  /** Clock for the time-to-live (tests). */
  perf?: { now(): number };
}

/**
 * The dashboard's latest snapshot and chart points per stream. Bounded: at most `maxStreams`
 * streams, and a stream that has had no snapshot for `historyMs` (it ended; its chart would be
 * empty) is dropped, so streams that come and go never accumulate.
 */
export class StatsHistory {
  private readonly streams: LRUCache<string, StreamStats>;
  private lastPurge = 0;

  constructor(private readonly options: StatsHistoryOptions) {
    this.streams = new LRUCache<string, StreamStats>({
      max: options.maxStreams,
      ttl: options.historyMs,
      ...(options.perf ? { perf: options.perf, ttlResolution: 0 } : {}),
    });
  }

  get size(): number {
    return this.streams.size;
  }

  /** Records a snapshot; false when it is older than the one held (a re-read). */
  accept(stats: PlaybackStats): boolean {
    this.purgeNowAndThen();
    let entry = this.streams.get(stats.stream_id);
    if (entry && entry.latest.generated_at > stats.generated_at) return false;
    const point: StatsPoint = { t: stats.generated_at, viewers: stats.active_viewers, bitrate_kbps: stats.windows[0]?.bitrate.avg_kbps ?? null };
    if (!entry) entry = { latest: stats, points: [] };
    entry.latest = stats;
    entry.points.push(point);
    const horizon = new Date(Date.parse(stats.generated_at) - this.options.historyMs).toISOString();
    while (entry.points.length > 0 && entry.points[0].t < horizon) entry.points.shift();
    this.streams.set(stats.stream_id, entry); // renews the time-to-live
    return true;
  }

  latest(streamId: string): PlaybackStats | undefined {
    return this.streams.get(streamId)?.latest;
  }

  /** Every stream still held, least recently updated last. */
  entries(): IterableIterator<[string, StreamStats]> {
    return this.streams.entries();
  }

  /** Drops expired streams (at most once a second: it walks every entry). */
  purgeNowAndThen(): void {
    const now = (this.options.perf ?? performance).now();
    if (now - this.lastPurge < 1_000) return;
    this.lastPurge = now;
    this.streams.purgeStale();
  }
}
