/**
 * Closed while the consumer group rebalances: no segment is produced until we know which
 * partitions we keep. Closing twice is one closure; opening releases every waiter.
 */
export class RebalanceFence {
  private fence?: { promise: Promise<void>; open: () => void };

  get isClosed(): boolean {
    return this.fence !== undefined;
  }

  close(): void {
    if (this.fence) return;
    let open!: () => void;
    const promise = new Promise<void>((resolve) => (open = resolve));
    this.fence = { promise, open };
  }

  open(): void {
    const fence = this.fence;
    this.fence = undefined;
    fence?.open();
  }

  /** Resolves once the fence is open (at once if it is; again if it closed meanwhile). */
  async passed(): Promise<void> {
    while (this.fence) await this.fence.promise;
  }
}
