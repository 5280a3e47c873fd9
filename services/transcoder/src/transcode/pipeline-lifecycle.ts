import type { TranscodeDetail, TranscodeMode } from '@tributary/contracts';
import { type FfmpegExit, hasRandomAccessPoint, type PlannedRendition, type SourceInfo } from '@tributary/media';
import { transcodeMetrics } from '@tributary/telemetry';
import { ChunkCoverage, type InputChunk } from './chunk-coverage';
import { InputSkip } from './input-skip';
import { LatencyActions } from './latency-actions';
import { LatencyControl } from './latency-control';
import type { LifecycleParts, LifecycleRuns } from './lifecycle-parts';
import type { FfmpegPipelineSettings, StreamSessionOptions } from './pipeline-options';
import { PipelineInput } from './pipeline-input';
import { PipelineStatus } from './pipeline-status';
import { ProbeSchedule } from './probe-schedule';
import { RestartBudget } from './restart-budget';
import { SerialQueue } from './serial-queue';

export { exitReason, type LifecycleParts, type LifecycleRuns } from './lifecycle-parts';

export type PipelineState = 'probing' | 'running' | 'ending' | 'done' | 'error' | 'abandoned';

/**
 * The lifecycle every kind of stream pipeline (standard, low-latency) shares: probing → running →
 * ending → done/error/abandoned. It takes the input (PipelineInput: buffered for the probe, then
 * written to ffmpeg), probes it (ProbeSchedule) and plans the ladder, measures the edge delay and
 * applies latency decisions (LatencyControl, LatencyActions), releases input offsets as done,
 * restarts a crashed ffmpeg (RestartBudget, DISCONTINUITY) and reports `live`/`ended`/`error`
 * (PipelineStatus). What differs lives in the subclass: how ffmpeg runs and is fed, how its
 * output is numbered and published, and what `live` carries.
 */
export abstract class PipelineLifecycle<Runs extends LifecycleRuns, Options extends StreamSessionOptions<FfmpegPipelineSettings>> {
  readonly streamId: string;
  readonly partition: number;
  readonly publishSessionId: string;
  readonly finished: Promise<void>;
  protected state: PipelineState = 'probing';
  protected readonly queue = new SerialQueue();
  protected readonly coverage: ChunkCoverage;
  protected readonly skips = new InputSkip();
  protected readonly input: PipelineInput;
  protected readonly latency: LatencyControl;
  protected readonly actions: LatencyActions;
  protected readonly probes: ProbeSchedule;
  protected readonly reports: PipelineStatus;
  protected readonly restarts: RestartBudget;
  protected readonly runs: Runs;
  /** The renditions of the current plan (LadderPlan: never above the source, minus what is shed). */
  protected renditions: PlannedRendition[] = [];
  /** Cut (a newer publish is live): ffmpeg was stopped on purpose, no restart. */
  protected cutting = false;
  protected resolveFinished!: () => void;
  /** The current ffmpeg run handed over output (it decoded its input). */
  private produced = false;
  private readonly kind: LifecycleParts<Runs>;

