/**
 * How far a stream's output trails its input: the age (since ingest) of the oldest input chunk
 * not yet covered by published output, or skipped. Chunks are accepted in offset order; they are
 * released by their offset (a skip releases queued chunks while older ones written to ffmpeg still
 * wait for their segment, so releasing the oldest instead would under-report the delay), or, for
 * a caller that passes no offset, oldest first. Also the real-time speed: media seconds published
 * per wall second over a short window.
 */
export class EdgeDelay {
  private readonly entries: { at: number; released: boolean }[] = [];
  private readonly byOffset = new Map<string, { at: number; released: boolean }>();
  private head = 0;
  private unreleased = 0;
  private readonly published: { at: number; seconds: number }[] = [];

  constructor(private readonly speedWindowMs = 10_000) {}

  /**
   * A chunk entered the pipeline (`ingestTimeMs` from its header; `now` when it had none). An
   * offset already pending (the same chunk fed twice, e.g. redelivered) is ignored: a second entry
   * would never be released and the delay would grow forever.
   */
  accepted(ingestTimeMs: number | undefined, now: number, offset?: string): void {
    if (offset !== undefined && this.byOffset.has(offset)) return;
    const entry = { at: ingestTimeMs ?? now, released: false };
    this.entries.push(entry);
    this.unreleased += 1;
    if (offset !== undefined) this.byOffset.set(offset, entry);
  }

  /** The chunk at `offset` (without one: the oldest) is covered by published output, or was skipped. */
  released(offset?: string): void {
    // Without an offset: the head (it always points at the oldest unreleased entry).
    const entry = offset === undefined ? this.entries[this.head] : this.byOffset.get(offset);
    if (!entry || entry.released) return;
    entry.released = true;
    if (offset !== undefined) this.byOffset.delete(offset);
    this.unreleased -= 1;
    while (this.head < this.entries.length && this.entries[this.head].released) this.head += 1;
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries.splice(0, this.head);
      this.head = 0;
    }
  }

  /** Chunks accepted and not yet released. */
  get pending(): number {
    return this.unreleased;
  }

  /** Ingest time of the oldest pending chunk. */
  get oldestMs(): number | undefined {
    return this.head < this.entries.length ? this.entries[this.head].at : undefined;
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
