import { DEFAULT_LADDER, type StreamRecord, type TranscodeDetail, type TranscodeMode } from '@tributary/contracts';
import {
  type FinishedSegment,
  hasRandomAccessPoint,
  maxPts,
  type MediaTools,
  type PlannedRendition,
  selectLadder,
  type SourceInfo,
} from '@tributary/media';
import { type Logger, transcodeMetrics } from '@tributary/telemetry';
import type { BacklogGate } from './backlog-scheduler';
import { ChunkCoverage, type InputChunk } from './chunk-coverage';
import { EdgeDelay } from './edge-delay';
import { InputEnd } from './input-end';
import { LatencyGovernor, type ShedAction } from './latency-governor';
import type { PipelineSink } from './pipeline-sink';
import { PipelineStatus } from './pipeline-status';
import { ProbeSchedule } from './probe-schedule';
import { RestartBudget } from './restart-budget';
import { SegmentPublisher } from './segment-publisher';
import { SerialQueue } from './serial-queue';
import { FfmpegEngine, type TranscodeEngine, type TranscodeRun } from './transcode-engine';
import { StreamWorkDir } from './work-dir';

export type { InputChunk } from './chunk-coverage';
export type { OutgoingSegment, PipelineSink } from './pipeline-sink';

export interface PipelineSettings {
  tools: MediaTools;
  workDir: string;
  preset: string;
  threads: number;
  thumbnailIntervalSeconds: number;
  maxRestarts: number;
  probeMaxBytes: number;
  /** First probe once this much input is buffered (doubling on each failed attempt). */
  probeInitialBytes?: number;
  /** A live stream's output may trail its input by this many segment durations before it sheds work. */
  liveMaxTrailSegments?: number;
  /** Shed work comes back one step after the edge delay stayed under half the bound this long (ms). */
  shedRestoreMs?: number;
  /** The preset of the second shedding step. */
  shedPreset?: string;
  /** nice(1) value of backlog ffmpeg processes. */
  backlogNice?: number;
}

export interface PipelineOptions {
  streamId: string;
  partition: number;
  publishSessionId: string;
  record?: StreamRecord;
  settings: PipelineSettings;
  sink: PipelineSink;
  logger: Logger;
  /**
   * The last media sequence per rendition already on video.segments for this stream (read from
   * its tail on takeover, or remembered from this process's previous pipeline of the stream).
   */
  lastSequences: Promise<Map<string, number>>;
  /** ffprobe/ffmpeg (default: child processes of settings.tools). */
  engine?: TranscodeEngine;
  /** `backlog`: the publisher is gone; transcode only with a turn from `backlog` (default `live`). */
  mode?: TranscodeMode;
  backlog?: BacklogGate;
}

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
 * (where the input ends), PipelineStatus (stream.status reports), RestartBudget, StreamWorkDir,
 * SerialQueue and the TranscodeEngine (ffmpeg).
 *
 * Live stays live: a `backlog` session (publisher gone) waits for a turn and writes input only
 * while no live stream trails (BacklogGate), with a niced ffmpeg. A live session measures how far
 * its output trails its input (EdgeDelay); its LatencyGovernor sheds work when that passes the
 * bound (top rendition → faster preset → skip to the newest keyframe) and restores it with
 * headroom. Each shed/restore restarts ffmpeg (re-fed what is not yet covered, DISCONTINUITY).
 */
export class StreamPipeline {
  readonly streamId: string;
  readonly partition: number;
  readonly publishSessionId: string;
  private state: State = 'probing';
  private readonly coverage = new ChunkCoverage();
  private readonly output: SegmentPublisher;
  private readonly probes: ProbeSchedule;
  private readonly input = new InputEnd();
  private readonly reports: PipelineStatus;
  private readonly restarts: RestartBudget;
  private readonly workDir: StreamWorkDir;
  private readonly queue = new SerialQueue();
  private readonly engine: TranscodeEngine;
  private renditions: PlannedRendition[] = [];
  private run?: TranscodeRun;
  private stdinClosed = false;
  private runs = 0;
  private hasAudio = false;
  private frameRate?: number;
  private source?: SourceInfo;
  private mode: TranscodeMode;
  private hasTurn = false;
  private readonly edge = new EdgeDelay();
  private governor?: LatencyGovernor;
  /** Chunks of a lower sequence are skipped, not transcoded (skip to live). */
  private skipBefore = -1;
  private skipped = 0;
  private newestKeyframe = -1;
  private cutting = false;
  /** The current run published a segment (its edge delay means something). */
  private runProducing = false;
  private resolveFinished!: () => void;
  readonly finished: Promise<void>;
  lastChunkAt = Date.now();

