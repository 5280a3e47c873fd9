import { DEFAULT_LADDER, type StreamRecord } from '@tributary/contracts';
import { type FinishedSegment, maxPts, type MediaTools, type PlannedRendition, selectLadder } from '@tributary/media';
import { type Logger, transcodeMetrics } from '@tributary/telemetry';
import { ChunkCoverage, type InputChunk } from './chunk-coverage';
import { InputEnd } from './input-end';
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

  /** The running ffmpeg's pid (for diagnostics and fault tests). */
  get ffmpegPid(): number | undefined {
    return this.run?.running ? this.run.pid : undefined;
  }

  /** The last media sequence per rendition (to continue numbering in this process). */
  sequencesAfter(): Map<string, number> {
    return this.output.numbering.lastSequences();
  }

  feed(chunk: InputChunk): Promise<void> {
    this.lastChunkAt = Date.now();
    return this.queue.run(async () => {
      if (chunk.traceparent) this.output.lastTraceparent = chunk.traceparent;
      if (this.state !== 'probing' && this.state !== 'running') {
        this.options.sink.chunkDone(this.partition, chunk.offset);
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
    const ladder = this.options.record?.ladder ?? DEFAULT_LADDER;
    this.renditions = selectLadder(ladder, info, { preset: this.options.settings.preset });
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
    await this.reports.live(this.renditions);
    this.state = 'running';
    await this.startRun();
  }

  private async startRun(): Promise<void> {
    const settings = this.options.settings;
    const id = ++this.runs;
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
      segmentDurationSeconds: this.options.record?.segment_duration_seconds ?? 2,
      hasAudio: this.hasAudio,
      ...(this.frameRate ? { frameRate: this.frameRate } : {}),
      preset: settings.preset,
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
    for (const offset of released) this.options.sink.chunkDone(this.partition, offset);
  }

  private async onExit(run: TranscodeRun, code: number | null, signal: NodeJS.Signals | null, stderrTail: string): Promise<void> {
    if (this.run !== run || this.state === 'abandoned' || this.isFinished) return;
    // Whatever ffmpeg listed as finished is complete: publish it before anything else.
    await run.finishOutput();
    if (this.state === 'ending' && code === 0) {
      this.releaseAll();
      this.state = 'done';
      await this.reports.ended();
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
    for (const offset of this.coverage.releaseAll()) this.options.sink.chunkDone(this.partition, offset);
  }

  private async fail(reason: string): Promise<void> {
    this.options.logger.error({ reason }, 'stream cannot be transcoded; marking it error and skipping its input');
    this.state = 'error';
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
