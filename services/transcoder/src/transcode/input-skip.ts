import { hasRandomAccessPoint } from '@tributary/media';

/**
 * Which of a stream's input is skipped rather than transcoded (skip to live, a cut backlog), and
 * how much was. Skipping resumes at a keyframe where one is known, so the next ffmpeg run starts
 * decodable: the newest chunk with a random access point is remembered as chunks arrive. Pure.
 */
export class InputSkip {
  /** Chunks of a lower sequence are skipped. */
  private before = -1;
  private keyframe = -1;
  private count = 0;
  /** A skip to the newest keyframe is decided (and what to call once it took effect); where to is settled then. */
  private toNewest?: () => void;

  /** A chunk arrived (before it waits in the queue): remembers it if it holds a keyframe. */
  seen(sequence: number, data: Buffer): void {
    if (hasRandomAccessPoint(data)) this.keyframe = Math.max(this.keyframe, sequence);
  }

  /** True (and counted) when chunk `sequence` is skipped. */
  skips(sequence: number): boolean {
    this.settle();
    if (sequence >= this.before) return false;
    this.count += 1;
    return true;
  }

  /** Skips every chunk before `sequence` from now on (never moves back). */
  skipBefore(sequence: number): void {
    this.before = Math.max(this.before, sequence);
  }

  /** Skips everything from now on. */
  skipAll(): void {
    this.before = Number.MAX_SAFE_INTEGER;
  }

  /**
   * Skips to the newest keyframe seen when the skip takes effect (the next chunk's turn), not when
   * it is decided: the chunk being written when it is decided can block on a slow ffmpeg for
   * seconds, and what arrives meanwhile would otherwise be transcoded late too. `settled` is
   * called when it takes effect (every chunk it skips has arrived by then).
   */
  skipToNewest(settled: () => void = () => undefined): void {
    this.toNewest = settled;
  }

  /** A skipToNewest has not taken effect yet. */
  get skipPending(): boolean {
    return this.toNewest !== undefined;
  }

  /** Chunks before this sequence are skipped (a pending skipToNewest not yet: see settle). */
  get from(): number {
    return this.before;
  }

  /** `chunks` more were skipped (written or queued input dropped by the caller). */
  counted(chunks: number): void {
    this.count += chunks;
  }

  get skipped(): number {
    return this.count;
  }

  /** Where shedding skips to: the newest keyframe, or past everything so far when none was seen. */
  get shedFrom(): number {
    return this.keyframe >= 0 ? this.keyframe : Number.MAX_SAFE_INTEGER;
  }

  /**
   * A pending skipToNewest takes effect now (the next chunk's turn, or a restarted run's re-feed):
   * chunks before the newest keyframe seen are skipped, and its `settled` is called.
   */
  settle(): void {
    const settled = this.toNewest;
    if (!settled) return;
    this.toNewest = undefined;
    if (this.keyframe >= 0) this.skipBefore(this.keyframe);
    settled();
  }

  /** Where a backlog session that went live resumes: the newest keyframe not after `freshSequence`, else that chunk. */
  liveFrom(freshSequence: number): number {
    return this.keyframe >= 0 && this.keyframe <= freshSequence ? this.keyframe : freshSequence;
  }
}
