import type { TranscodeDetail } from '@tributary/contracts';
import { type Logger, transcodeMetrics } from '@tributary/telemetry';
import type { ChunkCoverage } from './chunk-coverage';
import type { InputEnd } from './input-end';
import type { InputSkip } from './input-skip';
import type { LatencyControl, ShedDecision } from './latency-control';
import type { SkipMode } from './latency-governor';
import type { SerialQueue } from './serial-queue';

/** A pipeline's ffmpeg runs as latency actions stop and replace them (FfmpegRuns; the low-latency pipeline's runs). */
export interface ActionRuns {
  /** The run that takes input now. */
  readonly input: { readonly id: number; readonly running: boolean } | undefined;
  /** Kills and detaches the current run; returns it (its output is still to be stopped). */
  kill(): { stopOutput(): Promise<void> } | undefined;
  /** Kills and detaches the current run and stops its output. */
  stop(): Promise<void>;
}

/** A pipeline's output as latency actions need it (SegmentPublisher; the low-latency pipeline's parts). */
export interface ActionOutput {
  /** Flags the next segment of every rendition with a DISCONTINUITY. */
  readonly numbering: { breakAll(): void };
  /** Places a skip in place on the output timeline; absent: the output cannot, so a skip restarts ffmpeg. */
  readonly jumps?: { skipping(runId: number): void };
  /** Resolves once the publications under way landed (the next run numbers after them). */
  settled(): Promise<void>;
}

/** The parts of a pipeline that latency actions work on (shared with it, not owned). */
export interface LatencyActionParts {
  queue: SerialQueue;
  runs: ActionRuns;
  skips: InputSkip;
  input: InputEnd;
  coverage: ChunkCoverage;
  output: ActionOutput;
  latency: LatencyControl;
  logger: Logger;
}

/** What latency actions need from their pipeline's lifecycle. */
export interface LatencyActionHost {
  /** The pipeline is running (not probing, ending or finished). */
  isRunning(): boolean;
  /** Starts the next ffmpeg run with the current plan, re-fed what is not yet covered (in the queue). */
  nextRun(): Promise<void>;
  /** The chunk at `offset` needs nothing more (skipped). */
  done(offset: string): void;
  /** Reports `live` with the renditions of the current plan and `detail`. */
  reportLive(detail: TranscodeDetail): Promise<void>;
}

/**
 * Applies a live stream's latency decisions to its input queue and ffmpeg runs: a shed or restore
 * of the ladder or preset restarts ffmpeg with the new plan; a skip to the newest keyframe drops
 * the queued input while the running ffmpeg keeps reading (TimelineJumps marks the jump in its
 * output) and restarts only when that cannot help (always for low-latency parts, whose output has no
 * TimelineJumps: ffmpeg restarts at the keyframe). Each action is counted and reported once applied.
 */
export class LatencyActions {
  /** Skipped chunks already counted in the metric (several skips may be pending at once). */
  private metered = 0;

  constructor(
    private readonly parts: LatencyActionParts,
    private readonly host: LatencyActionHost,
  ) {}

  /** Applies a LatencyControl decision. */
  shed({ action, detail: snapshot }: ShedDecision): void {
    // As decided now (the restart itself waits for the queue).
    const detail = (): TranscodeDetail => ({ ...snapshot, skipped_chunks: this.parts.skips.skipped });
    if (action === 'skip_to_live') {
      if (!this.skipInPlace(detail)) this.skipTo(this.parts.skips.shedFrom, action, detail);
      return;
    }
    this.restart(false, () => this.host.reportLive(detail()));
  }

