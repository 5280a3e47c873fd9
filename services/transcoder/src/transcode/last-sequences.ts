import { LRUCache } from 'lru-cache';

interface Entry {
  partition: number;
  sequences: Map<string, number>;
}

/**
 * The last media sequences of streams that finished on this replica, while it keeps their
 * partition, so the next publish of a stream continues numbering without reading Kafka.
 * Bounded by count (least recently used forgotten first) and age; a forgotten stream's numbering
 * is read back from the tail of video.segments instead, so forgetting costs a read, not a repeat.
 */
export class LastSequenceStore {
  private readonly entries: LRUCache<string, Entry>;

  constructor(max = 10_000, ttlMs = 6 * 60 * 60 * 1000, now: () => number = () => performance.now()) {
    this.entries = new LRUCache<string, Entry>({ max, ttl: ttlMs, ttlResolution: 0, perf: { now } });
  }

  get size(): number {
    return this.entries.size;
  }

  has(streamId: string): boolean {
    return this.entries.has(streamId);
  }

  get(streamId: string): Map<string, number> | undefined {
    return this.entries.get(streamId)?.sequences;
  }

  set(streamId: string, partition: number, sequences: Map<string, number>): void {
    this.entries.set(streamId, { partition, sequences });
  }

  /** Forgets the streams of partitions this replica no longer owns. */
  keepPartitions(owned: ReadonlySet<number>): void {
    for (const [streamId, entry] of this.entries.entries()) if (!owned.has(entry.partition)) this.entries.delete(streamId);
  }
}