  constructor(private readonly options: PipelineOptions) {
    this.streamId = options.streamId;
    this.partition = options.partition;
    this.publishSessionId = options.publishSessionId;
    this.probes = new ProbeSchedule(options.settings.probeInitialBytes ?? 128 * 1024, options.settings.probeMaxBytes);
    this.output = new SegmentPublisher({ ...options, coverage: this.coverage });
    this.reports = new PipelineStatus(options.streamId, options.publishSessionId, options.sink, options.logger);
    this.mode = options.mode ?? 'live';
    this.restarts = new RestartBudget(options.settings.maxRestarts);
    this.workDir = new StreamWorkDir(options.settings.workDir, options.streamId);
    this.engine = options.engine ?? new FfmpegEngine(options.settings.tools);
    this.finished = new Promise((resolve) => (this.resolveFinished = resolve));
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

  /** How long the oldest input not yet covered by published output has waited since ingest. */
  edgeDelayMs(now = Date.now()): number {
    return this.edge.delayMs(now);
  }

  /** Ingest time of the oldest input not yet transcoded. */
  get oldestPendingMs(): number | undefined {
    return this.edge.oldestMs;
  }

  /** How far the output may trail (ms) before the stream sheds work. */
  get latencyBoundMs(): number {
    return (this.options.settings.liveMaxTrailSegments ?? 3) * this.segmentSeconds * 1000;
  }

  /** 0 = full ladder and preset; 1 = top rendition dropped; 2 = and a faster preset. */
  get shedLevel(): number {
    return this.governor?.level ?? 0;
  }

  /** The running ffmpeg's pid (for diagnostics and fault tests). */
  get ffmpegPid(): number | undefined {
    return this.run?.running ? this.run.pid : undefined;
  }

  /** The last media sequence per rendition (to continue numbering in this process). */
  sequencesAfter(): Map<string, number> {
    return this.output.numbering.lastSequences();
  }

  /** Queues a chunk; resolves once it was written to ffmpeg (or buffered, or skipped). */
  feed(chunk: InputChunk): Promise<void> {
    this.lastChunkAt = Date.now();
    this.edge.accepted(chunk.ingestTimeMs, this.lastChunkAt);
    if (hasRandomAccessPoint(chunk.data)) this.newestKeyframe = Math.max(this.newestKeyframe, chunk.sequence);
    return this.queue.run(async () => {
      if (chunk.traceparent) this.output.lastTraceparent = chunk.traceparent;
      if (this.state !== 'probing' && this.state !== 'running') {
        this.done(chunk.offset);
        return;
      }
      if (chunk.sequence < this.skipBefore) {
        this.skipped += 1;
        this.done(chunk.offset);
        return;
      }
      const entry = this.coverage.add(chunk);
      this.input.fed(chunk.sequence);
      if (this.state === 'probing') {
        if (this.probes.added(chunk.data.length, Date.now())) await this.tryProbe(false);
      } else {
        await this.write(entry);
      }
      this.lastChunkAt = Date.now();
      if (this.input.reached) await this.closeInput('publisher ended');
    });
  }

  /**
   * The publisher ended after chunk `lastSequence`: the input is complete once that chunk has
   * been fed (now, or when it arrives). Without a sequence, ends now.
   */
  endAfter(lastSequence: number | undefined, reason: string): Promise<void> {
    return this.queue.run(async () => {
      if (this.input.endAfterSequence(lastSequence)) await this.closeInput(reason);
    });
  }

  /** Stops without output or status (the partition moved to another transcoder). */
  async abandon(): Promise<void> {
    if (this.isFinished) return;
    this.state = 'abandoned';
    this.endTurn();
    this.run?.kill();
    await this.run?.stopOutput();
    await this.workDir.remove();
    this.resolveFinished();
  }

  private async closeInput(reason: string): Promise<void> {
    if (this.state === 'probing') {
      if (this.coverage.size === 0) {
        this.state = 'done';
        this.resolveFinished();
        return;
      }
      await this.tryProbe(true);
    }
    if (this.state === 'running') {
      this.options.logger.info({ reason }, 'input complete; flushing ffmpeg');
      this.state = 'ending';
      if (this.run) {
        this.stdinClosed = true;
        this.run.endInput();
      }
    }
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
    this.source = info;
    this.renditions = this.plan();
    const settings = this.options.settings;
    this.governor = new LatencyGovernor({
      boundMs: this.latencyBoundMs,
      restoreAfterMs: settings.shedRestoreMs ?? 30_000,
      canDropRendition: this.renditions.length > 1,
      canFasterPreset: settings.shedPreset !== undefined && settings.shedPreset !== settings.preset,
    });
    const last = await this.options.lastSequences.catch((error: unknown) => {
      this.options.logger.error(
        { err: error },
        'could not read the tail of video.segments; numbering from the current time to stay monotonic',
      );
      const floor = Math.floor(Date.now() / 1000);
      return new Map(this.renditions.map((rendition) => [rendition.name, floor] as const));
    });
    this.output.numbering.start(
      this.renditions.map((rendition) => rendition.name),
      last,
    );
    this.options.logger.info(
      { source: info, renditions: this.renditions.map((r) => r.name), startSequences: this.output.numbering.toJSON() },
      'source probed; starting ffmpeg',
    );
    // A backlog session is not live: it reports `ended` (with its detail) once transcoded.
    if (this.mode === 'live') await this.reports.live(this.renditions);
    this.state = 'running';
    await this.startRun();
  }

  private get segmentSeconds(): number {
    return this.options.record?.segment_duration_seconds ?? 2;
  }

  /** The renditions and preset for the current shedding level. */
  private plan(): PlannedRendition[] {
    const ladder = this.options.record?.ladder ?? DEFAULT_LADDER;
    const planned = selectLadder(ladder, this.source!, { preset: this.preset });
    if (!this.governor?.dropsRendition || planned.length < 2) return planned;
    const top = planned.reduce((best, rendition) => (rendition.height * rendition.width > best.height * best.width ? rendition : best));
    return planned.filter((rendition) => rendition !== top);
  }

  private get preset(): string {
    const settings = this.options.settings;
    return this.governor?.usesFasterPreset && settings.shedPreset ? settings.shedPreset : settings.preset;
  }

  private async startRun(): Promise<void> {
    const settings = this.options.settings;
    if (this.mode === 'backlog' && !this.hasTurn && this.options.backlog) {
      this.options.logger.info('backlog session: waiting for a backlog turn (live streams go first)');
      const granted = await this.options.backlog.turn(this);
      if (this.isFinished || this.cutting) return;
      // Not granted: the wait ended because the session went live (or is stopping).
      this.hasTurn = granted && this.mode === 'backlog';
      if (this.hasTurn) this.options.logger.info('backlog session: transcoding for replay');
    }
    const id = ++this.runs;
    this.runProducing = false;
    const dir = await this.workDir.runDir(
      id,
      this.renditions.map((rendition) => rendition.name),
    );
    this.coverage.startRun(id);
    this.stdinClosed = false;
    const run: TranscodeRun = this.engine.start({
      id,
      dir,
      renditions: this.renditions,
      segmentDurationSeconds: this.segmentSeconds,
      hasAudio: this.hasAudio,
      ...(this.frameRate ? { frameRate: this.frameRate } : {}),
      preset: this.preset,
      ...(this.mode === 'backlog' && settings.backlogNice ? { niceness: settings.backlogNice } : {}),
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
    this.run = run;
    this.options.logger.info({ run: id, transcodeSession: run.session, pid: run.pid }, 'ffmpeg started');
    void run.exited.then((exit) => this.queue.run(() => this.onExit(run, exit.code, exit.signal, exit.stderrTail)));
    // Re-feed what is not yet covered by durable output (the probe buffer, or a crashed run's input).
    for (const entry of [...this.coverage.chunks]) await this.write(entry);
  }

  private async write(entry: InputChunk): Promise<void> {
    const backlog = this.options.backlog;
    if (this.mode === 'backlog' && backlog) {
      // A live session that became backlog (its publisher left while it trailed) takes a turn too.
      if (!this.hasTurn) {
        const granted = await backlog.turn(this);
        if (this.isFinished) return;
        this.hasTurn = granted && this.mode === 'backlog';
      }
      if (this.hasTurn) await backlog.permit(this);
    }
    const run = this.run;
    if (!run || this.stdinClosed) return;
    this.coverage.written(entry, maxPts(entry.data));
    this.output.chunkWritten(entry.traceparent);
    await run.write(entry.data);
  }

  private async publishSegment(run: TranscodeRun, segment: FinishedSegment): Promise<void> {
    if (this.state === 'abandoned') return;
    const released = await this.output.publish(
      run,
      segment,
      this.renditions.map((rendition) => rendition.name),
    );
    if (run === this.run) {
      this.runProducing = true;
      if (segment.rendition === this.renditions.at(-1)?.name) this.edge.mediaPublished(segment.durationSeconds, Date.now());
    }
    for (const offset of released) this.done(offset);
  }

  /** The chunk at `offset` needs nothing more (covered by published output, or skipped). */
  private done(offset: string): void {
    this.edge.released();
    this.options.sink.chunkDone(this.partition, offset);
  }

  private endTurn(): void {
    this.options.backlog?.end(this);
    this.hasTurn = false;
  }

  /**
   * Called every second by the service: measures how far a live stream trails and sheds or
   * restores work. Returns the edge delay of a running live stream (undefined otherwise).
   */
  checkLatency(now = Date.now()): number | undefined {
    if (this.mode !== 'live' || this.state !== 'running' || !this.governor) return undefined;
    const delay = this.edge.delayMs(now);
    // Right after (re)starting ffmpeg the delay includes its start-up: judge a producing run only.
    if (!this.runProducing && this.runs > 0) return delay;
    const action = this.governor.decide(now, delay);
    if (action) this.shed(action, delay, now);
    return delay;
  }

  /**
   * A backlog session whose publisher turned out to be there (a fresh chunk arrived): it is live
   * now. Its queued backlog is skipped (a recorded gap) from the newest keyframe on, and ffmpeg
   * restarts at normal priority.
   */
  goLive(freshSequence: number): void {
    if (this.mode === 'live' || this.isFinished) return;
    this.mode = 'live';
    this.endTurn();
    const from = this.newestKeyframe >= 0 && this.newestKeyframe <= freshSequence ? this.newestKeyframe : freshSequence;
    this.options.logger.info({ fromSequence: from }, 'backlog session is live after all: skipping its backlog to the newest keyframe');
    this.skipTo(from, 'skip_to_live');
  }

  /**
   * The publisher left while the output trails its bound: the rest of the input is catch-up work.
   * It no longer competes with live streams: ffmpeg is reniced and further input waits for a
   * backlog turn and for live streams within their bound. The session ends normally (`ended`).
   */
  toBacklog(): void {
    if (this.mode === 'backlog' || this.isFinished) return;
    this.mode = 'backlog';
    const niceness = this.options.settings.backlogNice;
    if (niceness) this.run?.renice(niceness);
    this.options.logger.info({ edgeDelayMs: Math.round(this.edge.delayMs(Date.now())) }, 'publisher gone while the output trails: the rest is backlog, after live streams');
  }

  /**
   * Ends a backlog session now (a newer publish of the stream is live): ffmpeg stops, what it had
   * not covered and what is still queued are skipped (a recorded gap), and it reports `ended`.
   */
  cut(reason: string): Promise<void> {
    this.skipBefore = Number.MAX_SAFE_INTEGER;
    this.cutting = true;
    this.endTurn();
    return this.queue.run(async () => {
      if (this.isFinished) return;
      const run = this.run;
      this.run = undefined;
      run?.kill();
      await run?.stopOutput();
      const skipped = this.coverage.releaseAll();
      for (const offset of skipped) this.done(offset);
      this.skipped += skipped.length;
      transcodeMetrics.skippedChunks().inc({ reason: 'backlog_cut' }, this.skipped);
      this.options.logger.warn({ reason, skippedChunks: this.skipped }, 'backlog session cut: its untranscoded input is a recorded gap');
      this.state = 'done';
      await this.reports.ended({ mode: this.mode, action: 'backlog_cut', skipped_chunks: this.skipped }, `backlog cut: ${reason}`);
      await this.workDir.remove();
      this.resolveFinished();
    });
  }

  private shed(action: ShedAction, delayMs: number, now: number): void {
    // As decided now (the restart itself waits for the queue).
    const snapshot: TranscodeDetail = {
      mode: 'live',
      edge_delay_ms: Math.round(delayMs),
      speed: Math.round(this.edge.speed(now) * 100) / 100,
      shed_level: this.governor?.level ?? 0,
      dropped_renditions: this.droppedRenditions(),
      preset: this.preset,
      action,
    };
    const detail = (): TranscodeDetail => ({ ...snapshot, skipped_chunks: this.skipped });
    transcodeMetrics.sheds().inc({ action });
    this.options.logger.warn(
      { action, edgeDelayMs: Math.round(delayMs), boundSegments: this.options.settings.liveMaxTrailSegments ?? 3, level: this.governor?.level },
      action.startsWith('restore') ? 'live stream has headroom again: restoring work' : 'live stream trails its latency bound: shedding work',
    );
    if (action === 'skip_to_live') {
      this.skipTo(this.newestKeyframe >= 0 ? this.newestKeyframe : Number.MAX_SAFE_INTEGER, action, detail);
      return;
    }
    this.restart(false, () => this.reports.live(this.renditions, detail()));
  }

  private droppedRenditions(): string[] {
    const active = new Set(this.plan().map((rendition) => rendition.name));
    const full = selectLadder(this.options.record?.ladder ?? DEFAULT_LADDER, this.source!, { preset: this.preset });
    return full.map((rendition) => rendition.name).filter((name) => !active.has(name));
  }

  /** Skips input before chunk `sequence` (queued or already written, not yet covered) and restarts ffmpeg. */
  private skipTo(sequence: number, reason: 'skip_to_live', detail?: () => TranscodeDetail): void {
    this.skipBefore = Math.max(this.skipBefore, sequence);
    const before = this.skipped;
    this.restart(true, async () => {
      transcodeMetrics.skippedChunks().inc({ reason }, this.skipped - before);
      if (this.state === 'running') await this.reports.live(this.renditions, detail?.() ?? { mode: 'live', action: reason, skipped_chunks: this.skipped });
    });
  }

  /**
   * Stops the current ffmpeg at once (so a write blocked on it returns) and, in the queue, starts
   * the next one with the current plan, re-fed what is not yet covered (`discard`: except the
   * chunks before `skipBefore`, which are skipped). The next segment of every rendition carries a DISCONTINUITY.
   */
  private restart(discard: boolean, then: () => Promise<void>): void {
    if (this.state !== 'running') return;
    // No further decision until the next run shows its effect.
    this.runProducing = false;
    const old = this.run;
    this.run = undefined;
    old?.kill();
    void this.queue
      .run(async () => {
        await old?.stopOutput();
        // A run started meanwhile (a backlog turn ended by goLive) is replaced too.
        const started = this.run;
        this.run = undefined;
        started?.kill();
        await started?.stopOutput();
        if (this.state !== 'running') return;
        if (discard) {
          for (const offset of this.coverage.releaseBefore(this.skipBefore)) {
            this.skipped += 1;
            this.done(offset);
          }
        }
        this.renditions = this.plan();
        this.output.numbering.breakAll();
        await this.startRun();
        await then();
      })
      .catch((error: unknown) => this.options.logger.error({ err: error }, 'restarting ffmpeg after a latency action failed'));
  }

  private async onExit(run: TranscodeRun, code: number | null, signal: NodeJS.Signals | null, stderrTail: string): Promise<void> {
    if (this.run !== run || this.state === 'abandoned' || this.isFinished) return;
    // Whatever ffmpeg listed as finished is complete: publish it before anything else.
    await run.finishOutput();
    if (this.state === 'ending' && code === 0) {
      this.releaseAll();
      this.state = 'done';
      this.endTurn();
      await this.reports.ended(
        this.mode === 'backlog' || this.skipped > 0 ? { mode: this.mode, ...(this.skipped > 0 ? { skipped_chunks: this.skipped } : {}) } : undefined,
      );
      this.options.logger.info({ sequences: this.output.numbering.toJSON() }, 'stream transcoded to the end');
      await this.workDir.remove();
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
      if (ending) await this.closeInput('publisher ended (after restart)');
      return;
    }
    await this.fail(`transcoding failed after ${this.restarts.count} restarts: ${reason}`);
  }

  private releaseAll(): void {
    for (const offset of this.coverage.releaseAll()) this.done(offset);
  }

  private async fail(reason: string): Promise<void> {
    this.options.logger.error({ reason }, 'stream cannot be transcoded; marking it error and skipping its input');
    this.state = 'error';
    this.endTurn();
    this.run?.kill();
    await this.run?.stopOutput();
    this.releaseAll();
    await this.reports.error(reason);
    await this.workDir.remove();
    this.resolveFinished();
  }
}

function lastLines(text: string): string {
  return text.trim().split('\n').slice(-4).join(' | ').slice(-1500);
}
