import type { TranscodeDetail, TranscodeMode } from '@tributary/contracts';
import { buildLowLatencyArgs, type FfmpegExit, hasRandomAccessPoint, maxPts, partGeometry, type PlannedRendition, probeBuffer, type SourceInfo } from '@tributary/media';
import { transcodeMetrics } from '@tributary/telemetry';
import { ChunkCoverage, type InputChunk } from '../transcode/chunk-coverage';
import { InputSkip } from '../transcode/input-skip';
import { LatencyActions } from '../transcode/latency-actions';
import { LatencyControl } from '../transcode/latency-control';
import type { FfmpegPipelineSettings, StreamSessionOptions } from '../transcode/pipeline-options';
import { PipelineInput } from '../transcode/pipeline-input';
import { PipelineStatus } from '../transcode/pipeline-status';
import { ProbeSchedule } from '../transcode/probe-schedule';
import { RestartBudget } from '../transcode/restart-budget';
import { SequenceNumbering } from '../transcode/sequence-numbering';
import { SerialQueue } from '../transcode/serial-queue';
import type { LowLatencyRun, LowLatencyRunOptions, RenditionOutput } from './low-latency-run';
import { LowLatencyRuns } from './low-latency-runs';
import { PartNumbering, PartTarget } from './part-numbering';
import { PartPublisher } from './part-publisher';
import { ProduceDelayStats } from './produce-delay-stats';

/** The service's low-latency settings (TRANSCODER_LL_* and the shared ffmpeg settings). */
export interface LowLatencySettings extends FfmpegPipelineSettings {
  /** Target part duration (s). */
  partSeconds: number;
  /** Longest keyframe interval (s); the GOP divides the segment and is a whole number of parts. */
  keyframeSeconds: number;
}

export interface LowLatencyPipelineOptions extends StreamSessionOptions<LowLatencySettings> {
  /** ffprobe and the ffmpeg run (default: the real ones). */
  probe?: (data: Buffer) => Promise<SourceInfo>;
  startRun?: (options: LowLatencyRunOptions) => LowLatencyRun;
}

type State = 'probing' | 'running' | 'ending' | 'done' | 'error' | 'abandoned';

/** The GOP (s) for a segment duration: the segment divided into keyframe intervals of at most `keyframeSeconds`. */
export function gopSecondsFor(segmentSeconds: number, keyframeSeconds: number): number {
  return segmentSeconds / Math.max(1, Math.ceil(segmentSeconds / keyframeSeconds - 1e-9));
}

/**
 * One low-latency (LL-HLS) stream on this transcoder: like the standard StreamPipeline it buffers
 * the first input until ffprobe reads it, plans the ladder (never above the source), feeds ffmpeg
 * from Kafka chunks and releases input offsets once durable output covers them; but its ffmpeg
 * writes fragmented MP4 per rendition to pipes (LowLatencyRun), and each init segment and each
 * part (moof+mdat) is published to video.segments as soon as it is complete (PartPublisher,
 * numbered by PartNumbering, which continues the stream's media sequences from 1 or after the
 * last one on the topic). A crashed ffmpeg is restarted (bounded, DISCONTINUITY); `live` reports
 * carry `latency_mode: low` and the PART-TARGET the parts need.
 *
 * A live stream sheds work like a standard one, by the same LatencyControl decisions (top
 * rendition → faster preset → skip to the newest keyframe, restored with headroom; LadderPlan)
 * applied by the same LatencyActions, with one difference: the parts have no TimelineJumps, so a
 * skip restarts ffmpeg at the newest keyframe (InputSkip) instead of skipping in place. Every
 * restart (LowLatencyRuns) re-feeds what is not yet covered and breaks every rendition's parts
 * (DISCONTINUITY). Not here (yet): backlog turns (a backlog session runs at once, niced).
 */