  constructor(
    protected readonly options: Options,
    parts: LifecycleParts<Runs>,
  ) {
    this.streamId = options.streamId;
    this.partition = options.partition;
    this.publishSessionId = options.publishSessionId;
    this.kind = parts;
    this.runs = parts.runs;
    this.coverage = parts.coverage ?? new ChunkCoverage();
    this.probes = new ProbeSchedule(options.settings.probeInitialBytes ?? 128 * 1024, options.settings.probeMaxBytes);
    this.reports = new PipelineStatus(options.streamId, options.publishSessionId, options.sink, options.logger);
    this.restarts = new RestartBudget(options.settings.maxRestarts);
    this.latency = new LatencyControl(options);
    this.finished = new Promise((resolve) => (this.resolveFinished = resolve));
    this.input = new PipelineInput(this.queue, this.coverage, this.probes, {
      state: () => this.state,
      traced: (traceparent) => this.traced(traceparent),
      skips: (chunk) => this.skips.skips(chunk.sequence),
      done: (offset) => this.done(offset),
      probe: (final) => this.tryProbe(final),
      write: (entry) => this.write(entry),
      endEmpty: () => {
        this.state = 'done';
        this.resolveFinished();
      },
      endRunning: (reason) => {
        this.options.logger.info({ reason }, parts.messages.flushing);
        this.state = 'ending';
        this.endInput();
      },
    });
    this.actions = new LatencyActions(
      { queue: this.queue, runs: parts.runs, skips: this.skips, input: this.input.end, coverage: this.coverage, output: parts.output, latency: this.latency, logger: options.logger },
      {
        isRunning: () => this.state === 'running',
        nextRun: () => {
          this.renditions = this.latency.renditions();
          return this.startRun();
        },
        done: (offset) => this.done(offset),
        reportLive: (detail) => this.reportLive(detail),
      },
    );
  }

  /** `live` or `backlog` (the publisher is gone). */
  abstract get transcodeMode(): TranscodeMode;

  get isFinished(): boolean {
    return this.state === 'done' || this.state === 'error' || this.state === 'abandoned';
  }

  get currentState(): PipelineState {
    return this.state;
  }

  /** How long the oldest input not yet covered by published output has waited since ingest. */
  edgeDelayMs(now = Date.now()): number {
    return this.latency.delayMs(now);
  }

  /** Ingest time of the oldest input not yet transcoded. */
  get oldestPendingMs(): number | undefined {
    return this.latency.oldestMs;
  }

  /** How far the output may trail (ms) before the stream sheds work. */
  get latencyBoundMs(): number {
    return this.latency.boundMs;
  }

  /** 0 = full ladder and preset; 1 = top rendition dropped; 2 = and a faster preset. */
  get shedLevel(): number {
    return this.latency.level;
  }

  /** The running ffmpeg's pid (for diagnostics and fault tests). */
  get ffmpegPid(): number | undefined {
    const run = this.runs.current;
    return run?.running ? run.pid : undefined;
  }

  /** The last media sequence per rendition (to continue numbering in this process). */
  sequencesAfter(): Map<string, number> {
    return this.kind.sequences.lastSequences();
  }

  /** When the last chunk arrived or was fed (the service ends idle pipelines). */
  get lastChunkAt(): number {
    return this.input.lastChunkAt;
  }

  /** Queues a chunk; resolves once it was written to ffmpeg (or buffered, or skipped). */
  feed(chunk: InputChunk): Promise<void> {
    const now = Date.now();
    this.latency.accepted(chunk.ingestTimeMs, now, chunk.offset);
    this.skips.seen(chunk.sequence, chunk.data);
    return this.input.feed(chunk, now);
  }

  /**
   * The publisher ended after chunk `lastSequence`: the input is complete once that chunk has
   * been fed (now, or when it arrives). Without a sequence, ends now.
   */
  endAfter(lastSequence: number | undefined, reason: string): Promise<void> {
    return this.input.endAfter(lastSequence, reason);
  }

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

  /**
   * Called every second by the service: measures how far a live stream trails and sheds or
   * restores work. Returns the edge delay of a running live stream (undefined otherwise).
   */
  checkLatency(now = Date.now()): number | undefined {
    if (this.transcodeMode !== 'live' || this.state !== 'running') return undefined;
    const check = this.latency.check(now, this.runs.started > 0, this.actions.skipMode());
    if (check) {
      // No keyframe seen yet: shedFrom is past everything (MAX_SAFE_INTEGER), logged as none.
      const keyframe = this.skips.shedFrom;
      const newestKeyframe = keyframe === Number.MAX_SAFE_INTEGER ? undefined : keyframe;
      this.options.logger.debug({ edgeDelayMs: Math.round(check.delayMs), shedLevel: this.latency.level, newestKeyframe, fedUpTo: this.input.end.fedUpTo }, 'edge delay');
    }
    if (check?.shed) this.actions.shed(check.shed);
    return check?.delayMs;
  }

