import type { Logger } from '@tributary/telemetry';

/**
 * Media sequence numbers per rendition for one stream: they continue after the last sequence
 * already published (by this process or a previous owner), advance only when a segment is
 * acknowledged, and flag a discontinuity on the first segment after a gap (takeover, restart).
 */
export class SequenceNumbering {
  private readonly nextSequence = new Map<string, number>();
  private readonly discontinuityNext = new Set<string>();

  /**
   * Starts numbering `renditions` after `last` (a rendition absent from `last` starts at `first`,
   * 0 by default; low-latency streams start at 1, since hls.js skips blocking reload at 0).
   */
  start(renditions: readonly string[], last: ReadonlyMap<string, number>, first = 0): void {
    for (const rendition of renditions) {
      const previous = last.get(rendition);
      this.nextSequence.set(rendition, previous === undefined ? first : Math.max(first, previous + 1));
      if (previous !== undefined) this.discontinuityNext.add(rendition);
    }
  }

  /** The sequence and discontinuity flag the next segment of `rendition` gets. */
  peek(rendition: string): { sequence: number; discontinuity: boolean } {
    return { sequence: this.nextSequence.get(rendition) ?? 0, discontinuity: this.discontinuityNext.has(rendition) };
  }

  /** The segment numbered `sequence` is durable: the next one follows it, without discontinuity. */
  acknowledge(rendition: string, sequence: number): void {
    this.nextSequence.set(rendition, sequence + 1);
    this.discontinuityNext.delete(rendition);
  }

  /** The next segment of `rendition` follows a gap (its input jumped). */
  break(rendition: string): void {
    if (this.nextSequence.has(rendition)) this.discontinuityNext.add(rendition);
  }

  /** The next segment of every rendition follows a gap (e.g. ffmpeg restarted). */
  breakAll(): void {
    for (const rendition of this.nextSequence.keys()) this.discontinuityNext.add(rendition);
  }

  /** The last sequence used per rendition (for the next publish of the stream). */
  lastSequences(): Map<string, number> {
    const last = new Map<string, number>();
    for (const [rendition, next] of this.nextSequence) last.set(rendition, next - 1);
    return last;
  }

  /** Next sequence per rendition, for logs. */
  toJSON(): Record<string, number> {
    return Object.fromEntries(this.nextSequence);
  }
}

/**
 * The stream's last sequences per rendition (`last`: read from the tail of video.segments); if
 * they cannot be read, the current time in seconds for each of `renditions`, so numbering stays
 * monotonic (logged).
 */
export function lastSequencesOrNow(last: Promise<Map<string, number>>, renditions: readonly string[], logger: Logger): Promise<Map<string, number>> {
  return last.catch((error: unknown) => {
    logger.error({ err: error }, 'could not read the tail of video.segments; numbering from the current time to stay monotonic');
    const floor = Math.floor(Date.now() / 1000);
    return new Map(renditions.map((rendition) => [rendition, floor] as const));
  });
}
