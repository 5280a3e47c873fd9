import type { TranscodeDetail, TranscodeMode } from '@tributary/contracts';
import { type FfmpegExit, type FinishedSegment, maxPts, type SourceInfo } from '@tributary/media';
import { ChunkCoverage, type InputChunk } from './chunk-coverage';
import { FfmpegRuns } from './ffmpeg-runs';
import type { PipelineOptions } from './pipeline-options';
import { exitReason, PipelineLifecycle } from './pipeline-lifecycle';
import { SegmentPublisher } from './segment-publisher';
import { SessionMode } from './session-mode';
import { FfmpegEngine, type TranscodeEngine, type TranscodeRun } from './transcode-engine';
import { StreamWorkDir } from './work-dir';

export type { InputChunk } from './chunk-coverage';
export type { PipelineOptions, PipelineSettings } from './pipeline-options';
export type { OutgoingSegment, PipelineSink } from './pipeline-sink';

/**
 * One live stream on this transcoder: buffers the first input until ffprobe can read it, plans
 * the ladder (never above the source), runs ffmpeg fed from Kafka chunks, publishes each
 * finished segment with continuing media sequences, and reports which input chunks are covered
 * by acknowledged output. A crashing ffmpeg is restarted (bounded, with backoff) and re-fed the
 * chunks whose output was not yet durable; input ffprobe cannot read marks the stream `error`.
 *
 * The lifecycle (probing → running → ending → done/error/abandoned) is PipelineLifecycle's, the
 * same as the low-latency pipeline's; what is this kind's own lives here and beside it:
 * SegmentPublisher (numbering and publishing whole segments), FfmpegRuns (the current ffmpeg run
 * and its folder), the TranscodeEngine (ffmpeg) and SessionMode.
 *
 * Live stays live: a `backlog` session (publisher gone) waits for a turn and writes input only
 * while no live stream trails (SessionMode with the BacklogGate), with a niced ffmpeg. A live
 * session measures how far its output trails its input; its LatencyControl sheds work when that
 * passes the bound (top rendition → faster preset → skip to the newest keyframe, InputSkip) and
 * restores it with headroom (LadderPlan: the renditions and preset that leaves). LatencyActions
 * applies those decisions: a ladder or preset change restarts ffmpeg (re-fed what is not yet
 * covered, DISCONTINUITY); a skip drops queued input while ffmpeg keeps running (TimelineJumps).
 */
export class StreamPipeline extends PipelineLifecycle<FfmpegRuns, PipelineOptions> {
  private readonly output: SegmentPublisher;
  private readonly engine: TranscodeEngine;
  private readonly mode: SessionMode;
  private hasAudio = false;
  private frameRate?: number;

  constructor(options: PipelineOptions) {
    const engine = options.engine ?? new FfmpegEngine(options.settings.tools);
    const coverage = new ChunkCoverage();
    const output = new SegmentPublisher({ ...options, coverage });
    super(options, {
      runs: new FfmpegRuns(engine, new StreamWorkDir(options.settings.workDir, options.streamId)),
      output,
      coverage,
      sequences: output.numbering,
      messages: { flushing: 'input complete; flushing ffmpeg', restarting: 'ffmpeg crashed; restarting', transcoded: 'stream transcoded to the end' },
    });
    this.engine = engine;
    this.output = output;
    this.mode = new SessionMode(options.mode ?? 'live', options.backlog, this);
  }

  get transcodeMode(): TranscodeMode {
    return this.mode.mode;
  }

  /**
   * A backlog session whose publisher turned out to be there (a fresh chunk arrived): it is live
   * now. Its queued backlog is skipped (a recorded gap) from the newest keyframe on, and ffmpeg
   * restarts at normal priority.
   */
  goLive(freshSequence: number): void {
    if (this.mode.isLive || this.isFinished) return;
    this.mode.goLive();
    const from = this.skips.liveFrom(freshSequence);
    this.options.logger.info({ fromSequence: from }, 'backlog session is live after all: skipping its backlog to the newest keyframe');
    this.actions.skipTo(from, 'skip_to_live');
  }

  /**
   * The publisher left while the output trails its bound: the rest of the input is catch-up work.
   * It no longer competes with live streams: ffmpeg is reniced and further input waits for a
   * backlog turn and for live streams within their bound. The session ends normally (`ended`).
   */
  toBacklog(): void {
    if (this.mode.mode === 'backlog' || this.isFinished) return;
    this.mode.toBacklog();
    const niceness = this.options.settings.backlogNice;
    if (niceness) this.runs.current?.renice(niceness);
    this.options.logger.info({ edgeDelayMs: Math.round(this.latency.delayMs(Date.now())) }, 'publisher gone while the output trails: the rest is backlog, after live streams');
  }

