/** MPEG-TS timestamps tick at 90 kHz. */
const PTS_PER_SECOND = 90_000;
/**
 * ffmpeg closes an input timestamp gap longer than this (its `-dts_delta_threshold`, which the
 * engine sets); a shorter one it fills with repeated frames, so the output does contain it.
 */
export const CLOSED_GAP_SECONDS = 1;
/** A gap this long is not a skip (a 33-bit PTS wrap, a publisher's clock reset): no time shift. */
const MAX_JUMP_SECONDS = 3600;
/** A segment starting this close before a jump's point is taken as starting after it. */
const TOLERANCE_SECONDS = 0.25;

interface Jump {
  /** Where in the run's media the input jumped (seconds from the run's first input). */
  atSeconds: number;
  /** How much media the jump left out. */
  skippedSeconds: number;
}

/**
 * Where a running ffmpeg's input jumped forward (input skipped in place, without a restart) and
 * what that means for its output. ffmpeg closes such a gap (`-dts_delta_threshold`): its output
 * timestamps and the program date times it writes run on as if nothing was skipped. So the first
 * segment of each rendition that starts after the jump carries a DISCONTINUITY, and from it on
 * the program date time moves on by the media left out (it stays close to the wall clock).
 * The jump's point is the input's PTS, the output's the sum of segment durations: approximate
 * by a chunk, so the mark may land one segment late. Pure.
 */
export class TimelineJumps {
  private run?: number;
  private firstPts?: number;
  private lastPts?: number;
  private pending = false;
  private readonly jumps: Jump[] = [];
  /** Per rendition: its output so far in this run (s), the jumps it passed, their time shift (ms). */
  private readonly outputs = new Map<string, { seconds: number; passed: number; shiftMs: number }>();

  /** Input skipped in place from now on: the next chunk written to the run `run` tells how far. */
  skipping(run: number): void {
    if (this.run === run) this.pending = true;
  }

  /**
   * A chunk whose highest PTS is `pts` (90 kHz; undefined if it has none) went to run `run`.
   * Returns the media the run's input left out so far (s): its output runs that much behind its PTS.
   */
  written(run: number, pts: number | undefined): number {
    if (this.run !== run) this.startRun(run);
    if (pts === undefined) return this.shiftSeconds();
    if (this.firstPts === undefined || this.lastPts === undefined) {
      this.firstPts = pts;
      this.lastPts = pts;
      this.pending = false;
      return 0;
    }
    if (this.pending) {
      this.pending = false;
      const gap = (pts - this.lastPts) / PTS_PER_SECOND;
      this.jumps.push({
        atSeconds: (this.lastPts - this.firstPts) / PTS_PER_SECOND - this.shiftSeconds(),
        skippedSeconds: gap > CLOSED_GAP_SECONDS && gap < MAX_JUMP_SECONDS ? gap : 0,
      });
    }
    this.lastPts = pts;
    return this.shiftSeconds();
  }

  /**
   * A segment of `rendition` of run `run` lasting `durationSeconds` is published next: whether it
   * is the first after a jump, and how far (ms) its program date time moves on.
   */
  segment(run: number, rendition: string, durationSeconds: number): { discontinuity: boolean; shiftMs: number } {
    if (this.run !== run) return { discontinuity: false, shiftMs: 0 };
    const output = this.outputs.get(rendition) ?? { seconds: 0, passed: 0, shiftMs: 0 };
    this.outputs.set(rendition, output);
    let discontinuity = false;
    while (output.passed < this.jumps.length && this.jumps[output.passed].atSeconds <= output.seconds + TOLERANCE_SECONDS) {
      output.shiftMs += this.jumps[output.passed].skippedSeconds * 1000;
      output.passed += 1;
      discontinuity = true;
    }
    output.seconds += durationSeconds;
    return { discontinuity, shiftMs: Math.round(output.shiftMs) };
  }

  /** The input PTS runs on past the jumps so far; the output's does not. */
  private shiftSeconds(): number {
    return this.jumps.reduce((sum, jump) => sum + jump.skippedSeconds, 0);
  }

  private startRun(run: number): void {
    this.run = run;
    this.firstPts = undefined;
    this.lastPts = undefined;
    this.pending = false;
    this.jumps.length = 0;
    this.outputs.clear();
  }
}
