import type { TranscodeDetail, TranscodeMode } from '@tributary/contracts';
import { buildLowLatencyArgs, type FfmpegExit, maxPts, partGeometry, probeBuffer, type SourceInfo } from '@tributary/media';
import type { InputChunk } from '../transcode/chunk-coverage';
import type { FfmpegPipelineSettings, StreamSessionOptions } from '../transcode/pipeline-options';
import { exitReason, PipelineLifecycle } from '../transcode/pipeline-lifecycle';
import { lastSequencesOrNow, SequenceNumbering } from '../transcode/sequence-numbering';
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

/** The GOP (s) for a segment duration: the segment divided into keyframe intervals of at most `keyframeSeconds`. */
export function gopSecondsFor(segmentSeconds: number, keyframeSeconds: number): number {
  return segmentSeconds / Math.max(1, Math.ceil(segmentSeconds / keyframeSeconds - 1e-9));
}

/**
 * One low-latency (LL-HLS) stream on this transcoder. Its lifecycle is the standard one
 * (PipelineLifecycle: buffer the first input until ffprobe reads it, plan the ladder never above
 * the source, feed ffmpeg from Kafka chunks, release input offsets once durable output covers
 * them, restart a crashed ffmpeg with a DISCONTINUITY, shed and restore work by LatencyControl);
 * what is its own: its ffmpeg writes fragmented MP4 per rendition to pipes (LowLatencyRun), and
 * each init segment and each part (moof+mdat) is published to video.segments as soon as it is
 * complete (PartPublisher, numbered by PartNumbering, which continues the stream's media sequences
 * from 1 or after the last one on the topic); `live` reports carry `latency_mode: low` and the
 * PART-TARGET the parts need.
 *
 * The parts have no TimelineJumps, so a skip to the newest keyframe restarts ffmpeg there
 * (InputSkip) instead of skipping in place. Every restart (LowLatencyRuns) re-feeds what is not
 * yet covered and breaks every rendition's parts (DISCONTINUITY). Not here (yet): backlog turns
 * (a backlog session runs at once, niced).
 */
export class LowLatencyPipeline extends PipelineLifecycle<LowLatencyRuns, LowLatencyPipelineOptions> {
  private mode: TranscodeMode;
  private readonly sequences: SequenceNumbering;
  private readonly publisher: PartPublisher;
  private readonly delays = new ProduceDelayStats();
  private readonly segmentSeconds: number;
  private partTarget?: PartTarget;
  private source?: SourceInfo;

  constructor(options: LowLatencyPipelineOptions) {
    const segmentSeconds = options.record?.segment_duration_seconds ?? 2;
    const sequences = new SequenceNumbering();
    const parts = new PartNumbering(sequences, segmentSeconds);
    super(options, {
      runs: new LowLatencyRuns(options.startRun),
      // Low-latency output has no TimelineJumps: a skip to the newest keyframe restarts ffmpeg there.
      output: { numbering: parts, settled: () => Promise.resolve() },
      sequences,
      ended: { latency_mode: 'low' },
      messages: {
        flushing: 'input complete; flushing ffmpeg (its last parts follow)',
        restarting: 'low-latency ffmpeg crashed; restarting',
        transcoded: 'low-latency stream transcoded to the end',
      },
    });
    this.mode = options.mode ?? 'live';
    this.segmentSeconds = segmentSeconds;
    this.sequences = sequences;
    this.publisher = new PartPublisher({ streamId: options.streamId, publishSessionId: options.publishSessionId, sink: options.sink, numbering: parts, logger: options.logger });
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

  protected probe(data: Buffer): Promise<SourceInfo> {
    return (this.options.probe ?? ((bytes: Buffer) => probeBuffer(this.options.settings.tools.ffprobe, bytes)))(data);
  }

  protected async probed(info: SourceInfo): Promise<void> {
    this.source = info;
    this.partTarget = new PartTarget(this.options.settings.partSeconds, info.frameRate);
    const last = await lastSequencesOrNow(
      this.options.lastSequences,
      this.renditions.map((rendition) => rendition.name),
      this.options.logger,
    );
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
  }

  /**
   * `live` with the mode and the PART-TARGET viewer-api needs; what is shed now once anything was
   * (LatencyControl.shedState); and `detail`, the shed or restore this report is about (its action
   * and figures are in this report only).
   */
  protected reportLive(detail?: TranscodeDetail): Promise<void> {
    const partTarget = this.partTarget ? { part_target_seconds: this.partTarget.seconds } : {};
    return this.reports.live(this.renditions, { ...this.latency.shedState(), ...detail, mode: this.mode, latency_mode: 'low', ...partTarget });
  }

  protected summary(): object {
    return { sequences: this.sequences.toJSON(), partTargetSeconds: this.partTarget?.seconds, longestPartSeconds: this.partTarget?.longestSeconds, produceDelayMs: this.delays.summary() };
  }

  protected traced(traceparent: string): void {
    this.publisher.lastTraceparent = traceparent;
  }

  protected endInput(): void {
    this.runs.current?.endInput();
  }

  /** Starts ffmpeg with the current plan and writes it what is not yet covered (the probe buffer, or a crashed or replaced run's input) but skipped input. */
  protected async startRun(): Promise<void> {
    this.launch();
    await this.refeed();
  }

  private launch(): void {
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
            onThumbnail: (image: Buffer) => this.publishThumbnail(image, this.publisher.lastTraceparent),
          }
        : {}),
      onOutputError: (rendition, error) => this.options.logger.error({ err: error, rendition }, 'low-latency output could not be read; restarting ffmpeg'),
    };
    this.runStarting();
    const run = this.runs.start(runOptions);
    this.coverage.startRun(run.id);
    const { partFrames, gopFrames } = partGeometry(info.frameRate, settings.partSeconds, gopSeconds);
    this.options.logger.info({ run: run.id, transcodeSession: run.session, pid: run.pid, partFrames, gopFrames, segmentSeconds: this.segmentSeconds }, 'low-latency ffmpeg started');
    void run.exited.then((exit) => this.queue.run(() => this.onExit(run, exit)));
  }

  protected async write(entry: InputChunk): Promise<void> {
    const run = this.runs.current;
    if (!run) return;
    this.coverage.written(entry, maxPts(entry.data));
    this.publisher.chunkWritten(entry.traceparent);
    run.clock.inputWritten(entry.ingestTimeMs);
    await run.write(entry.data);
  }

  private async onOutput(run: LowLatencyRun, output: RenditionOutput): Promise<void> {
    if (this.state === 'abandoned' || run !== this.runs.current) return;
    this.producedOutput();
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

  private async onExit(run: LowLatencyRun, exit: FfmpegExit): Promise<void> {
    if (this.runs.current !== run || this.isFinished || this.cutting) return;
    // Every part ffmpeg wrote before exiting is complete: publish it first.
    await run.drained;
    if (this.state === 'ending' && exit.code === 0) {
      await this.endTranscoded();
      return;
    }
    await this.restartAfterCrash(exit, exitReason(exit));
  }
}
