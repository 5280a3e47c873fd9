/**
 * The last media sequences of streams that finished on this replica, while it keeps their
 * partition, so the next publish of a stream continues numbering without reading Kafka.
 * Bounded by count and age (the oldest are forgotten first; a forgotten stream's numbering is
 * read back from the tail of video.segments instead).
 */
export class LastSequenceStore {
  private readonly entries = new Map<string, { partition: number; sequences: Map<string, number>; at: number }>();

  constructor(
    private readonly max = 10_000,
    private readonly ttlMs = 6 * 60 * 60 * 1000,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  has(streamId: string): boolean {
    return this.get(streamId) !== undefined;
  }

  get(streamId: string): Map<string, number> | undefined {
    const entry = this.entries.get(streamId);
    if (!entry) return undefined;
    if (this.now() - entry.at > this.ttlMs) {
      this.entries.delete(streamId);
      return undefined;
    }
    return entry.sequences;
  }

  set(streamId: string, partition: number, sequences: Map<string, number>): void {
    this.entries.delete(streamId);
    this.entries.set(streamId, { partition, sequences, at: this.now() });
    while (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!);
  }

  /** Forgets the streams of partitions this replica no longer owns. */
  keepPartitions(owned: ReadonlySet<number>): void {
    for (const [streamId, entry] of this.entries) if (!owned.has(entry.partition)) this.entries.delete(streamId);
  }
}
