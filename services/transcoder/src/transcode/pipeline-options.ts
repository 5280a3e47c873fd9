import type { StreamRecord, TranscodeMode } from '@tributary/contracts';
import type { MediaTools } from '@tributary/media';
import type { Logger } from '@tributary/telemetry';
import type { BacklogGate } from './backlog-scheduler';
import type { PipelineSink } from './pipeline-sink';
import type { TranscodeEngine } from './transcode-engine';

/** The ffmpeg settings every kind of pipeline (standard and low-latency) takes from the service. */
export interface FfmpegPipelineSettings {
  tools: MediaTools;
  preset: string;
  threads: number;
  thumbnailIntervalSeconds: number;
  maxRestarts: number;
  probeMaxBytes: number;
  /** First probe once this much input is buffered (doubling on each failed attempt). */
  probeInitialBytes?: number;
  /** A live stream's output may trail its input by this many segment durations before it sheds work. */
  liveMaxTrailSegments?: number;
  /** false: a live stream never sheds work (its edge delay is still measured); default true. */
  shedding?: boolean;
  /** Shed work comes back one step after the edge delay stayed under half the bound this long (ms). */
  shedRestoreMs?: number;
  /** The preset of the second shedding step. */
  shedPreset?: string;
  /** nice(1) value of backlog ffmpeg processes. */
  backlogNice?: number;
}

/** The service's ffmpeg and latency settings, the same for every standard pipeline. */
export interface PipelineSettings extends FfmpegPipelineSettings {
  workDir: string;
}

/** One stream's pipeline of either kind: which publish session, where its output goes, what it continues from. */
export interface StreamSessionOptions<Settings extends FfmpegPipelineSettings> {
  streamId: string;
  partition: number;
  publishSessionId: string;
  record?: StreamRecord;
  settings: Settings;
  sink: PipelineSink;
  logger: Logger;
  /**
   * The last media sequence per rendition already on video.segments for this stream (read from
   * its tail on takeover, or remembered from this process's previous pipeline of the stream).
   */
  lastSequences: Promise<Map<string, number>>;
  /** `backlog`: the publisher is gone; transcode only with a turn from `backlog` (default `live`). */
  mode?: TranscodeMode;
  backlog?: BacklogGate;
}

/** One standard stream pipeline. */
export interface PipelineOptions extends StreamSessionOptions<PipelineSettings> {
  /** ffprobe/ffmpeg (default: child processes of settings.tools). */
  engine?: TranscodeEngine;
}
