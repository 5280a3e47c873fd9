import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_LADDER, type StreamRecord, type StreamStatus } from '@tributary/contracts';
import {
  buildTranscodeArgs,
  FfmpegProcess,
  type FinishedSegment,
  JpegSplitter,
  maxPts,
  type MediaTools,
  type PlannedRendition,
  probeBuffer,
  SegmentWatcher,
  selectLadder,
} from '@tributary/media';
import { type Logger, publishSegmentTraced, SegmentLinkTracker, traceHeaders, transcodeMetrics } from '@tributary/telemetry';

export interface OutgoingSegment {
  streamId: string;
  publishSessionId: string;
  rendition: string;
  sequence: number;
  durationSeconds: number;
  programTime: string;
  discontinuity: boolean;
  transcodeSession: string;
  traceparent?: string;
  data: Buffer;
}

/** Where a pipeline's output goes (Kafka in the service, fakes in unit tests). */
export interface PipelineSink {
  /** Resolves once Kafka acknowledged the segment; false if it was dropped (partition lost). */
  segment(segment: OutgoingSegment): Promise<boolean>;
  thumbnail(streamId: string, data: Buffer, traceparent?: string): Promise<void>;
  status(status: Omit<StreamStatus, 'reporter' | 'ts'>): Promise<void>;
  /** The chunk at this offset needs nothing more (its output is durable, or it was skipped). */
  chunkDone(partition: number, offset: string): void;
}

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
}

export interface InputChunk {
  offset: string;
  sequence: number;
  data: Buffer;
  traceparent?: string;
}

interface PendingChunk extends InputChunk {
  /** Relative media time (s) of the latest PES start in the chunk, in the ffmpeg run it was fed to. */
  mediaEnd?: number;
  run?: number;
}

interface FfmpegRun {
  id: number;
  session: string;
  process: FfmpegProcess;
  watcher: SegmentWatcher;
  dir: string;
  firstPts?: number;
  lastMediaTime: number;
  /** Acknowledged output duration per rendition in this run (s). */
  durations: Map<string, number>;
  stdinClosed: boolean;
}

type State = 'probing' | 'running' | 'ending' | 'done' | 'error' | 'abandoned';

const PTS_WRAP = 2 ** 33;

/**
 * One live stream on this transcoder: buffers the first input until ffprobe can read it, plans
 * the ladder (never above the source), runs ffmpeg fed from Kafka chunks, publishes each
 * finished segment with continuing media sequences, and reports which input chunks are covered
 * by acknowledged output. A crashing ffmpeg is restarted (bounded, with backoff) and re-fed the
 * chunks whose output was not yet durable; input ffprobe cannot read marks the stream `error`.
 */
export class StreamPipeline {
  readonly streamId: string;
  readonly partition: number;
  readonly publishSessionId: string;
  private state: State = 'probing';
  private readonly pending: PendingChunk[] = [];
  private probeBytes = 0;
  private probingSince?: number;
  private lastProbeAt = 0;
  private nextProbeAt: number;
  private renditions: PlannedRendition[] = [];
  private readonly nextSequence = new Map<string, number>();
  private readonly discontinuityNext = new Set<string>();
  private run?: FfmpegRun;
  private runs = 0;
  private restarts = 0;
  /** The `ingest chunk` spans fed to ffmpeg since each rendition's last segment (segment spans link to them). */
  private readonly chunkLinks = new SegmentLinkTracker();
  private hasAudio = false;
  private frameRate?: number;
  private baseDir?: string;
  private lastTraceparent?: string;
  private endAfterSequence?: number;
  private lastFedSequence = -1;
  private lock: Promise<void> = Promise.resolve();
  private resolveFinished!: () => void;
  readonly finished: Promise<void>;
  lastChunkAt = Date.now();

  constructor(private readonly options: PipelineOptions) {
    this.streamId = options.streamId;
    this.partition = options.partition;
    this.publishSessionId = options.publishSessionId;
    this.nextProbeAt = options.settings.probeInitialBytes ?? 128 * 1024;
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
    return this.run?.process.running ? this.run.process.pid : undefined;
  }

