import { randomBytes } from 'node:crypto';
import { TS_PACKET_SIZE } from '@tributary/contracts';
import { resolveMediaTools } from '@tributary/media';
import { camRecord, chunksOf, feedKillingFfmpegMidway, logger, RecordingSink, useTsSource } from '../testing/pipeline-fixture';
import { type PipelineSink, StreamPipeline } from './stream-pipeline';

/** StreamPipeline with real ffmpeg/ffprobe and a recording sink (no Kafka): restarts, garbage, ladder. */
const tools = resolveMediaTools({ searchPath: process.env.PATH });
const fixture = useTsSource({ ffmpeg: tools.ffmpeg, prefix: 'pipeline-it-', size: '480x270', rate: 10, seconds: 8, gop: 10 });

function pipeline(sink: PipelineSink, last = new Map<string, number>()): StreamPipeline {
  return new StreamPipeline({
    streamId: 'cam',
    partition: 0,
    publishSessionId: 'session-1',
    record: camRecord(1),
    lastSequences: Promise.resolve(last),
    sink,
    logger,
    settings: {
      tools,
      workDir: fixture.dir,
      preset: 'ultrafast',
      threads: 1,
      thumbnailIntervalSeconds: 2,
      maxRestarts: 2,
      probeMaxBytes: 256 * 1024,
      probeInitialBytes: 32 * 1024,
    },
  });
}

describe(StreamPipeline.name, () => {
  it('never upscales, continues numbering after the last known sequence, and restarts a killed ffmpeg with a discontinuity', async () => {
    const sink = new RecordingSink();
    const subject = pipeline(sink, new Map([['180p', 41]]));
    const chunks = chunksOf(fixture.source);
    // Crash ffmpeg once it has produced output, mid-stream.
    await feedKillingFfmpegMidway(subject, chunks, () => sink.segments.length > 0);
    await subject.endAfter(chunks.length - 1, 'publisher ended');
    await subject.finished;

    const live = sink.statuses.find((status) => status.state === 'live');
    // 270p source: the 360p rung would upscale, so only 180p is produced.
    expect(live?.renditions?.map((rendition) => `${rendition.name}:${rendition.height}`)).toEqual(['180p:180']);
    expect(sink.statuses.at(-1)?.state).toBe('ended');

    const numbers = sink.segments.map((segment) => segment.sequence);
    expect(numbers).toEqual(Array.from({ length: numbers.length }, (_, i) => 42 + i));
    expect(sink.segments[0].discontinuity).toBe(true); // continues after earlier output
    const sessions = [...new Set(sink.segments.map((segment) => segment.transcodeSession))];
    expect(sessions.length).toBe(2); // the restart made a second ffmpeg run
    const firstOfSecondRun = sink.segments.find((segment) => segment.transcodeSession === sessions[1]);
    expect(firstOfSecondRun?.discontinuity).toBe(true);
    expect(sink.segments.filter((segment) => segment.discontinuity)).toHaveLength(2);
    // Every input chunk is accounted for (its offset may be committed).
    expect(sink.done.size).toBe(chunks.length);
    expect(sink.thumbnails).toBeGreaterThan(0);
  }, 120_000);

  it('marks garbage input error with the reason and releases its chunks', async () => {
    const sink = new RecordingSink();
    const subject = pipeline(sink);
    const garbage = randomBytes(TS_PACKET_SIZE * 2000);
    const chunks = chunksOf(garbage);
    for (const [index, chunk] of chunks.entries()) await subject.feed({ offset: String(index), sequence: index, data: chunk });
    await subject.endAfter(chunks.length - 1, 'publisher ended');
    await subject.finished;
    expect(sink.statuses.map((status) => status.state)).toEqual(['error']);
    expect(sink.statuses[0].reason).toMatch(/not decodable video/);
    expect(sink.segments).toHaveLength(0);
    expect(sink.done.size).toBe(chunks.length);
  }, 60_000);
});
