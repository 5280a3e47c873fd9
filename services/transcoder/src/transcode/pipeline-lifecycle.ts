import { type FfmpegExit, hasRandomAccessPoint } from '@tributary/media';
import { transcodeMetrics } from '@tributary/telemetry';
import type { LifecycleRuns } from './lifecycle-parts';
import { PipelineCore } from './pipeline-core';
import type { FfmpegPipelineSettings, StreamSessionOptions } from './pipeline-options';

export { exitReason, type LifecycleParts, type LifecycleRuns } from './lifecycle-parts';
export type { PipelineState } from './pipeline-core';

/**
 * The lifecycle every kind of stream pipeline (standard, low-latency) shares: probing → running →
 * ending → done/error/abandoned. On PipelineCore (input, probe, latency), it ends a session:
 * transcoded to the end, cut (a newer publish is live), abandoned (the partition moved), or failed;
 * restarts a crashed ffmpeg (RestartBudget, DISCONTINUITY) and reports `ended`/`error`
 * (PipelineStatus). What differs lives in the subclass: how ffmpeg runs and is fed, how its
 * output is numbered and published, and what `live` carries.
 */
export abstract class PipelineLifecycle<Runs extends LifecycleRuns, Options extends StreamSessionOptions<FfmpegPipelineSettings>> extends PipelineCore<Runs, Options> {
  /** The current ffmpeg run handed over output (it decoded its input). */
  private produced = false;

  /** Stops without output or status (the partition moved to another transcoder). */
  async abandon(): Promise<void> {
    if (this.isFinished) return;
    this.state = 'abandoned';
    this.stopped();
    await this.runs.stop();
    await this.cleanUp();
    this.resolveFinished();
  }

  /**
   * Ends the session now (a newer publish of the stream is live): ffmpeg is killed at once (so a
   * write blocked on it returns), what it had not covered and what is still queued are skipped (a
   * recorded gap), and it reports `ended` with `backlog_cut`.
   */
  cut(reason: string): Promise<void> {
    this.skips.skipAll();
    const before = this.skips.skipped;
    this.cutting = true;
    this.stopped();
    const killed = this.runs.kill();
    return this.queue.run(async () => {
      if (this.isFinished) return;
      await killed?.stopOutput();
      // A run a shed restart queued before the cut started meanwhile is stopped too.
      await this.runs.stop();
      // A publication that started before the cut must land (or fail) before the stream's next
      // session takes its first sequence number from this one's last.
      await this.kind.output.settled();
      const skipped = this.coverage.releaseAll();
      for (const offset of skipped) this.done(offset);
      this.skips.counted(skipped.length);
      transcodeMetrics.skippedChunks().inc({ reason: 'backlog_cut' }, this.skips.skipped - before);
      this.options.logger.warn({ reason, skippedChunks: this.skips.skipped }, 'backlog session cut: its untranscoded input is a recorded gap');
      this.state = 'done';
      await this.reports.ended({ mode: this.transcodeMode, ...this.kind.ended, action: 'backlog_cut', skipped_chunks: this.skips.skipped }, `backlog cut: ${reason}`);
      await this.cleanUp();
      this.resolveFinished();
    });
  }

  /** ffmpeg (re)starts (or is about to): it has produced nothing yet, and no latency decision until it does. */
  protected runStarting(): void {
    this.produced = false;
    this.latency.runStarting();
  }

  /** The current run handed over output (a segment or part). */
  protected producedOutput(): void {
    this.produced = true;
  }

  /** ffmpeg exited after the input ended and flushed its output: release everything and report `ended`. */
  protected async endTranscoded(): Promise<void> {
    this.releaseAll();
    this.state = 'done';
    this.stopped();
    const skipped = this.skips.skipped;
    const mode = this.transcodeMode;
    const extra = this.kind.ended ?? {};
    await this.reports.ended(mode === 'backlog' || skipped > 0 ? { mode, ...extra, ...(skipped > 0 ? { skipped_chunks: skipped } : {}) } : undefined);
    this.options.logger.info(this.summary(), this.kind.messages.transcoded);
    await this.cleanUp();
    this.resolveFinished();
  }

  /**
   * ffmpeg crashed (`reason`: exitReason): restarts it after a backoff, re-fed what is not yet
   * covered, every rendition's next output with a DISCONTINUITY; once the RestartBudget is spent,
   * the stream fails. A restarted run that produced nothing when the input ended, fed only input
   * without a keyframe (a shed restart shortly before the end re-fed the end of a GOP), decoded
   * nothing and another restart would be fed the same: the stream ends without it (a gap, as the
   * frames before any restarted run's first keyframe are).
   */
  protected async restartAfterCrash(exit: Pick<FfmpegExit, 'signal'>, reason: string): Promise<void> {
    if (this.state === 'ending' && this.runs.started > 1 && !this.produced && !this.coverage.chunks.some((entry) => hasRandomAccessPoint(entry.data))) {
      this.options.logger.warn({ chunks: this.coverage.size, reason }, 'the input left for ffmpeg after its last restart holds no keyframe (nothing to decode): ending without it');
      await this.endTranscoded();
      return;
    }
    const delay = this.restarts.take();
    if (delay === undefined) {
      await this.fail(`transcoding failed after ${this.restarts.count} restarts: ${reason}`);
      return;
    }
    transcodeMetrics.ffmpegRestarts().inc({ reason: exit.signal ? 'signal' : 'exit' });
    this.options.logger.warn({ restart: this.restarts.count, delayMs: delay, reason }, this.kind.messages.restarting);
    await new Promise((resolve) => setTimeout(resolve, delay));
    if (this.isFinished) return;
    this.kind.output.numbering.breakAll();
    const ending = this.state === 'ending';
    this.state = 'running';
    await this.startRun();
    if (ending) await this.input.close('publisher ended (after restart)');
  }

  /** The stream cannot be transcoded: stop ffmpeg, skip its input, report `error`. */
  protected async fail(reason: string): Promise<void> {
    this.options.logger.error({ reason }, 'stream cannot be transcoded; marking it error and skipping its input');
    this.state = 'error';
    this.stopped();
    // Output the run hands over meanwhile is handled before `error` is reported.
    await this.runs.stop();
    this.releaseAll();
    await this.reports.error(reason);
    await this.cleanUp();
    this.resolveFinished();
  }
}
