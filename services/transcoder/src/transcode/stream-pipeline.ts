import type { TranscodeMode } from '@tributary/contracts';
import { type FinishedSegment, maxPts, type PlannedRendition } from '@tributary/media';
import { transcodeMetrics } from '@tributary/telemetry';
import { ChunkCoverage, type InputChunk } from './chunk-coverage';
import { FfmpegRuns } from './ffmpeg-runs';
import { InputSkip } from './input-skip';
import { LatencyActions } from './latency-actions';
import { LatencyControl } from './latency-control';
import type { PipelineOptions } from './pipeline-options';
import { PipelineInput } from './pipeline-input';
import { PipelineStatus } from './pipeline-status';
import { ProbeSchedule } from './probe-schedule';
import { RestartBudget } from './restart-budget';
import { SegmentPublisher } from './segment-publisher';
import { SerialQueue } from './serial-queue';
import { SessionMode } from './session-mode';
import { FfmpegEngine, type TranscodeEngine, type TranscodeRun } from './transcode-engine';
import { StreamWorkDir } from './work-dir';

export type { InputChunk } from './chunk-coverage';
export type { PipelineOptions, PipelineSettings } from './pipeline-options';
export type { OutgoingSegment, PipelineSink } from './pipeline-sink';

type State = 'probing' | 'running' | 'ending' | 'done' | 'error' | 'abandoned';

/**
 * One live stream on this transcoder: buffers the first input until ffprobe can read it, plans
 * the ladder (never above the source), runs ffmpeg fed from Kafka chunks, publishes each
 * finished segment with continuing media sequences, and reports which input chunks are covered
 * by acknowledged output. A crashing ffmpeg is restarted (bounded, with backoff) and re-fed the
 * chunks whose output was not yet durable; input ffprobe cannot read marks the stream `error`.
 *
 * This class is the lifecycle (probing → running → ending → done/error/abandoned); the parts
 * with one job each live beside it: ProbeSchedule (when to probe), ChunkCoverage (which offsets
 * are covered by durable output), SegmentPublisher (numbering and publishing output), InputEnd
 * (where the input ends), PipelineStatus (stream.status reports), RestartBudget, FfmpegRuns
 * (the current ffmpeg run and its folder), SerialQueue and the TranscodeEngine (ffmpeg).
 *
 * Live stays live: a `backlog` session (publisher gone) waits for a turn and writes input only
 * while no live stream trails (SessionMode with the BacklogGate), with a niced ffmpeg. A live
 * session measures how far its output trails its input; its LatencyControl sheds work when that
 * passes the bound (top rendition → faster preset → skip to the newest keyframe, InputSkip) and
 * restores it with headroom (LadderPlan: the renditions and preset that leaves). LatencyActions
 * applies those decisions: a ladder or preset change restarts ffmpeg (re-fed what is not yet
 * covered, DISCONTINUITY); a skip drops queued input while ffmpeg keeps running (TimelineJumps).
 */
export class StreamPipeline {
  readonly streamId: string;
  readonly partition: number;
  readonly publishSessionId: string;
  private state: State = 'probing';
  private readonly coverage = new ChunkCoverage();
  private readonly output: SegmentPublisher;
  private readonly probes: ProbeSchedule;
  private readonly input: PipelineInput;
  private readonly reports: PipelineStatus;
  private readonly restarts: RestartBudget;
  private readonly runs: FfmpegRuns;
  private readonly queue = new SerialQueue();
  private readonly engine: TranscodeEngine;
  private readonly mode: SessionMode;
  private readonly latency: LatencyControl;
  private readonly skips = new InputSkip();
  private readonly actions: LatencyActions;
  private renditions: PlannedRendition[] = [];
  private hasAudio = false;
  private frameRate?: number;
  private cutting = false;
  private resolveFinished!: () => void;
  readonly finished: Promise<void>;

