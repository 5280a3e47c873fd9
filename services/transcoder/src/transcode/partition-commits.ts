import { OffsetCommitTracker } from './offset-commit-tracker';

export interface PartitionCommitsOptions {
  /** Commits `offset` (next to read) on `partition`; a failure is retried with the next commit. */
  commit: (partition: number, offset: string) => Promise<void>;
  /** Whether this replica still owns `partition` (a revoked partition is never committed). */
  owns: (partition: number) => boolean;
  onError: (error: unknown, partition: number, offset: string) => void;
  /** Commits per partition are batched over this delay. */
  delayMs?: number;
}

/**
 * Input offsets of video.ingest: tracks every consumed chunk (OffsetCommitTracker) and commits
 * the committable position per partition at most every `delayMs`, only while the partition is
 * owned. No Kafka here: the commit itself is the caller's.
 */
export class PartitionCommits {
  private readonly tracker = new OffsetCommitTracker();
  private readonly timers = new Map<number, NodeJS.Timeout>();

  constructor(private readonly options: PartitionCommitsOptions) {}

  track(partition: number, offset: string): void {
    this.tracker.track(partition, offset);
  }

  /** The chunk at `offset` needs nothing more; schedules a commit. */
  done(partition: number, offset: string): void {
    this.tracker.markDone(partition, offset);
    if (this.timers.has(partition)) return;
    this.timers.set(
      partition,
      setTimeout(() => {
        this.timers.delete(partition);
        const next = this.tracker.committable(partition);
        if (next === undefined || !this.options.owns(partition)) return;
        this.options.commit(partition, next).catch((error: unknown) => this.options.onError(error, partition, next));
      }, this.options.delayMs ?? 250),
    );
  }

  /**
   * The committable position of an owned partition if it moved since it was last taken, for a
   * caller that commits it in a transaction of its own (e.g. beside a segment).
   */
  take(partition: number): string | undefined {
    return this.options.owns(partition) ? this.tracker.committable(partition) : undefined;
  }

  /** Offsets consumed on `partition` and not yet committable. */
  pending(partition: number): number {
    return this.tracker.pending(partition);
  }

  /** Forgets a revoked partition (its new owner resumes from the last commit). */
  drop(partition: number): void {
    this.tracker.drop(partition);
  }

  stop(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
