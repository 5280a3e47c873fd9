/**
 * The highest offset this replica has handed to its sockets, per partition. The replica's
 * consumer is at-least-once: after a rebalance (a network partition healing, a session timeout)
 * it re-reads from the last committed offset, and without this the clients connected here
 * would get those events twice. Skipping what was already delivered makes delivery to the
 * clients of one gateway process exactly once. One number per partition of playback.events:
 * bounded by the partition count.
 */
export class DeliveredOffsets {
  private readonly highest = new Map<number, bigint>();

  /** True the first time an offset (or a later one) of the partition is seen; false for a re-read. */
  firstDelivery(partition: number, offset: string): boolean {
    const value = BigInt(offset);
    const previous = this.highest.get(partition);
    if (previous !== undefined && value <= previous) return false;
    this.highest.set(partition, value);
    return true;
  }
}