export class LowLatencyPipeline {
  readonly streamId: string;
  readonly partition: number;
  readonly publishSessionId: string;
  readonly finished: Promise<void>;
  private state: State = 'probing';
  private mode: TranscodeMode;
  private readonly queue = new SerialQueue();
  private readonly coverage = new ChunkCoverage();
  private readonly input: PipelineInput;
  private readonly latency: LatencyControl;
  private readonly skips = new InputSkip();
  private readonly actions: LatencyActions;
  private readonly runs: LowLatencyRuns;
  private readonly probes: ProbeSchedule;
  private readonly reports: PipelineStatus;
  private readonly restarts: RestartBudget;
  private readonly sequences = new SequenceNumbering();
  private readonly parts: PartNumbering;
  private readonly publisher: PartPublisher;
  private readonly delays = new ProduceDelayStats();
  private readonly segmentSeconds: number;
  private partTarget?: PartTarget;
  private renditions: PlannedRendition[] = [];
  private source?: SourceInfo;
  /** The detail of the last shed or restore (every later `live` report carries it on). */
  private shed?: TranscodeDetail;
  /** Cut (a newer publish is live): ffmpeg was killed on purpose, no restart. */
  private cutting = false;
  /** The last run that handed over output. */
  private producer?: LowLatencyRun;
  private resolveFinished!: () => void;

  constructor(private readonly options: LowLatencyPipelineOptions) {
    this.streamId = options.streamId;
    this.partition = options.partition;
    this.publishSessionId = options.publishSessionId;
    this.mode = options.mode ?? 'live';
    this.segmentSeconds = options.record?.segment_duration_seconds ?? 2;
    this.probes = new ProbeSchedule(options.settings.probeInitialBytes ?? 128 * 1024, options.settings.probeMaxBytes);
    this.reports = new PipelineStatus(options.streamId, options.publishSessionId, options.sink, options.logger);
    this.restarts = new RestartBudget(options.settings.maxRestarts);
    this.latency = new LatencyControl(options);
    this.runs = new LowLatencyRuns(options.startRun);
    this.parts = new PartNumbering(this.sequences, this.segmentSeconds);
    this.publisher = new PartPublisher({ streamId: options.streamId, publishSessionId: options.publishSessionId, sink: options.sink, numbering: this.parts, logger: options.logger });
    this.finished = new Promise((resolve) => (this.resolveFinished = resolve));
    this.input = new PipelineInput(this.queue, this.coverage, this.probes, {
      state: () => this.state,
      traced: (traceparent) => (this.publisher.lastTraceparent = traceparent),
      skips: (chunk) => this.skips.skips(chunk.sequence),
      done: (offset) => this.done(offset),
      probe: (final) => this.tryProbe(final),
      write: (entry) => this.write(entry),
      endEmpty: () => {
        this.state = 'done';
        this.resolveFinished();
      },
      endRunning: (reason) => {
        this.options.logger.info({ reason }, 'input complete; flushing ffmpeg (its last parts follow)');
        this.state = 'ending';
        this.runs.current?.endInput();
      },
    });
    // Low-latency output has no TimelineJumps: a skip to the newest keyframe restarts ffmpeg there.
    const output = { numbering: this.parts, settled: () => Promise.resolve() };
    this.actions = new LatencyActions(
      { queue: this.queue, runs: this.runs, skips: this.skips, input: this.input.end, coverage: this.coverage, output, latency: this.latency, logger: options.logger },
      {
        isRunning: () => this.state === 'running',
        nextRun: async () => {
          this.renditions = this.latency.renditions();
          this.startRun();
          await this.refeed();
        },
        done: (offset) => this.done(offset),
        reportLive: (detail) => {
          this.shed = detail;
          return this.reportLive();
        },
      },
    );
  }

  get isFinished(): boolean {
    return this.state === 'done' || this.state === 'error' || this.state === 'abandoned';
  }

  get currentState(): State {
    return this.state;
  }

  get transcodeMode(): TranscodeMode {
    return this.mode;
  }

  /** The PART-TARGET the parts need so far (undefined before the probe). */
  get partTargetSeconds(): number | undefined {
    return this.partTarget?.seconds;
  }

  /** From ffmpeg writing a part to Kafka acknowledging it, over this stream's parts so far. */
  produceDelays(): ReturnType<ProduceDelayStats['summary']> {
    return this.delays.summary();
  }

  edgeDelayMs(now = Date.now()): number {
    return this.latency.delayMs(now);
  }

