import { latencyModeOf, type StreamStatus } from '@tributary/contracts';
import type { MediaTools } from '@tributary/media';
import type { TranscoderConfig } from '../config';
import type { PipelineSink } from '../transcode/pipeline-sink';
import type { PipelineRequest } from '../transcode/stream-pipeline.factory';
import { lowLatencySupport, type LowLatencySupport } from './ffmpeg-capability';
import { LowLatencyPipeline } from './low-latency-pipeline';

type LowLatencyConfig = Pick<
  TranscoderConfig,
  | 'preset'
  | 'threads'
  | 'thumbnailIntervalSeconds'
  | 'maxRestarts'
  | 'probeMaxBytes'
  | 'liveMaxTrailSegments'
  | 'shedding'
  | 'shedRestoreMs'
  | 'shedPreset'
  | 'backlogNice'
  | 'llPartSeconds'
  | 'llKeyframeSeconds'
>;

/**
 * Where a stream's pipeline is chosen by its registry entry's latency mode: `low` gets a
 * LowLatencyPipeline when the ffmpeg found can make parts (≥ 5); otherwise (and for `standard`) the
 * request goes on to the standard pipeline unchanged — except that a `low` stream falling back
 * has the reason logged and on its stream.status reports (`reason`, `detail.latency_mode: standard`).
 */
export class LowLatencyPipelines {
  constructor(
    private readonly config: LowLatencyConfig,
    private readonly support: (ffmpegPath: string) => LowLatencySupport = lowLatencySupport,
  ) {}

  /** A low-latency pipeline for `request`, or the request for the standard pipeline. */
  pipelineFor(request: PipelineRequest, tools: MediaTools): { pipeline: LowLatencyPipeline; request?: undefined } | { pipeline?: undefined; request: PipelineRequest } {
    if (!request.record || latencyModeOf(request.record) !== 'low') return { request };
    const support = this.support(tools.ffmpeg);
    if (!support.supported) {
      request.logger.warn({ ffmpeg: tools.ffmpeg, ffmpegVersion: support.version, reason: support.reason }, 'stream asks for low-latency mode, which this ffmpeg cannot do: transcoding it in standard mode');
      return { request: { ...request, sink: fallbackSink(request.sink, support.reason!) } };
    }
    const config = this.config;
    return {
      pipeline: new LowLatencyPipeline({
        streamId: request.streamId,
        partition: request.partition,
        publishSessionId: request.publishSessionId,
        record: request.record,
        lastSequences: request.lastSequences,
        sink: request.sink,
        logger: request.logger.child({ latencyMode: 'low' }),
        mode: request.mode,
        backlog: request.backlog,
        settings: {
          tools,
          preset: config.preset,
          threads: config.threads,
          thumbnailIntervalSeconds: config.thumbnailIntervalSeconds,
          maxRestarts: config.maxRestarts,
          probeMaxBytes: config.probeMaxBytes,
          liveMaxTrailSegments: config.liveMaxTrailSegments,
          shedding: config.shedding === 'on',
          shedRestoreMs: config.shedRestoreMs,
          shedPreset: config.shedPreset,
          backlogNice: config.backlogNice,
          partSeconds: config.llPartSeconds,
          keyframeSeconds: config.llKeyframeSeconds,
        },
      }),
    };
  }
}

/** The sink of a low-latency stream that runs in standard mode: its status reports say so, and why. */
export function fallbackSink(sink: PipelineSink, reason: string): PipelineSink {
  return {
    segment: (segment) => sink.segment(segment),
    thumbnail: (streamId, data, traceparent) => sink.thumbnail(streamId, data, traceparent),
    chunkDone: (partition, offset) => sink.chunkDone(partition, offset),
    status: (status: Omit<StreamStatus, 'reporter' | 'ts'>) =>
      sink.status(
        status.state === 'live'
          ? { ...status, reason: status.reason ?? reason.slice(0, 2000), detail: { ...(status.detail ?? { mode: 'live' }), latency_mode: 'standard' } }
          : status,
      ),
  };
}
