import { LRUCache } from 'lru-cache';
import type { ReplayIndex } from './replay-index';

export interface ReplayIndexCacheLimits {
  /** Indexes kept at most (one per stream and replay start). */
  maxIndexes: number;
  /** Segments indexed at most, all indexes together (an index holds metadata only, ~0.5 KB a segment). */
  maxSegments: number;
  /** An index nobody asked for this long is dropped. */
  idleTtlMs: number;
  /** Clock for the time-to-live (tests). */
  perf?: { now(): number };
}

export const DEFAULT_REPLAY_INDEX_LIMITS: ReplayIndexCacheLimits = { maxIndexes: 64, maxSegments: 200_000, idleTtlMs: 30 * 60_000 };

/**
 * Replay indexes by `<stream>@<since>`, bounded by count, by the segments they hold (an index
 * grows while its stream is live, so its size is recomputed each time it is stored back) and by
 * idleness (lru-cache).
 */
export class ReplayIndexCache {
  private readonly indexes: LRUCache<string, ReplayIndex>;

  constructor(limits: ReplayIndexCacheLimits = DEFAULT_REPLAY_INDEX_LIMITS) {
    this.indexes = new LRUCache<string, ReplayIndex>({
      max: limits.maxIndexes,
      maxSize: limits.maxSegments,
      sizeCalculation: (index) => Math.max(1, index.size),
      ttl: limits.idleTtlMs,
      updateAgeOnGet: true,
      ...(limits.perf ? { perf: limits.perf, ttlResolution: 0 } : {}),
    });
  }

  get(key: string): ReplayIndex | undefined {
    return this.indexes.get(key);
  }

  /** Stores (or stores back, after it grew) an index. One bigger than the whole budget is not kept. */
  put(key: string, index: ReplayIndex): void {
    // lru-cache sizes an entry when it is set to a new value only: delete first so growth counts.
    this.indexes.delete(key);
    this.indexes.set(key, index);
  }

  get size(): { indexes: number; segments: number } {
    return { indexes: this.indexes.size, segments: this.indexes.calculatedSize };
  }

  purgeStale(): void {
    this.indexes.purgeStale();
  }
}