  /** Next media sequence per rendition (to continue numbering in this process). */
  sequencesAfter(): Map<string, number> {
    const last = new Map<string, number>();
    for (const [rendition, next] of this.nextSequence) last.set(rendition, next - 1);
    return last;
  }

  private serialize<T>(task: () => Promise<T>): Promise<T> {
    const result = this.lock.then(task);
    this.lock = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  feed(chunk: InputChunk): Promise<void> {
    this.lastChunkAt = Date.now();
    return this.serialize(async () => {
      if (chunk.traceparent) this.lastTraceparent = chunk.traceparent;
      if (this.state !== 'probing' && this.state !== 'running') {
        this.options.sink.chunkDone(this.partition, chunk.offset);
        return;
      }
      const entry: PendingChunk = { ...chunk };
      this.pending.push(entry);
      this.lastFedSequence = Math.max(this.lastFedSequence, chunk.sequence);
      if (this.state === 'probing') {
        this.probeBytes += chunk.data.length;
        this.probingSince ??= Date.now();
        // By size (doubling per failed attempt), or every 2 s for low-bitrate sources that would
        // otherwise take long to fill the first probe window.
        const dueByTime = Date.now() - this.probingSince >= 2000 && Date.now() - this.lastProbeAt >= 2000 && this.probeBytes >= 16 * 1024;
        if (this.probeBytes >= this.nextProbeAt || dueByTime) await this.tryProbe(false);
      } else {
        await this.write(entry);
      }
      this.lastChunkAt = Date.now();
      if (this.endAfterSequence !== undefined && this.lastFedSequence >= this.endAfterSequence) await this.closeInput('publisher ended');
    });
  }

  /**
   * The publisher ended after chunk `lastSequence`: the input is complete once that chunk has
   * been fed (now, or when it arrives). Without a sequence, ends now.
   */
  endAfter(lastSequence: number | undefined, reason: string): Promise<void> {
    return this.serialize(async () => {
      if (lastSequence !== undefined && lastSequence > this.lastFedSequence) {
        this.endAfterSequence = lastSequence;
        return;
      }
      await this.closeInput(reason);
    });
  }

  /** Stops without output or status (the partition moved to another transcoder). */
  async abandon(): Promise<void> {
    if (this.isFinished) return;
    this.state = 'abandoned';
    this.run?.process.kill();
    await this.run?.watcher.stop();
    await this.cleanup();
    this.resolveFinished();
  }

  private async closeInput(reason: string): Promise<void> {
    if (this.state === 'probing') {
      if (this.pending.length === 0) {
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
        this.run.stdinClosed = true;
        this.run.process.endInput();
      }
    }
  }

  private async tryProbe(final: boolean): Promise<void> {
    this.lastProbeAt = Date.now();
    const data = Buffer.concat(this.pending.map((entry) => entry.data));
    let info;
    try {
      info = await probeBuffer(this.options.settings.tools.ffprobe, data);
    } catch (error) {
      const message = (error as Error).message;
      if (final || this.probeBytes >= this.options.settings.probeMaxBytes) {
        await this.fail(`input is not decodable video: ${message}`);
      } else {
        this.nextProbeAt = Math.min(this.nextProbeAt * 2, this.options.settings.probeMaxBytes);
        this.options.logger.debug({ bytes: this.probeBytes, error: message }, 'probe failed; waiting for more input');
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
    for (const rendition of this.renditions) {
      const previous = last.get(rendition.name);
      this.nextSequence.set(rendition.name, previous === undefined ? 0 : previous + 1);
      if (previous !== undefined) this.discontinuityNext.add(rendition.name);
    }
    this.options.logger.info(
      { source: info, renditions: this.renditions.map((r) => r.name), startSequences: Object.fromEntries(this.nextSequence) },
      'source probed; starting ffmpeg',
    );
    await this.options.sink.status({
      stream_id: this.streamId,
      state: 'live',
      publish_session_id: this.publishSessionId,
      renditions: this.renditions.map((rendition) => ({
        name: rendition.name,
        width: rendition.width,
        height: rendition.height,
        video_bitrate_kbps: rendition.video_bitrate_kbps,
        audio_bitrate_kbps: rendition.audio_bitrate_kbps,
        bandwidth_bps: rendition.bandwidth_bps,
        codecs: rendition.codecs,
      })),
    });
    this.state = 'running';
    await this.startRun();
  }

  private async startRun(): Promise<void> {
    const settings = this.options.settings;
    if (!this.baseDir) {
      await mkdir(settings.workDir, { recursive: true });
      this.baseDir = await mkdtemp(join(settings.workDir, `${this.streamId}-`));
    }
    const id = ++this.runs;
    const dir = join(this.baseDir, `run-${id}`);
    for (const rendition of this.renditions) await mkdir(join(dir, rendition.name), { recursive: true });
    const segmentDuration = this.options.record?.segment_duration_seconds ?? 2;
    const args = buildTranscodeArgs({
      renditions: this.renditions,
      outputDir: dir,
      segmentDurationSeconds: segmentDuration,
      hasAudio: this.hasAudio,
      ...(this.frameRate ? { frameRate: this.frameRate } : {}),
      preset: settings.preset,
      threads: settings.threads,
      thumbnailIntervalSeconds: settings.thumbnailIntervalSeconds,
    });
    const splitter = new JpegSplitter();
    const session = randomUUID();
    const stderrLines: string[] = [];
    const process = new FfmpegProcess({
      ffmpegPath: settings.tools.ffmpeg,
      args,
      onStdout: (data) => {
        for (const image of splitter.push(data)) {
          this.options.sink
            .thumbnail(this.streamId, image, this.lastTraceparent)
            .catch((error: unknown) => this.options.logger.warn({ err: error }, 'could not publish a thumbnail'));
        }
      },
      onStderrLine: (line) => {
        if (/error|invalid|failed/i.test(line)) {
          stderrLines.push(line);
          if (stderrLines.length > 20) stderrLines.shift();
        }
      },
    });
    const run: FfmpegRun = {
      id,
      session,
      process,
      dir,
      lastMediaTime: 0,
      durations: new Map(),
      stdinClosed: false,
      watcher: new SegmentWatcher({
        outputDir: dir,
        renditions: this.renditions.map((rendition) => rendition.name),
        onSegment: (segment) => this.publishSegment(run, segment),
        onError: (error) => this.options.logger.warn({ err: error }, 'segment watcher error'),
      }),
    };
    this.run = run;
    run.watcher.start();
    this.options.logger.info({ run: id, transcodeSession: session, pid: process.pid }, 'ffmpeg started');
    void process.exited.then((exit) => this.serialize(() => this.onExit(run, exit.code, exit.signal, exit.stderrTail)));
    // Re-feed what is not yet covered by durable output (the probe buffer, or a crashed run's input).
    for (const entry of [...this.pending]) await this.write(entry);
  }

  private async write(entry: PendingChunk): Promise<void> {
    const run = this.run;
    if (!run || run.stdinClosed) return;
    const pts = maxPts(entry.data);
    if (pts !== undefined) {
      if (run.firstPts === undefined) run.firstPts = pts;
      let relative = pts - run.firstPts;
      if (relative < -PTS_WRAP / 2) relative += PTS_WRAP;
      run.lastMediaTime = Math.max(run.lastMediaTime, relative / 90_000);
    }
    entry.run = run.id;
    entry.mediaEnd = run.lastMediaTime;
    this.chunkLinks.chunkWritten(entry.traceparent ? { traceparent: entry.traceparent } : undefined);
    await run.process.write(entry.data);
  }

  private async publishSegment(run: FfmpegRun, segment: FinishedSegment): Promise<void> {
    if (this.state === 'abandoned') return;
    const sequence = this.nextSequence.get(segment.rendition) ?? 0;
    const discontinuity = this.discontinuityNext.has(segment.rendition);
    const programTime = segment.programTime ? new Date(segment.programTime) : new Date();
    // `transcode segment` (linked to the chunks that fed it) → `segment published` → send; the
    // segment's traceparent is the publishing span's, so viewer-api's `segment served` links here.
    const delivered = await publishSegmentTraced(
      {
        streamId: this.streamId,
        rendition: segment.rendition,
        sequence,
        durationSeconds: segment.durationSeconds,
        chunks: this.chunkLinks.segmentDone(segment.rendition),
      },
      () => {
        const traceparent = traceHeaders().traceparent ?? this.lastTraceparent;
        return this.options.sink.segment({
          streamId: this.streamId,
          publishSessionId: this.publishSessionId,
          rendition: segment.rendition,
          sequence,
          durationSeconds: segment.durationSeconds,
          programTime: (Number.isNaN(programTime.getTime()) ? new Date() : programTime).toISOString(),
          discontinuity,
          transcodeSession: run.session,
          ...(traceparent ? { traceparent } : {}),
          data: segment.data,
        });
      },
    );
    if (!delivered) return;
    this.nextSequence.set(segment.rendition, sequence + 1);
    this.discontinuityNext.delete(segment.rendition);
    run.durations.set(segment.rendition, (run.durations.get(segment.rendition) ?? 0) + segment.durationSeconds);
    this.releaseCovered(run);
  }

  /** Chunks whose media is inside acknowledged segments of every rendition are done. */
  private releaseCovered(run: FfmpegRun): void {
    const covered = Math.min(...this.renditions.map((rendition) => run.durations.get(rendition.name) ?? 0));
    while (this.pending.length > 0) {
      const head = this.pending[0];
      if (head.run !== run.id || head.mediaEnd === undefined || head.mediaEnd >= covered) break;
      this.pending.shift();
      this.options.sink.chunkDone(this.partition, head.offset);
    }
  }

  private async onExit(run: FfmpegRun, code: number | null, signal: NodeJS.Signals | null, stderrTail: string): Promise<void> {
    if (this.run !== run || this.state === 'abandoned' || this.isFinished) return;
    // Whatever ffmpeg listed as finished is complete: publish it before anything else.
    await run.watcher.finish();
    if (this.state === 'ending' && code === 0) {
      for (const entry of this.pending.splice(0)) this.options.sink.chunkDone(this.partition, entry.offset);
      this.state = 'done';
      await this.options.sink.status({ stream_id: this.streamId, state: 'ended', publish_session_id: this.publishSessionId });
      this.options.logger.info({ sequences: Object.fromEntries(this.nextSequence) }, 'stream transcoded to the end');
      await this.cleanup();
      this.resolveFinished();
      return;
    }
    const reason = `ffmpeg exited with ${signal ? `signal ${signal}` : `code ${code}`}: ${lastLines(stderrTail)}`;
    if (this.restarts < this.options.settings.maxRestarts) {
      this.restarts += 1;
      transcodeMetrics.ffmpegRestarts().inc({ reason: signal ? 'signal' : 'exit' });
      const delay = Math.min(10_000, 500 * 2 ** (this.restarts - 1));
      this.options.logger.warn({ restart: this.restarts, delayMs: delay, reason }, 'ffmpeg crashed; restarting');
      await new Promise((resolve) => setTimeout(resolve, delay));
      if (this.isFinished) return;
      for (const rendition of this.renditions) this.discontinuityNext.add(rendition.name);
      const ending = this.state === 'ending';
      this.state = 'running';
      await this.startRun();
      if (ending) await this.closeInput('publisher ended (after restart)');
      return;
    }
    await this.fail(`transcoding failed after ${this.restarts} restarts: ${reason}`);
  }

  private async fail(reason: string): Promise<void> {
    this.options.logger.error({ reason }, 'stream cannot be transcoded; marking it error and skipping its input');
    this.state = 'error';
    this.run?.process.kill();
    await this.run?.watcher.stop();
    for (const entry of this.pending.splice(0)) this.options.sink.chunkDone(this.partition, entry.offset);
    await this.options.sink
      .status({ stream_id: this.streamId, state: 'error', publish_session_id: this.publishSessionId, reason: reason.slice(0, 2000) })
      .catch((error: unknown) => this.options.logger.error({ err: error }, 'could not report stream error'));
    await this.cleanup();
    this.resolveFinished();
  }

  private async cleanup(): Promise<void> {
    if (this.baseDir) await rm(this.baseDir, { recursive: true, force: true }).catch(() => undefined);
  }
}

function lastLines(text: string): string {
  return text.trim().split('\n').slice(-4).join(' | ').slice(-1500);
}
