import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TS_PACKET_SIZE } from '@tributary/contracts';
import { resolveMediaTools } from '@tributary/media';
import { camRecord, chunksOf, feedKillingFfmpegMidway, logger, RecordingSink, run, useTsSource } from '../testing/pipeline-fixture';
import { type PipelineSink, StreamPipeline } from './stream-pipeline';

/** StreamPipeline with real ffmpeg/ffprobe and a recording sink (no Kafka): restarts, garbage, ladder. */
const tools = resolveMediaTools({ searchPath: process.env.PATH });
const fixture = useTsSource({ ffmpeg: tools.ffmpeg, prefix: 'pipeline-it-', size: '480x270', rate: 10, seconds: 8, gop: 10 });
/** Keyframes 4 s apart (t = 0, 4, 8 s): for a take-over mid-GOP. */
const longGop = useTsSource({ ffmpeg: tools.ffmpeg, prefix: 'pipeline-gop-it-', size: '480x270', rate: 10, seconds: 12, gop: 40 });

function pipeline(sink: PipelineSink, last = new Map<string, number>(), probeMaxBytes = 256 * 1024): StreamPipeline {
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
      probeMaxBytes,
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

  // ffmpeg analyses only 0.5 s of input (DEFAULT_INPUT_ARGS): here that ends 3 s before the first
  // keyframe. ffprobe waited for it (ProbeSchedule); ffmpeg must still decode full-size video from it.
  it('takes over a stream mid-GOP, 3.5 s before its next keyframe, with full-size video and audio', async () => {
    const sink = new RecordingSink();
    const subject = pipeline(sink, new Map(), 4 * 1024 * 1024);
    const from = Math.floor(longGop.source.length / 24 / TS_PACKET_SIZE) * TS_PACKET_SIZE; // ≈ 0.5 s in
    const chunks = chunksOf(longGop.source.subarray(from));
    for (const [index, chunk] of chunks.entries()) await subject.feed({ offset: String(index), sequence: index, data: chunk });
    await subject.endAfter(chunks.length - 1, 'publisher ended');
    await subject.finished;

    expect(sink.statuses.map((status) => status.state)).toEqual(['live', 'ended']);
    const segments = sink.segments.filter((segment) => segment.rendition === '180p');
    // At least from the keyframe at 4 s to the end at 12 s (ffmpeg may fill the undecodable GOP before with its first frame).
    const media = segments.reduce((sum, segment) => sum + segment.durationSeconds, 0);
    process.stdout.write(`mid-GOP take-over: ${segments.length} segments, ${media.toFixed(1)} s of media\n`);
    expect(media).toBeGreaterThan(7);
    const file = join(longGop.dir, 'first-segment.ts');
    await writeFile(file, segments[0].data);
    const probe = await run(tools.ffprobe, ['-v', 'error', '-count_frames', '-show_entries', 'stream=codec_type,width,height,nb_read_frames', '-of', 'csv=p=0', file]);
    const streams = probe.stdout.trim().split('\n').map((line) => line.split(','));
    expect(streams.find((stream) => stream[0] === 'video')?.slice(1, 3)).toEqual(['320', '180']);
    expect(Number(streams.find((stream) => stream[0] === 'video')?.[3])).toBeGreaterThanOrEqual(9);
    expect(streams.some((stream) => stream[0] === 'audio')).toBe(true);
    expect(sink.done.size).toBe(chunks.length);
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