  /**
   * How a skip to the newest keyframe would go now: in place when a running ffmpeg takes input,
   * the output can mark a jump, input lies queued between the chunk being written and the newest
   * keyframe and no skip is pending; `none` when such an ffmpeg runs but nothing (more) is queued
   * before the keyframe (what delays the stream is what ffmpeg holds: a restart would only add its
   * start-up); else (no such run, or output without jumps: low-latency parts) by a restart.
   */
  skipMode(): SkipMode {
    const { runs, skips, input, output } = this.parts;
    if (!output.jumps || !this.host.isRunning() || !runs.input?.running) return 'restart';
    const from = skips.shedFrom;
    return !skips.skipPending && from !== Number.MAX_SAFE_INTEGER && from > input.fedUpTo + 1 ? 'in_place' : 'none';
  }

  /** Skips input before chunk `sequence` (queued or already written, not yet covered) and restarts ffmpeg. */
  skipTo(sequence: number, reason: 'skip_to_live', detail?: () => TranscodeDetail): void {
    const { skips } = this.parts;
    skips.skipBefore(sequence);
    this.restart(true, async () => {
      this.meter(reason);
      if (this.host.isRunning()) await this.host.reportLive(detail?.() ?? { mode: 'live', action: reason, skipped_chunks: skips.skipped });
    });
  }

  /**
   * Skips the queued input before the newest keyframe while the running ffmpeg keeps reading (no
   * restart, no start-up cost): its input timestamps jump, which ffmpeg closes, and the output
   * marks the jump (TimelineJumps: DISCONTINUITY, program date time moved on). The keyframe is the
   * newest one when the skip takes effect (InputSkip.skipToNewest), not when it was decided. What
   * ffmpeg already read is transcoded. False when the output cannot mark a jump (low-latency parts), no running
   * ffmpeg takes input, no keyframe was seen, or nothing queued lies before the newest keyframe.
   */
  private skipInPlace(detail: () => TranscodeDetail): boolean {
    const { runs, skips, output, queue, logger } = this.parts;
    const run = runs.input;
    if (!run || !output.jumps || this.skipMode() !== 'in_place') return false;
    const before = skips.skipped;
    // Once it takes effect (the next chunk's turn), every chunk before the keyframe is queued:
    // the report goes after them, so it counts them all.
    skips.skipToNewest(() => {
      void queue
        .run(async () => {
          this.meter('skip_to_live');
          logger.info({ skippedChunks: skips.skipped - before, fromSequence: skips.from }, 'skipped to the newest keyframe without restarting ffmpeg');
          if (this.host.isRunning()) await this.host.reportLive(detail());
        })
        .catch((error: unknown) => logger.error({ err: error }, 'reporting a skip to the newest keyframe failed'));
    });
    output.jumps.skipping(run.id);
    return true;
  }

  /**
   * Stops the current ffmpeg at once (so a write blocked on it returns) and, in the queue, starts
   * the next one with the current plan, re-fed what is not yet covered (`discard`: except the
   * chunks before the InputSkip's `from`, which are skipped). The next segment of every rendition
   * carries a DISCONTINUITY.
   */
  private restart(discard: boolean, then: () => Promise<void>): void {
    const { runs, queue, output, coverage, skips, latency, logger } = this.parts;
    if (!this.host.isRunning()) return;
    // No further decision until the next run shows its effect.
    latency.runStarting();
    const old = runs.kill();
    void queue
      .run(async () => {
        await old?.stopOutput();
        // A run started meanwhile (a backlog turn ended by goLive) is replaced too.
        await runs.stop();
        // The next run numbers after what the old one is still publishing.
        await output.settled();
        if (!this.host.isRunning()) return;
        if (discard) {
          for (const offset of coverage.releaseBefore(skips.from)) {
            skips.counted(1);
            this.host.done(offset);
          }
        }
        output.numbering.breakAll();
        await this.host.nextRun();
        await then();
      })
      .catch((error: unknown) => logger.error({ err: error }, 'restarting ffmpeg after a latency action failed'));
  }

  /** Counts the chunks skipped since the last count. */
  private meter(reason: 'skip_to_live'): void {
    const skipped = this.parts.skips.skipped;
    transcodeMetrics.skippedChunks().inc({ reason }, skipped - this.metered);
    this.metered = skipped;
  }
}
