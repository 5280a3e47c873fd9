import { randomUUID } from 'node:crypto';
import {
  buildTranscodeArgs,
  DEFAULT_INPUT_ARGS,
  type FfmpegExit,
  FfmpegProcess,
  type FinishedSegment,
  JpegSplitter,
  type MediaTools,
  type PlannedRendition,
  probeBuffer,
  SegmentWatcher,
  type SourceInfo,
} from '@tributary/media';
import { CLOSED_GAP_SECONDS } from './timeline-jumps';

export interface TranscodeRunOptions {
  id: number;
  /** The run's folder, with one sub-folder per rendition. */
  dir: string;
  renditions: readonly PlannedRendition[];
  segmentDurationSeconds: number;
  hasAudio: boolean;
  frameRate?: number;
  preset: string;
  threads: number;
  thumbnailIntervalSeconds: number;
  /** nice(1) value for the ffmpeg process (backlog work); absent = normal priority. */
  niceness?: number;
  /** Each finished segment, in order per rendition; awaited (backpressure). */
  onSegment: (segment: FinishedSegment) => Promise<void>;
  onThumbnail: (jpeg: Buffer) => void;
  onOutputError: (error: unknown) => void;
}

/** One ffmpeg process of a stream and the watcher of its HLS output. */
export interface TranscodeRun {
  readonly id: number;
  /** Unique per run (the `transcode-session` header of its segments). */
  readonly session: string;
  readonly pid: number | undefined;
  readonly running: boolean;
  readonly exited: Promise<FfmpegExit>;
  write(data: Buffer): Promise<unknown>;
  endInput(): void;
  kill(): void;
  /** Lowers the CPU priority of the running ffmpeg (its stream became backlog). */
  renice(niceness: number): void;
  /** After exit: hands over every segment ffmpeg listed as finished. */
  finishOutput(): Promise<void>;
  /** Stops watching the output without handing anything more over. */
  stopOutput(): Promise<void>;
}

/** The media tools a pipeline drives: ffprobe and ffmpeg in the service, fakes in unit tests. */
export interface TranscodeEngine {
  probe(data: Buffer): Promise<SourceInfo>;
  start(options: TranscodeRunOptions): TranscodeRun;
}

/** ffprobe/ffmpeg child processes; segments found through their HLS playlists. */
export class FfmpegEngine implements TranscodeEngine {
  constructor(private readonly tools: MediaTools) {}

  probe(data: Buffer): Promise<SourceInfo> {
    return probeBuffer(this.tools.ffprobe, data);
  }

  start(options: TranscodeRunOptions): TranscodeRun {
    const args = buildTranscodeArgs({
      renditions: [...options.renditions],
      outputDir: options.dir,
      // Input skipped in place (TimelineJumps) jumps its timestamps: ffmpeg closes the gap instead
      // of filling it with repeated frames (its default threshold is 10 s).
      inputArgs: ['-dts_delta_threshold', String(CLOSED_GAP_SECONDS), ...DEFAULT_INPUT_ARGS],
      segmentDurationSeconds: options.segmentDurationSeconds,
      hasAudio: options.hasAudio,
      ...(options.frameRate ? { frameRate: options.frameRate } : {}),
      preset: options.preset,
      threads: options.threads,
      thumbnailIntervalSeconds: options.thumbnailIntervalSeconds,
    });
    const splitter = new JpegSplitter();
    const process = new FfmpegProcess({
      ffmpegPath: this.tools.ffmpeg,
      args,
      ...(options.niceness ? { niceness: options.niceness } : {}),
      onStdout: (data) => {
        for (const image of splitter.push(data)) options.onThumbnail(image);
      },
    });
    const watcher = new SegmentWatcher({
      outputDir: options.dir,
      renditions: options.renditions.map((rendition) => rendition.name),
      onSegment: options.onSegment,
      onError: options.onOutputError,
    });
    watcher.start();
    return {
      id: options.id,
      session: randomUUID(),
      get pid() {
        return process.pid;
      },
      get running() {
        return process.running;
      },
      exited: process.exited,
      write: (data) => process.write(data),
      endInput: () => process.endInput(),
      kill: () => process.kill(),
      renice: (niceness) => process.renice(niceness),
      finishOutput: () => watcher.finish(),
      stopOutput: () => watcher.stop(),
    };
  }
}
