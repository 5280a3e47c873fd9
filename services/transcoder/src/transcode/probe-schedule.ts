/**
 * When to try ffprobe on the input buffered so far. By size (the threshold doubles after each
 * failed attempt, up to the limit), or every 2 s for low-bitrate sources that would otherwise take
 * long to fill the first probe window. Pure: the caller passes the clock.
 */
export class ProbeSchedule {
  private bytes = 0;
  private since?: number;
  private lastAttemptAt = 0;
  private nextAt: number;

  constructor(
    initialBytes: number,
    private readonly maxBytes: number,
  ) {
    this.nextAt = initialBytes;
  }

  /** Input buffered while probing. */
  get buffered(): number {
    return this.bytes;
  }

  /** Enough input for ffprobe to never get more: a failure now is final. */
  get exhausted(): boolean {
    return this.bytes >= this.maxBytes;
  }

  /** Counts `bytes` of new input at `now`; true when a probe attempt is due. */
  added(bytes: number, now: number): boolean {
    this.bytes += bytes;
    this.since ??= now;
    const dueByTime = now - this.since >= 2000 && now - this.lastAttemptAt >= 2000 && this.bytes >= 16 * 1024;
    return this.bytes >= this.nextAt || dueByTime;
  }

  attempted(now: number): void {
    this.lastAttemptAt = now;
  }

  /** The attempt failed: wait for twice as much input (bounded by the limit). */
  failed(): void {
    this.nextAt = Math.min(this.nextAt * 2, this.maxBytes);
  }
}