  /** ffprobe on `data` (the buffered input). */
  protected abstract probe(data: Buffer): Promise<SourceInfo>;
  /** The source is probed and the ladder planned: start numbering the output. */
  protected abstract probed(info: SourceInfo): Promise<void>;
  /** Starts an ffmpeg run with the current plan and re-feeds it what is not yet covered (but skipped input). */
  protected abstract startRun(): Promise<void>;
  /** Writes a chunk (already in the coverage) to the running ffmpeg. */
  protected abstract write(entry: InputChunk): Promise<void>;
  /** The input is complete: close the running ffmpeg's input so it flushes and exits. */
  protected abstract endInput(): void;
  /** Reports `live` with the current renditions (`detail`: the shed or restore that changed them). */
  protected abstract reportLive(detail?: TranscodeDetail): Promise<void>;
  /** The latest trace context of the input (what output links to). */
  protected abstract traced(traceparent: string): void;
  /** Log fields of the line that says the stream was transcoded to its end. */
  protected abstract summary(): object;

  /** The stream ended, failed, was cut or abandoned, before its report. */
  protected stopped(): void {}

  /** Last step before `finished` resolves once the stream ended or failed. */
  protected async cleanUp(): Promise<void> {}

  /** The chunk at `offset` needs nothing more (covered by published output, or skipped). */
  protected done(offset: string): void {
    this.latency.released(offset);
    this.options.sink.chunkDone(this.partition, offset);
  }

  /** Releases every pending chunk as done. */
  protected releaseAll(): void {
    for (const offset of this.coverage.releaseAll()) this.done(offset);
  }

  /**
   * Writes a new run what is not yet covered by durable output (the probe buffer, or a crashed or
   * replaced run's input), except what a skip to the newest keyframe dropped meanwhile (that can be
   * much: a re-feed after a shed restart is the whole backlog, written as slowly as ffmpeg reads).
   */
  protected async refeed(): Promise<void> {
    for (const entry of [...this.coverage.chunks]) {
      // A pending skip to the newest keyframe takes effect at a re-fed chunk's turn too.
      this.skips.settle();
      if (entry.sequence >= this.skips.from) {
        await this.write(entry);
        continue;
      }
      // Skipped (counted): the pending input before the skip point.
      for (const offset of this.coverage.releaseBefore(this.skips.from)) {
        this.skips.counted(1);
        this.done(offset);
      }
    }
  }

  /** Sends a thumbnail ffmpeg made (linked to `traceparent`, the newest input's); a failure is logged only. */
  protected publishThumbnail(image: Buffer, traceparent: string | undefined): void {
    this.options.sink.thumbnail(this.streamId, image, traceparent).catch((error: unknown) => this.options.logger.warn({ err: error }, 'could not publish a thumbnail'));
  }

  /** Probes the buffered input; once it reads, plans the ladder, reports `live` and starts ffmpeg. */
  private async tryProbe(final: boolean): Promise<void> {
    this.probes.attempted(Date.now());
    const data = Buffer.concat(this.coverage.chunks.map((entry) => entry.data));
    let info: SourceInfo;
    try {
      info = await this.probe(data);
    } catch (error) {
      const message = (error as Error).message;
      if (final || this.probes.exhausted) {
        await this.fail(`input is not decodable video: ${message}`);
      } else {
        this.probes.failed();
        this.options.logger.debug({ bytes: this.probes.buffered, error: message }, 'probe failed; waiting for more input');
      }
      return;
    }
    // The registry's ladder, never above the source (LadderPlan).
    this.latency.probed(info);
    this.renditions = this.latency.renditions();
    await this.probed(info);
    // A backlog session is not live: it reports `ended` (with its detail) once transcoded.
    if (this.transcodeMode === 'live') await this.reportLive();
    this.state = 'running';
    await this.startRun();
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