  get oldestPendingMs(): number | undefined {
    return this.latency.oldestMs;
  }

  get latencyBoundMs(): number {
    return this.latency.boundMs;
  }

  /** 0 = full ladder and preset; 1 = top rendition dropped; 2 = and a faster preset. */
  get shedLevel(): number {
    return this.latency.level;
  }

  get ffmpegPid(): number | undefined {
    const run = this.runs.current;
    return run?.running ? run.pid : undefined;
  }

  sequencesAfter(): Map<string, number> {
    return this.sequences.lastSequences();
  }

  /** When the last chunk arrived or was fed (the service ends idle pipelines). */
  get lastChunkAt(): number {
    return this.input.lastChunkAt;
  }

  feed(chunk: InputChunk): Promise<void> {
    const now = Date.now();
    this.latency.accepted(chunk.ingestTimeMs, now);
    this.skips.seen(chunk.sequence, chunk.data);
    return this.input.feed(chunk, now);
  }

  endAfter(lastSequence: number | undefined, reason: string): Promise<void> {
    return this.input.endAfter(lastSequence, reason);
  }

  async abandon(): Promise<void> {
    if (this.isFinished) return;
    this.state = 'abandoned';
    const run = this.runs.current;
    run?.kill();
    if (run) await run.exited;
    this.resolveFinished();
  }

  /**
   * Called every second by the service: measures how far a live stream trails and sheds or
   * restores work (LatencyControl, as for standard streams). Returns the edge delay of a running
   * live stream (undefined otherwise).
   */
  checkLatency(now = Date.now()): number | undefined {
    if (this.mode !== 'live' || this.state !== 'running') return undefined;
    const check = this.latency.check(now, this.runs.started > 0);
    if (check?.shed) this.actions.shed(check.shed);
    return check?.delayMs;
  }

  /** A backlog session whose publisher is there after all: it runs at once anyway, so it only changes its mode. */
  goLive(): void {
    if (this.mode === 'backlog' && !this.isFinished) this.mode = 'live';
  }

  /** The publisher left while the output trails: the rest is backlog (its ffmpeg is reniced). */
  toBacklog(): void {
    if (this.mode === 'backlog' || this.isFinished) return;
    this.mode = 'backlog';
    const niceness = this.options.settings.backlogNice;
    if (niceness) this.runs.current?.renice(niceness);
  }

  /** A newer publish of the stream is live: stop now; what is not covered is a recorded gap. */
  cut(reason: string): Promise<void> {
    const run = this.runs.current;
    this.cutting = true;
    run?.kill();
    return this.queue.run(async () => {
      if (this.isFinished) return;
      // The current run: this one, or one a shed restart queued before the cut started meanwhile.
      await this.runs.stop();
      const skipped = this.coverage.releaseAll();
      for (const offset of skipped) this.done(offset);
      transcodeMetrics.skippedChunks().inc({ reason: 'backlog_cut' }, skipped.length);
      this.state = 'done';
      await this.reports.ended({ mode: this.mode, action: 'backlog_cut', skipped_chunks: skipped.length, latency_mode: 'low' }, `backlog cut: ${reason}`);
      this.resolveFinished();
    });
  }

  private async tryProbe(final: boolean): Promise<void> {
    this.probes.attempted(Date.now());
    const data = Buffer.concat(this.coverage.chunks.map((entry) => entry.data));
    let info: SourceInfo;
    try {
      info = await (this.options.probe ?? ((bytes: Buffer) => probeBuffer(this.options.settings.tools.ffprobe, bytes)))(data);
    } catch (error) {
      const message = (error as Error).message;
      if (final || this.probes.exhausted) await this.fail(`input is not decodable video: ${message}`);
      else this.probes.failed();
      return;
    }
    this.source = info;
    // The same ladder rules as standard mode (LadderPlan): the registry's ladder, never above the source.
    this.latency.probed(info);
    this.renditions = this.latency.renditions();
    this.partTarget = new PartTarget(this.options.settings.partSeconds, info.frameRate);
    const last = await this.options.lastSequences.catch((error: unknown) => {
      this.options.logger.error({ err: error }, 'could not read the tail of video.segments; numbering from the current time to stay monotonic');
      const floor = Math.floor(Date.now() / 1000);
      return new Map(this.renditions.map((rendition) => [rendition.name, floor] as const));
    });
    // From 1: hls.js skips blocking playlist reload while the last media sequence is 0.
    this.sequences.start(
      this.renditions.map((rendition) => rendition.name),
      last,
      1,
    );
    this.options.logger.info(
      { source: info, renditions: this.renditions.map((r) => r.name), startSequences: this.sequences.toJSON(), partTargetSeconds: this.partTarget.seconds },
      'source probed; starting low-latency ffmpeg (fMP4 parts)',
    );
    if (this.mode === 'live') await this.reportLive();
    this.state = 'running';
    this.startRun();
    await this.refeed();
  }