  protected probe(data: Buffer): Promise<SourceInfo> {
    return this.engine.probe(data);
  }

  protected async probed(info: SourceInfo): Promise<void> {
    this.hasAudio = info.hasAudio;
    this.frameRate = info.frameRate;
    await this.output.startNumbering(
      this.renditions.map((rendition) => rendition.name),
      this.options.lastSequences,
    );
    this.options.logger.info(
      { source: info, renditions: this.renditions.map((r) => r.name), startSequences: this.output.numbering.toJSON() },
      'source probed; starting ffmpeg',
    );
  }

  /** `live`; with `detail` (the shed, restore or skip it is about), what is shed now too (LatencyControl.shedState). */
  protected reportLive(detail?: TranscodeDetail): Promise<void> {
    return this.reports.live(this.renditions, detail ? { ...this.latency.shedState(), ...detail } : undefined);
  }

  protected traced(traceparent: string): void {
    this.output.lastTraceparent = traceparent;
  }

  protected endInput(): void {
    this.runs.endInput();
  }

  protected summary(): object {
    return { sequences: this.output.numbering.toJSON() };
  }

  protected override stopped(): void {
    this.mode.end();
  }

  protected override cleanUp(): Promise<void> {
    return this.runs.removeFiles();
  }

  protected async startRun(): Promise<void> {
    const settings = this.options.settings;
    if (this.mode.waitsForTurn) {
      this.options.logger.info('backlog session: waiting for a backlog turn (live streams go first)');
      // Not granted: the wait ended because the session went live (or is stopping).
      if (!(await this.mode.awaitTurn(() => this.isFinished || this.cutting))) return;
      if (this.mode.holdsTurn) this.options.logger.info('backlog session: transcoding for replay');
    }
    this.runStarting();
    const run: TranscodeRun = await this.runs.start({
      renditions: this.renditions,
      segmentDurationSeconds: this.options.record?.segment_duration_seconds ?? 2,
      hasAudio: this.hasAudio,
      ...(this.frameRate ? { frameRate: this.frameRate } : {}),
      preset: this.latency.preset,
      ...(this.mode.mode === 'backlog' && settings.backlogNice ? { niceness: settings.backlogNice } : {}),
      threads: settings.threads,
      thumbnailIntervalSeconds: settings.thumbnailIntervalSeconds,
      onSegment: (segment) => this.publishSegment(run, segment),
      onThumbnail: (image) => this.publishThumbnail(image, this.output.lastTraceparent),
      onOutputError: (error) => this.options.logger.warn({ err: error }, 'segment watcher error'),
    });
    this.coverage.startRun(run.id);
    this.options.logger.info({ run: run.id, transcodeSession: run.session, pid: run.pid }, 'ffmpeg started');
    void run.exited.then((exit) => this.queue.run(() => this.onExit(run, exit)));
    await this.refeed();
  }

  protected async write(entry: InputChunk): Promise<void> {
    // A live session that became backlog (its publisher left while it trailed) takes a turn too.
    if (!(await this.mode.awaitTurn(() => this.isFinished))) return;
    await this.mode.permit();
    const run = this.runs.input;
    if (!run) return;
    const pts = maxPts(entry.data);
    this.coverage.written(entry, pts, this.output.chunkWritten(run.id, pts, entry.traceparent));
    await run.write(entry.data);
  }

  private async publishSegment(run: TranscodeRun, segment: FinishedSegment): Promise<void> {
    // A cut session's remaining output is part of its recorded gap.
    if (this.state === 'abandoned' || this.cutting) return;
    if (run === this.runs.current) this.producedOutput();
    const released = await this.output.publish(
      run,
      segment,
      this.renditions.map((rendition) => rendition.name),
    );
    if (run === this.runs.current) this.latency.published(segment.rendition === this.renditions.at(-1)?.name, segment.durationSeconds, Date.now());
    for (const offset of released) this.done(offset);
  }

  private async onExit(run: TranscodeRun, exit: FfmpegExit): Promise<void> {
    if (this.runs.current !== run || this.state === 'abandoned' || this.isFinished) return;
    // Whatever ffmpeg listed as finished is complete: publish it before anything else.
    await run.finishOutput();
    if (this.state === 'ending' && exit.code === 0) {
      await this.endTranscoded();
      return;
    }
    await this.restartAfterCrash(exit, exitReason(exit));
  }
}
