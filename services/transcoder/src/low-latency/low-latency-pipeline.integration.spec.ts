import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { camRecord, chunksOf, feedKillingFfmpegMidway, logger, RecordingSink, run, useTsSource } from '../testing/pipeline-fixture';
import type { PipelineSink } from '../transcode/pipeline-sink';
import { LowLatencyPipeline } from './low-latency-pipeline';
import { itWithLowLatencyFfmpeg, tools } from './testing/fmp4-fixture';

/** LowLatencyPipeline with real ffmpeg/ffprobe and a recording sink (no Kafka). */
const fixture = useTsSource({ ffmpeg: tools.ffmpeg, prefix: 'll-pipeline-it-', size: '640x360', rate: 30, seconds: 6, gop: 30 });

function pipeline(sink: PipelineSink, last: Map<string, number>): LowLatencyPipeline {
  return new LowLatencyPipeline({
    streamId: 'cam',
    partition: 0,
    publishSessionId: 'session-1',
    record: camRecord(2, { latency_mode: 'low' }),
    lastSequences: Promise.resolve(last),
    sink,
    logger,
    settings: {
      tools,
      preset: 'ultrafast',
      threads: 1,
      thumbnailIntervalSeconds: 2,
      maxRestarts: 1,
      probeMaxBytes: 256 * 1024,
      probeInitialBytes: 32 * 1024,
      partSeconds: 0.2,
      keyframeSeconds: 1,
    },
  });
}

describe(LowLatencyPipeline.name, () => {
  // 360p was published before (up to 41); 180p is new.
  itWithLowLatencyFfmpeg('publishes an init segment per rendition, then numbered parts that make whole, decodable segments', async () => {
    const sink = new RecordingSink();
    const subject = pipeline(sink, new Map([['360p', 41]]));
    const chunks = chunksOf(fixture.source);
    for (const [index, chunk] of chunks.entries()) await subject.feed({ offset: String(index), sequence: index, data: chunk });
    await subject.endAfter(chunks.length - 1, 'publisher ended');
    await subject.finished;

    const live = sink.statuses.find((status) => status.state === 'live');
    expect(live?.detail).toMatchObject({ mode: 'live', latency_mode: 'low' });
    const partTarget = subject.partTargetSeconds!;
    expect(partTarget).toBeGreaterThanOrEqual(0.2);
    expect(sink.statuses.at(-1)?.state).toBe('ended');

    for (const [rendition, firstSequence] of [
      ['360p', 42],
      ['180p', 1],
    ] as const) {
      const records = sink.segments.filter((record) => record.rendition === rendition);
      expect(records[0].kind).toBe('init');
      expect(records[0].sequence).toBe(firstSequence);
      const parts = records.filter((record) => record.kind === 'part');
      expect(records.filter((record) => record.kind === 'init')).toHaveLength(1);
      // 6 s: 30 parts of 200 ms (one more may hold the last frames).
      expect(parts.length).toBeGreaterThanOrEqual(29);
      expect(parts[0].discontinuity).toBe(firstSequence === 42);
      const sequences = [...new Set(parts.map((part) => part.sequence))];
      expect(sequences).toEqual(sequences.map((_, i) => firstSequence + i));
      for (const sequence of sequences) {
        const segment = parts.filter((part) => part.sequence === sequence);
        expect(segment.map((part) => part.part!.index)).toEqual(segment.map((_, i) => i));
        expect(segment[0].part!.independent).toBe(true);
      }
      for (const part of parts) {
        expect(part.durationSeconds).toBeGreaterThan(0);
        expect(part.durationSeconds).toBeLessThanOrEqual(partTarget);
        expect(part.data.toString('latin1', 4, 8)).toBe('moof');
      }
      // A keyframe every second (5 parts of 200 ms), segments of 2 s (the last one may be short).
      expect(parts.map((part) => part.part!.independent)).toEqual(parts.map((part) => part.part!.index % 5 === 0));
      expect(sequences.length).toBeGreaterThanOrEqual(3);
      for (const sequence of sequences.slice(0, -1)) {
        const seconds = parts.filter((part) => part.sequence === sequence).reduce((sum, part) => sum + part.durationSeconds, 0);
        expect(seconds).toBeGreaterThan(2 - 1e-6);
        expect(seconds).toBeLessThan(2 + partTarget);
      }

      // init + the parts of a segment is a playable fMP4 of the segment's duration.
      const segment = parts.filter((part) => part.sequence === firstSequence + 1);
      const file = join(fixture.dir, `${rendition}.mp4`);
      await writeFile(file, Buffer.concat([records[0].data, ...segment.map((part) => part.data)]));
      // Decoded (not only parsed): every frame of the segment's duration at 30 fps.
      const probe = await run(tools.ffprobe, ['-v', 'error', '-select_streams', 'v:0', '-count_frames', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', file]);
      const expected = segment.reduce((sum, part) => sum + part.durationSeconds, 0);
      expect(Number(probe.stdout.trim())).toBe(Math.round(expected * 30));
    }
    expect(sink.done.size).toBe(chunks.length);
    expect(sink.thumbnails).toBeGreaterThan(0);
    // The next session continues after the last segment of each rendition.
    const last = subject.sequencesAfter();
    for (const rendition of ['360p', '180p']) expect(last.get(rendition)).toBe(Math.max(...sink.segments.filter((record) => record.rendition === rendition).map((record) => record.sequence)));
  }, 120_000);

  itWithLowLatencyFfmpeg('restarts a killed ffmpeg: a new init segment and a new segment with a discontinuity, numbering on, every chunk released', async () => {
    const sink = new RecordingSink();
    const subject = pipeline(sink, new Map());
    const chunks = chunksOf(fixture.source);
    await feedKillingFfmpegMidway(subject, chunks, () => sink.segments.some((record) => record.kind === 'part'));
    await subject.endAfter(chunks.length - 1, 'publisher ended');
    await subject.finished;
    expect(sink.statuses.at(-1)?.state).toBe('ended');
    for (const rendition of ['360p', '180p']) {
      const records = sink.segments.filter((record) => record.rendition === rendition);
      const sessions = [...new Set(records.map((record) => record.transcodeSession))];
      expect(sessions).toHaveLength(2);
      const second = records.filter((record) => record.transcodeSession === sessions[1]);
      expect(second[0]).toMatchObject({ kind: 'init', discontinuity: true });
      const firstParts = records.filter((record) => record.transcodeSession === sessions[0] && record.kind === 'part');
      const lastBefore = Math.max(...firstParts.map((record) => record.sequence), 0);
      expect(second[0].sequence).toBe(lastBefore + 1);
      const secondParts = second.filter((record) => record.kind === 'part');
      expect(secondParts[0]).toMatchObject({ sequence: lastBefore + 1, discontinuity: true, part: { index: 0, independent: true } });
      // Sequences never go back or repeat across the restart.
      const sequences = [...new Set(records.filter((record) => record.kind === 'part').map((record) => record.sequence))];
      expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
    }
    expect(sink.done.size).toBe(chunks.length);
  }, 120_000);
});