  /** `live` detail: the last shed or restore (if any), the mode and the PART-TARGET viewer-api needs. */
  private detail(): TranscodeDetail {
    return { ...this.shed, mode: this.mode, latency_mode: 'low', ...(this.partTarget ? { part_target_seconds: this.partTarget.seconds } : {}) };
  }

  private reportLive(): Promise<void> {
    return this.reports.live(this.renditions, this.detail());
  }

  private startRun(): void {
    const settings = this.options.settings;
    const info = this.source!;
    const gopSeconds = gopSecondsFor(this.segmentSeconds, settings.keyframeSeconds);
    const args = buildLowLatencyArgs({
      renditions: this.renditions,
      hasAudio: info.hasAudio,
      ...(info.frameRate ? { frameRate: info.frameRate } : {}),
      partSeconds: settings.partSeconds,
      gopSeconds,
      preset: this.latency.preset,
      threads: settings.threads,
      thumbnailIntervalSeconds: settings.thumbnailIntervalSeconds,
    });
    const niceness = this.mode === 'backlog' ? settings.backlogNice : undefined;
    const runOptions: Omit<LowLatencyRunOptions, 'id'> = {
      ffmpegPath: settings.tools.ffmpeg,
      args,
      ...(niceness ? { niceness } : {}),
      renditions: this.renditions.map((rendition) => rendition.name),
      onOutput: (output) => this.onOutput(run, output),
      ...(settings.thumbnailIntervalSeconds > 0
        ? {
            onThumbnail: (image: Buffer) => {
              this.options.sink
                .thumbnail(this.streamId, image, this.publisher.lastTraceparent)
                .catch((error: unknown) => this.options.logger.warn({ err: error }, 'could not publish a thumbnail'));
            },
          }
        : {}),
      onOutputError: (rendition, error) => this.options.logger.error({ err: error, rendition }, 'low-latency output could not be read; restarting ffmpeg'),
    };
    this.latency.runStarting();
    const run = this.runs.start(runOptions);
    this.coverage.startRun(run.id);
    const { partFrames, gopFrames } = partGeometry(info.frameRate, settings.partSeconds, gopSeconds);
    this.options.logger.info({ run: run.id, transcodeSession: run.session, pid: run.pid, partFrames, gopFrames, segmentSeconds: this.segmentSeconds }, 'low-latency ffmpeg started');
    void run.exited.then((exit) => this.queue.run(() => this.onExit(run, exit)));
  }

  /** Writes what is not yet covered to the new run (the probe buffer, or a crashed or replaced run's input) but skipped input. */
  private async refeed(): Promise<void> {
    for (const entry of [...this.coverage.chunks]) {
      if (entry.sequence < this.skips.from) {
        for (const offset of this.coverage.releaseBefore(this.skips.from)) {
          this.skips.counted(1);
          this.done(offset);
        }
        continue;
      }
      await this.write(entry);
    }
  }

  private async write(entry: InputChunk): Promise<void> {
    const run = this.runs.current;
    if (!run) return;
    this.coverage.written(entry, maxPts(entry.data));
    this.publisher.chunkWritten(entry.traceparent);
    run.clock.inputWritten(entry.ingestTimeMs);
    await run.write(entry.data);
  }

