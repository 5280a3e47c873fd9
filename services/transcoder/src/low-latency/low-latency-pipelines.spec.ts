import type { StreamRecord, StreamStatus } from '@tributary/contracts';
import pino from 'pino';
import type { PipelineSink } from '../transcode/pipeline-sink';
import type { PipelineRequest } from '../transcode/stream-pipeline.factory';
import { gopSecondsFor, LowLatencyPipeline } from './low-latency-pipeline';
import { LowLatencyPipelines } from './low-latency-pipelines';

const config = {
  preset: 'veryfast',
  threads: 2,
  thumbnailIntervalSeconds: 5,
  maxRestarts: 3,
  probeMaxBytes: 4 * 1024 * 1024,
  liveMaxTrailSegments: 3,
  shedding: 'on' as const,
  shedRestoreMs: 30_000,
  shedPreset: 'ultrafast',
  backlogNice: 15,
  llPartSeconds: 0.2,
  llKeyframeSeconds: 1,
};
const tools = { ffmpeg: '/usr/bin/ffmpeg', ffprobe: '/usr/bin/ffprobe' };

function request(record: Partial<StreamRecord> | undefined, statuses: Omit<StreamStatus, 'reporter' | 'ts'>[] = []): PipelineRequest {
  const sink: PipelineSink = {
    segment: () => Promise.resolve(true),
    thumbnail: () => Promise.resolve(),
    status: (status) => {
      statuses.push(status);
      return Promise.resolve();
    },
    chunkDone: () => undefined,
  };
  return {
    streamId: 'cam',
    partition: 0,
    publishSessionId: 'pub-1',
    ...(record ? { record: { id: 'cam', title: 'cam', ladder: [], segment_duration_seconds: 2, stream_key_sha256: '0'.repeat(64), created_at: new Date().toISOString(), ...record } } : {}),
    lastSequences: Promise.resolve(new Map()),
    sink,
    logger: pino({ level: 'silent' }),
    mode: 'live',
    backlog: { turn: () => Promise.resolve(true), permit: () => Promise.resolve(), end: () => undefined },
  };
}

describe(LowLatencyPipelines.name, () => {
  const supported = () => ({ supported: true, version: '5.1.9' });
  const tooOld = () => ({ supported: false, version: '4.4.2', reason: 'low-latency mode needs ffmpeg >= 5; transcoded in standard mode' });

  it('leaves standard streams (and streams not in the registry) to the standard pipeline, untouched', () => {
    const pipelines = new LowLatencyPipelines(config, supported);
    for (const record of [undefined, {}, { latency_mode: 'standard' as const }]) {
      const original = request(record);
      expect(pipelines.pipelineFor(original, tools)).toEqual({ request: original });
    }
  });

  it('gives latency_mode low a LowLatencyPipeline when ffmpeg can make parts', () => {
    const chosen = new LowLatencyPipelines(config, supported).pipelineFor(request({ latency_mode: 'low' }), tools);
    expect(chosen.pipeline).toBeInstanceOf(LowLatencyPipeline);
  });

  it('falls back to standard with an old ffmpeg, and its live reports say so and why', async () => {
    const statuses: Omit<StreamStatus, 'reporter' | 'ts'>[] = [];
    const chosen = new LowLatencyPipelines(config, tooOld).pipelineFor(request({ latency_mode: 'low' }, statuses), tools);
    expect(chosen.pipeline).toBeUndefined();
    await chosen.request!.sink.status({ stream_id: 'cam', state: 'live', renditions: [] });
    await chosen.request!.sink.status({ stream_id: 'cam', state: 'ended' });
    expect(statuses[0]).toMatchObject({ state: 'live', reason: expect.stringMatching(/needs ffmpeg >= 5/), detail: { mode: 'live', latency_mode: 'standard' } });
    expect(statuses[1]).toEqual({ stream_id: 'cam', state: 'ended' });
  });
});

describe(gopSecondsFor.name, () => {
  it('divides the segment into keyframe intervals of at most the configured length', () => {
    expect(gopSecondsFor(2, 1)).toBe(1);
    expect(gopSecondsFor(1, 1)).toBe(1);
    expect(gopSecondsFor(1.5, 1)).toBe(0.75);
    expect(gopSecondsFor(6, 2)).toBe(2);
    expect(gopSecondsFor(0.5, 1)).toBe(0.5);
  });
});