  constructor(private readonly options: PipelineOptions) {
    this.streamId = options.streamId;
    this.partition = options.partition;
    this.publishSessionId = options.publishSessionId;
    this.probes = new ProbeSchedule(options.settings.probeInitialBytes ?? 128 * 1024, options.settings.probeMaxBytes);
    this.output = new SegmentPublisher({ ...options, coverage: this.coverage });
    this.reports = new PipelineStatus(options.streamId, options.publishSessionId, options.sink, options.logger);
    this.mode = new SessionMode(options.mode ?? 'live', options.backlog, this);
    this.latency = new LatencyControl(options);
    this.restarts = new RestartBudget(options.settings.maxRestarts);
    this.engine = options.engine ?? new FfmpegEngine(options.settings.tools);
    this.runs = new FfmpegRuns(this.engine, new StreamWorkDir(options.settings.workDir, options.streamId));
    this.finished = new Promise((resolve) => (this.resolveFinished = resolve));
    this.input = new PipelineInput(this.queue, this.coverage, this.probes, {
      state: () => this.state,
      traced: (traceparent) => (this.output.lastTraceparent = traceparent),
      skips: (chunk) => this.skips.skips(chunk.sequence),
      done: (offset) => this.done(offset),
      probe: (final) => this.tryProbe(final),
      write: (entry) => this.write(entry),
      endEmpty: () => {
        this.state = 'done';
        this.resolveFinished();
      },
      endRunning: (reason) => {
        this.options.logger.info({ reason }, 'input complete; flushing ffmpeg');
        this.state = 'ending';
        this.runs.endInput();
      },
    });
    this.actions = new LatencyActions(
      { queue: this.queue, runs: this.runs, skips: this.skips, input: this.input.end, coverage: this.coverage, output: this.output, latency: this.latency, logger: options.logger },
      {
        isRunning: () => this.state === 'running',
        nextRun: () => {
          this.renditions = this.latency.renditions();
          return this.startRun();
        },
        done: (offset) => this.done(offset),
        reportLive: (detail) => this.reports.live(this.renditions, detail),
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
    return this.mode.mode;
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
    return this.output.numbering.lastSequences();
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
    this.mode.end();
    await this.runs.stop();
    await this.runs.removeFiles();
    this.resolveFinished();
  }

  private async tryProbe(final: boolean): Promise<void> {
    this.probes.attempted(Date.now());
    const data = Buffer.concat(this.coverage.chunks.map((entry) => entry.data));
    let info;
    try {
      info = await this.engine.probe(data);
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
    this.hasAudio = info.hasAudio;
    this.frameRate = info.frameRate;
    this.latency.probed(info);
    this.renditions = this.latency.renditions();
    await this.output.startNumbering(
      this.renditions.map((rendition) => rendition.name),
      this.options.lastSequences,
    );
    this.options.logger.info(
      { source: info, renditions: this.renditions.map((r) => r.name), startSequences: this.output.numbering.toJSON() },
      'source probed; starting ffmpeg',
    );
    // A backlog session is not live: it reports `ended` (with its detail) once transcoded.
    if (this.mode.isLive) await this.reports.live(this.renditions);
    this.state = 'running';
    await this.startRun();
  }

  private async startRun(): Promise<void> {
    const settings = this.options.settings;
    if (this.mode.waitsForTurn) {
      this.options.logger.info('backlog session: waiting for a backlog turn (live streams go first)');
      // Not granted: the wait ended because the session went live (or is stopping).
      if (!(await this.mode.awaitTurn(() => this.isFinished || this.cutting))) return;
      if (this.mode.holdsTurn) this.options.logger.info('backlog session: transcoding for replay');
    }
    this.latency.runStarting();
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
      onThumbnail: (image) => {
        this.options.sink
          .thumbnail(this.streamId, image, this.output.lastTraceparent)
          .catch((error: unknown) => this.options.logger.warn({ err: error }, 'could not publish a thumbnail'));
      },
      onOutputError: (error) => this.options.logger.warn({ err: error }, 'segment watcher error'),
    });
    this.coverage.startRun(run.id);
    this.options.logger.info({ run: run.id, transcodeSession: run.session, pid: run.pid }, 'ffmpeg started');
    void run.exited.then((exit) => this.queue.run(() => this.onExit(run, exit.code, exit.signal, exit.stderrTail)));
    // Re-feed what is not yet covered by durable output (the probe buffer, or a crashed or replaced
    // run's input), except what a skip to the newest keyframe dropped meanwhile (that can be much:
    // a re-feed after a shed restart is the whole backlog, written as slowly as ffmpeg reads).
    for (const entry of [...this.coverage.chunks]) {
      if (entry.sequence < this.skips.from) {
        this.releaseSkipped();
        continue;
      }
      await this.write(entry);
    }
  }

  private async write(entry: InputChunk): Promise<void> {
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
    const released = await this.output.publish(
      run,
      segment,
      this.renditions.map((rendition) => rendition.name),
    );
    if (run === this.runs.current) this.latency.published(segment.rendition === this.renditions.at(-1)?.name, segment.durationSeconds, Date.now());
    for (const offset of released) this.done(offset);
  }

  /** The chunk at `offset` needs nothing more (covered by published output, or skipped). */
  private done(offset: string): void {
    this.latency.released(offset);
    this.options.sink.chunkDone(this.partition, offset);
  }

  /**
   * Called every second by the service: measures how far a live stream trails and sheds or
   * restores work. Returns the edge delay of a running live stream (undefined otherwise).
   */
  checkLatency(now = Date.now()): number | undefined {
    if (!this.mode.isLive || this.state !== 'running') return undefined;
    const check = this.latency.check(now, this.runs.started > 0, this.actions.skipMode());
    if (check) this.options.logger.debug({ edgeDelayMs: Math.round(check.delayMs), shedLevel: this.latency.level, newestKeyframe: this.skips.shedFrom, fedUpTo: this.input.end.fedUpTo }, 'edge delay');
    if (check?.shed) this.actions.shed(check.shed);
    return check?.delayMs;
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

  /**
   * Ends a backlog session now (a newer publish of the stream is live): ffmpeg stops, what it had
   * not covered and what is still queued are skipped (a recorded gap), and it reports `ended`.
   */
  cut(reason: string): Promise<void> {
    this.skips.skipAll();
    this.cutting = true;
    this.mode.end();
    return this.queue.run(async () => {
      if (this.isFinished) return;
      await this.runs.stop();
      // A publication that started before the cut must land (or fail) before the stream's next
      // session takes its first sequence number from this one's last.
      await this.output.settled();
      const skipped = this.coverage.releaseAll();
      for (const offset of skipped) this.done(offset);
      this.skips.counted(skipped.length);
      transcodeMetrics.skippedChunks().inc({ reason: 'backlog_cut' }, this.skips.skipped);
      this.options.logger.warn({ reason, skippedChunks: this.skips.skipped }, 'backlog session cut: its untranscoded input is a recorded gap');
      this.state = 'done';
      await this.reports.ended({ mode: this.mode.mode, action: 'backlog_cut', skipped_chunks: this.skips.skipped }, `backlog cut: ${reason}`);
      await this.runs.removeFiles();
      this.resolveFinished();
    });
  }

  private async onExit(run: TranscodeRun, code: number | null, signal: NodeJS.Signals | null, stderrTail: string): Promise<void> {
    if (this.runs.current !== run || this.state === 'abandoned' || this.isFinished) return;
    // Whatever ffmpeg listed as finished is complete: publish it before anything else.
    await run.finishOutput();
    if (this.state === 'ending' && code === 0) {
      this.releaseAll();
      this.state = 'done';
      this.mode.end();
      const skipped = this.skips.skipped;
      await this.reports.ended(
        this.mode.mode === 'backlog' || skipped > 0 ? { mode: this.mode.mode, ...(skipped > 0 ? { skipped_chunks: skipped } : {}) } : undefined,
      );
      this.options.logger.info({ sequences: this.output.numbering.toJSON() }, 'stream transcoded to the end');
      await this.runs.removeFiles();
      this.resolveFinished();
      return;
    }
    const reason = `ffmpeg exited with ${signal ? `signal ${signal}` : `code ${code}`}: ${lastLines(stderrTail)}`;
    const delay = this.restarts.take();
    if (delay !== undefined) {
      transcodeMetrics.ffmpegRestarts().inc({ reason: signal ? 'signal' : 'exit' });
      this.options.logger.warn({ restart: this.restarts.count, delayMs: delay, reason }, 'ffmpeg crashed; restarting');
      await new Promise((resolve) => setTimeout(resolve, delay));
      if (this.isFinished) return;
      this.output.numbering.breakAll();
      const ending = this.state === 'ending';
      this.state = 'running';
      await this.startRun();
      if (ending) await this.input.close('publisher ended (after restart)');
      return;
    }
    await this.fail(`transcoding failed after ${this.restarts.count} restarts: ${reason}`);
  }

  /** Releases the pending input before the skip point (skipped, counted). */
  private releaseSkipped(): void {
    for (const offset of this.coverage.releaseBefore(this.skips.from)) {
      this.skips.counted(1);
      this.done(offset);
    }
  }

  private releaseAll(): void {
    for (const offset of this.coverage.releaseAll()) this.done(offset);
  }

  private async fail(reason: string): Promise<void> {
    this.options.logger.error({ reason }, 'stream cannot be transcoded; marking it error and skipping its input');
    this.state = 'error';
    this.mode.end();
    await this.runs.stop();
    this.releaseAll();
    await this.reports.error(reason);
    await this.runs.removeFiles();
    this.resolveFinished();
  }
}

function lastLines(text: string): string {
  return text.trim().split('\n').slice(-4).join(' | ').slice(-1500);
}