  private async onOutput(run: LowLatencyRun, output: RenditionOutput): Promise<void> {
    if (this.state === 'abandoned' || run !== this.runs.current) return;
    this.producer = run;
    if (output.kind === 'fragment' && this.partTarget?.observe(output.durationSeconds)) {
      // Reported before the part is published, so viewer-api knows the target before it lists the part.
      this.options.logger.info({ rendition: output.rendition, partSeconds: output.durationSeconds, partTargetSeconds: this.partTarget.seconds }, 'part longer than PART-TARGET so far: reporting the larger target');
      if (this.mode === 'live') await this.reportLive();
    }
    const result = await this.publisher.publish(run, output);
    if (!result.delivered) return;
    this.delays.add(result.produceDelayMs);
    if (output.kind !== 'fragment') return;
    if (run === this.runs.current) this.latency.published(output.rendition === this.renditions.at(-1)?.name, output.durationSeconds, Date.now());
    const released = this.coverage.segmentDurable(
      run.id,
      output.rendition,
      output.durationSeconds,
      this.renditions.map((rendition) => rendition.name),
    );
    for (const offset of released) this.done(offset);
  }

  private done(offset: string): void {
    this.latency.released();
    this.options.sink.chunkDone(this.partition, offset);
  }

  private async onExit(run: LowLatencyRun, exit: FfmpegExit): Promise<void> {
    if (this.runs.current !== run || this.isFinished || this.cutting) return;
    // Every part ffmpeg wrote before exiting is complete: publish it first.
    await run.drained;
    const reason = `ffmpeg exited with ${exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`}: ${exit.stderrTail.trim().split('\n').slice(-4).join(' | ').slice(-1500)}`;
    // A restarted run fed only the end of a GOP (restarted shortly before the input ended: what was
    // not yet covered starts mid-GOP and no keyframe followed) decodes nothing and fails; another
    // restart would be fed the same. That input is a gap, as the frames before any restarted run's
    // first keyframe are.
    const undecodable =
      this.state === 'ending' && exit.code !== 0 && this.runs.started > 1 && this.producer !== run && !this.coverage.chunks.some((entry) => hasRandomAccessPoint(entry.data));
    if (undecodable) this.options.logger.warn({ chunks: this.coverage.size, reason }, 'the input left for ffmpeg after its last restart holds no keyframe (nothing to decode): ending without it');
    if (this.state === 'ending' && (exit.code === 0 || undecodable)) {
      for (const offset of this.coverage.releaseAll()) this.done(offset);
      this.state = 'done';
      const skipped = this.skips.skipped;
      await this.reports.ended(this.mode === 'backlog' || skipped > 0 ? { mode: this.mode, latency_mode: 'low', ...(skipped > 0 ? { skipped_chunks: skipped } : {}) } : undefined);
      this.options.logger.info(
        { sequences: this.sequences.toJSON(), partTargetSeconds: this.partTarget?.seconds, longestPartSeconds: this.partTarget?.longestSeconds, produceDelayMs: this.delays.summary() },
        'low-latency stream transcoded to the end',
      );
      this.resolveFinished();
      return;
    }
    const delay = this.restarts.take();
    if (delay === undefined) {
      await this.fail(`transcoding failed after ${this.restarts.count} restarts: ${reason}`);
      return;
    }
    transcodeMetrics.ffmpegRestarts().inc({ reason: exit.signal ? 'signal' : 'exit' });
    this.options.logger.warn({ restart: this.restarts.count, delayMs: delay, reason }, 'low-latency ffmpeg crashed; restarting');
    await new Promise((resolve) => setTimeout(resolve, delay));
    if (this.isFinished) return;
    this.parts.breakAll();
    const ending = this.state === 'ending';
    this.state = 'running';
    this.startRun();
    await this.refeed();
    if (ending) await this.input.close('publisher ended (after restart)');
  }

  private async fail(reason: string): Promise<void> {
    this.options.logger.error({ reason }, 'stream cannot be transcoded; marking it error and skipping its input');
    this.state = 'error';
    this.runs.current?.kill();
    for (const offset of this.coverage.releaseAll()) this.done(offset);
    await this.reports.error(reason);
    this.resolveFinished();
  }
}
