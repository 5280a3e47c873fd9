/**
 * Bytes read from video.ingest and not yet written to ffmpeg, across streams. Reading never waits
 * for an ffmpeg (kafkajs fetches every partition of a broker together, so one slow or deferred
 * stream would hold all the others back); it waits only when this much input is queued in memory.
 */
export class InputBudget {
  private used = 0;
  private waiters: (() => void)[] = [];

  constructor(private readonly maxBytes: number) {}

  get bytes(): number {
    return this.used;
  }

  /** Resolves once `bytes` fit (a single chunk larger than the budget is let through alone). */
  async take(bytes: number): Promise<void> {
    while (this.used > 0 && this.used + bytes > this.maxBytes) await new Promise<void>((resolve) => this.waiters.push(resolve));
    this.used += bytes;
  }

  give(bytes: number): void {
    this.used -= bytes;
    for (const wake of this.waiters.splice(0)) wake();
  }
}
