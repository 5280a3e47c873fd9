import type { StreamRecord, TranscodeMode } from '@tributary/contracts';
import type { MediaTools } from '@tributary/media';
import type { Logger } from '@tributary/telemetry';
import type { BacklogGate } from './backlog-scheduler';
import type { PipelineSink } from './pipeline-sink';
import type { TranscodeEngine } from './transcode-engine';

/** The service's ffmpeg and latency settings, the same for every pipeline. */
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
  /** false: a live stream never sheds work (its edge delay is still measured); default true. */
  shedding?: boolean;
  /** Shed work comes back one step after the edge delay stayed under half the bound this long (ms). */
  shedRestoreMs?: number;
  /** The preset of the second shedding step. */
  shedPreset?: string;
  /** nice(1) value of backlog ffmpeg processes. */
  backlogNice?: number;
}

/** One stream's pipeline: which publish session, where its output goes, what it continues from. */
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
