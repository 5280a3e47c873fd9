/**
 * Which input offsets may be committed. Every consumed chunk is tracked; it becomes "done" when
 * the segments made from it are acknowledged by Kafka (or it was skipped). Chunks of different
 * streams interleave on a partition and finish out of order, so the committable position is the
 * end of the longest run of done offsets from the front: committing it never skips a chunk whose
 * output is not yet durable, and a new owner of the partition re-reads exactly the rest.
 */
export class OffsetCommitTracker {
  private readonly partitions = new Map<number, { order: bigint[]; done: Set<bigint>; committed?: bigint }>();

  private state(partition: number) {
    let state = this.partitions.get(partition);
    if (!state) {
      state = { order: [], done: new Set() };
      this.partitions.set(partition, state);
    }
    return state;
  }

  /** Registers a consumed offset (in consumption order, which is offset order per partition). */
  track(partition: number, offset: string): void {
    this.state(partition).order.push(BigInt(offset));
  }

  markDone(partition: number, offset: string): void {
    const state = this.partitions.get(partition);
    if (state) state.done.add(BigInt(offset));
  }

  /**
   * The offset to commit (last done offset + 1, Kafka's "next to read") if it moved since the last
   * call to `committed()`, else undefined.
   */
  committable(partition: number): string | undefined {
    const state = this.partitions.get(partition);
    if (!state) return undefined;
    let last: bigint | undefined;
    while (state.order.length > 0 && state.done.has(state.order[0])) {
      last = state.order.shift()!;
      state.done.delete(last);
    }
    if (last !== undefined) state.committed = last + 1n;
    return last !== undefined ? state.committed!.toString() : undefined;
  }

  /** Offsets tracked and not yet committable on a partition. */
  pending(partition: number): number {
    return this.partitions.get(partition)?.order.length ?? 0;
  }

  /** Forgets a partition (revoked in a rebalance: its new owner resumes from the last commit). */
  drop(partition: number): void {
    this.partitions.delete(partition);
  }
}
