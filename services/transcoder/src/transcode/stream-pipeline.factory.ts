import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import type { StreamRecord, TranscodeMode } from '@tributary/contracts';
import { type MediaTools, resolveMediaTools } from '@tributary/media';
import type { Logger } from '@tributary/telemetry';
import { TRANSCODER_CONFIG, type TranscoderConfig } from '../config';
import { LowLatencyPipelines } from '../low-latency/low-latency-pipelines';
import type { BacklogGate } from './backlog-scheduler';
import type { PipelineSink } from './pipeline-sink';
import { StreamPipeline } from './stream-pipeline';

/** What TranscoderService uses of a pipeline (StreamPipeline, or a fake in unit tests). */
export type TranscodePipeline = Pick<
  StreamPipeline,
  | 'streamId'
  | 'partition'
  | 'publishSessionId'
  | 'isFinished'
  | 'currentState'
  | 'finished'
  | 'lastChunkAt'
  | 'feed'
  | 'endAfter'
  | 'abandon'
  | 'sequencesAfter'
  | 'transcodeMode'
  | 'goLive'
  | 'toBacklog'
  | 'edgeDelayMs'
  | 'cut'
  | 'checkLatency'
  | 'latencyBoundMs'
  | 'shedLevel'
  | 'oldestPendingMs'
>;

export interface PipelineRequest {
  streamId: string;
  partition: number;
  publishSessionId: string;
  record?: StreamRecord;
  lastSequences: Promise<Map<string, number>>;
  sink: PipelineSink;
  logger: Logger;
  /** `backlog`: the publisher is gone (transcoded only with a turn from `backlog`). */
  mode: TranscodeMode;
  backlog: BacklogGate;
}

export interface PipelineFactory {
  /** Finds the media tools (fails start-up when ffmpeg/ffprobe are missing). */
  init(): MediaTools;
  create(request: PipelineRequest): TranscodePipeline;
}

/** StreamPipelines with the service's ffmpeg settings. */
@Injectable()
export class StreamPipelineFactory implements PipelineFactory {
  private tools?: MediaTools;

  private readonly lowLatency: LowLatencyPipelines;

  constructor(@Inject(TRANSCODER_CONFIG) private readonly config: TranscoderConfig) {
    this.lowLatency = new LowLatencyPipelines(config);
  }

  init(): MediaTools {
    this.tools = resolveMediaTools({
      ...(this.config.ffmpegPath ? { ffmpegPath: this.config.ffmpegPath } : {}),
      ...(this.config.ffprobePath ? { ffprobePath: this.config.ffprobePath } : {}),
      ...(this.config.searchPath ? { searchPath: this.config.searchPath } : {}),
    });
    return this.tools;
  }

  create(request: PipelineRequest): TranscodePipeline {
    const tools = this.tools ?? this.init();
    // Registry latency_mode `low`: a LowLatencyPipeline (or standard, with the reason, when ffmpeg is too old).
    const chosen = this.lowLatency.pipelineFor(request, tools);
    if (chosen.pipeline) return chosen.pipeline;
    request = chosen.request;
    return new StreamPipeline({
      ...request,
      settings: {
        tools,
        workDir: this.config.workDir ?? join(tmpdir(), 'tributary-transcoder'),
        preset: this.config.preset,
        threads: this.config.threads,
        thumbnailIntervalSeconds: this.config.thumbnailIntervalSeconds,
        maxRestarts: this.config.maxRestarts,
        probeMaxBytes: this.config.probeMaxBytes,
        liveMaxTrailSegments: this.config.liveMaxTrailSegments,
        shedding: this.config.shedding === 'on',
        shedRestoreMs: this.config.shedRestoreMs,
        shedPreset: this.config.shedPreset,
        backlogNice: this.config.backlogNice,
      },
    });
  }
}
