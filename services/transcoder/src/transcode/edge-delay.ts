/**
 * How far a stream's output trails its input: the age (since ingest) of the oldest input chunk
 * not yet covered by published output, or skipped. Chunks are accepted and released in the same
 * order (a stream's chunks are in offset order), so a FIFO of ingest times is enough. Also the
 * real-time speed: media seconds published per wall second over a short window.
 */
export class EdgeDelay {
  private readonly times: number[] = [];
  private head = 0;
  private readonly published: { at: number; seconds: number }[] = [];

  constructor(private readonly speedWindowMs = 10_000) {}

  /** A chunk entered the pipeline (`ingestTimeMs` from its header; `now` when it had none). */
  accepted(ingestTimeMs: number | undefined, now: number): void {
    this.times.push(ingestTimeMs ?? now);
  }

  /** The oldest accepted chunk is covered by published output (or was skipped). */
  released(): void {
    if (this.head < this.times.length) this.head += 1;
    if (this.head > 1024 && this.head * 2 > this.times.length) {
      this.times.splice(0, this.head);
      this.head = 0;
    }
  }

  /** Chunks accepted and not yet released. */
  get pending(): number {
    return this.times.length - this.head;
  }

  /** Ingest time of the oldest pending chunk. */
  get oldestMs(): number | undefined {
    return this.head < this.times.length ? this.times[this.head] : undefined;
  }

  delayMs(now: number): number {
    const oldest = this.oldestMs;
    return oldest === undefined ? 0 : Math.max(0, now - oldest);
  }

  /** `seconds` of media of the stream's reference rendition were published at `now`. */
  mediaPublished(seconds: number, now: number): void {
    this.published.push({ at: now, seconds });
    while (this.published.length > 0 && this.published[0].at < now - this.speedWindowMs) this.published.shift();
  }

  /** Media seconds per wall second over the window (1 = real time). */
  speed(now: number): number {
    const recent = this.published.filter((entry) => entry.at >= now - this.speedWindowMs);
    return recent.reduce((sum, entry) => sum + entry.seconds, 0) / (this.speedWindowMs / 1000);
  }
}
