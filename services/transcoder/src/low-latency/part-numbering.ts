import type { SequenceNumbering } from '../transcode/sequence-numbering';

/** Where a part goes: its segment's media sequence, its index there, and the segment's discontinuity flag. */
export interface PartPlace {
  sequence: number;
  index: number;
  discontinuity: boolean;
  /** The part starts a new segment (index 0). */
  startsSegment: boolean;
}

interface OpenSegment {
  sequence: number;
  discontinuity: boolean;
  nextIndex: number;
  elapsedSeconds: number;
}

/**
 * Low-latency part numbering per rendition, on top of the stream's SequenceNumbering (which
 * continues after the last sequence already on video.segments and flags the first segment after a
 * gap): a new segment starts at an independent part once the current one reached the target
 * segment duration; parts are indexed from 0 within their segment. A segment's sequence is taken
 * (acknowledged to the SequenceNumbering) as soon as its first part is durable, so a stream that
 * stops mid-segment goes on at the next sequence (the partial segment stays complete as it is).
 */
export class PartNumbering {
  private readonly open = new Map<string, OpenSegment>();

  constructor(
    private readonly numbering: SequenceNumbering,
    private readonly segmentSeconds: number,
  ) {}

  /**
   * The place of `rendition`'s next part (`durationSeconds` long, `independent` if it starts with a
   * sync sample), or undefined for a part that cannot start the rendition's first segment (not
   * independent: undecodable without what came before).
   */
  place(rendition: string, durationSeconds: number, independent: boolean): PartPlace | undefined {
    let segment = this.open.get(rendition);
    const full = segment !== undefined && segment.elapsedSeconds >= this.segmentSeconds - 1e-6;
    if (!segment || (full && independent)) {
      if (!independent) return undefined;
      const { sequence, discontinuity } = this.numbering.peek(rendition);
      // A segment whose first part was never acknowledged (dropped) keeps no sequence: reuse is fine.
      segment = { sequence: segment && segment.sequence >= sequence ? segment.sequence + 1 : sequence, discontinuity, nextIndex: 0, elapsedSeconds: 0 };
      this.open.set(rendition, segment);
    }
    const place: PartPlace = { sequence: segment.sequence, index: segment.nextIndex, discontinuity: segment.discontinuity, startsSegment: segment.nextIndex === 0 };
    segment.nextIndex += 1;
    segment.elapsedSeconds += durationSeconds;
    return place;
  }

  /** The media sequence an init segment of `rendition` written now precedes. */
  nextSequence(rendition: string): number {
    const segment = this.open.get(rendition);
    return segment ? segment.sequence + 1 : this.numbering.peek(rendition).sequence;
  }

  /** The discontinuity flag of what `rendition` publishes next (an init segment). */
  nextDiscontinuity(rendition: string): boolean {
    return this.open.has(rendition) ? false : this.numbering.peek(rendition).discontinuity;
  }

  /** The part at `place` is durable: its segment's sequence is taken. */
  published(rendition: string, place: PartPlace): void {
    if (place.startsSegment) this.numbering.acknowledge(rendition, place.sequence);
  }

  /** ffmpeg restarted (a gap): every rendition's next part starts a new segment with a discontinuity. */
  breakAll(): void {
    this.open.clear();
    this.numbering.breakAll();
  }
}

/**
 * The PART-TARGET a low-latency stream needs: the longest part produced, rounded up to the
 * millisecond. ffmpeg cuts a fragment when any track's packet crosses the configured duration
 * (and the first part carries the encoder's start offset), so parts may be longer than asked.
 * Before any part it is the nominal part (whole frames of the configured duration); it grows
 * whenever a longer part comes (in practice the stream's first part, before any playlist can list
 * parts). Not padded: regular parts must stay ≥ 85 % of PART-TARGET (RFC 8216bis §4.4.4.9).
 */
export class PartTarget {
  private target: number;
  private longest = 0;

  constructor(partSeconds: number, frameRate: number | undefined) {
    const fps = frameRate && frameRate > 0 ? frameRate : 30;
    this.target = roundUpMs(Math.max(1, Math.round(partSeconds * fps)) / fps);
  }

  get seconds(): number {
    return this.target;
  }

  /** The longest part produced so far (seconds). */
  get longestSeconds(): number {
    return this.longest;
  }

  /** A part of `durationSeconds` was produced; true when the target grew (report it again). */
  observe(durationSeconds: number): boolean {
    this.longest = Math.max(this.longest, durationSeconds);
    if (durationSeconds <= this.target) return false;
    this.target = roundUpMs(durationSeconds);
    return true;
  }
}

function roundUpMs(seconds: number): number {
  // The epsilon keeps 0.2 (stored as 0.2000000001) at 0.2.
  return Math.ceil(seconds * 1000 - 1e-6) / 1000;
}
