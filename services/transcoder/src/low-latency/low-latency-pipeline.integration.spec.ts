import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { camRecord, chunksOf, feedKillingFfmpegMidway, logger, RecordingSink, run, useTsSource } from '../testing/pipeline-fixture';
import type { PipelineSink } from '../transcode/pipeline-sink';
import { LowLatencyPipeline, type LowLatencySettings } from './low-latency-pipeline';
import { itWithLowLatencyFfmpeg, tools } from './testing/fmp4-fixture';

/** LowLatencyPipeline with real ffmpeg/ffprobe and a recording sink (no Kafka). */
const fixture = useTsSource({ ffmpeg: tools.ffmpeg, prefix: 'll-pipeline-it-', size: '640x360', rate: 30, seconds: 6, gop: 30 });
/** For the shedding test: long enough to trail, shed, catch up and restore. */
const LONG_SECONDS = 60;
const long = useTsSource({ ffmpeg: tools.ffmpeg, prefix: 'll-pipeline-shed-it-', size: '640x360', rate: 30, seconds: LONG_SECONDS, gop: 30 });

function pipeline(sink: PipelineSink, last: Map<string, number>, settings: Partial<LowLatencySettings> = {}): LowLatencyPipeline {
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
      ...settings,
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

  itWithLowLatencyFfmpeg('sheds while it trails its bound, keeps publishing well-formed parts across its restarts, and restores once it keeps up', async () => {
    const sink = new RecordingSink();
    // Bound 2 × 2 s; restored after 3 s under half of it; veryfast → ultrafast is the faster preset.
    const subject = pipeline(sink, new Map(), { preset: 'veryfast', shedPreset: 'ultrafast', liveMaxTrailSegments: 2, shedRestoreMs: 3_000 });
    const chunks = chunksOf(long.source);
    const chunkMs = (LONG_SECONDS * 1000) / chunks.length;
    const actions = () => sink.statuses.flatMap((status) => (status.detail?.action ? [status.detail.action] : []));
    const partCount = () => sink.segments.filter((record) => record.kind === 'part').length;
    const delays: number[] = [];
    const check = setInterval(() => {
      const delay = subject.checkLatency();
      if (delay !== undefined) delays.push(delay);
    }, 500);
    // Starved of CPU until it skipped to live: each ffmpeg run is paused (SIGSTOP) once it has made
    // parts, so the input queues up behind it; the runs a shed starts after that keep up.
    const firstSeen = new Map<number, number>();
    const paused = new Set<number>();
    const starve = setInterval(() => {
      const pid = subject.ffmpegPid;
      if (pid === undefined || paused.has(pid) || actions().includes('skip_to_live')) return;
      if (!firstSeen.has(pid)) firstSeen.set(pid, partCount());
      else if (partCount() > firstSeen.get(pid)! + 4) {
        paused.add(pid);
        process.kill(pid, 'SIGSTOP');
      }
    }, 100);
    const started = Date.now();
    const feeds: Promise<void>[] = [];
    let fed = 0;
    try {
      // Real time, not waiting for ffmpeg (as the service reads Kafka), until 4 s after everything was restored.
      let restoredAt: number | undefined;
      for (const [index, data] of chunks.entries()) {
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, started + index * chunkMs - Date.now())));
        feeds.push(subject.feed({ offset: String(index), sequence: index, data, ingestTimeMs: Date.now() }));
        fed = index + 1;
        if (restoredAt === undefined && actions().includes('restore_rendition')) restoredAt = Date.now();
        if (restoredAt !== undefined && Date.now() - restoredAt > 4_000) break;
      }
      await Promise.all(feeds);
    } finally {
      clearInterval(check);
      clearInterval(starve);
      // A paused run the test still holds (only if the stream never skipped) goes on.
      const pid = subject.ffmpegPid;
      if (pid !== undefined && paused.has(pid)) process.kill(pid, 'SIGCONT');
    }
    process.stdout.write(
      `LL shedding: ${actions().join(' → ')}; ${fed} of ${chunks.length} chunks fed, ${paused.size} runs paused; edge delay max ${Math.round(Math.max(...delays))} ms, last ${Math.round(delays.at(-1) ?? 0)} ms; ${Math.round((Date.now() - started) / 1000)} s\n`,
    );
    await subject.endAfter(fed - 1, 'publisher ended');
    await subject.finished;

    // The documented order, then back in reverse once on time; every report keeps its low-latency detail.
    const done = actions();
    expect(done.slice(0, 3)).toEqual(['drop_rendition', 'faster_preset', 'skip_to_live']);
    expect(done.slice(-2)).toEqual(['restore_preset', 'restore_rendition']);
    const live = sink.statuses.filter((status) => status.state === 'live');
    for (const status of live) expect(status.detail).toMatchObject({ latency_mode: 'low', part_target_seconds: expect.any(Number) as number });
    const named = (action: string) => live.find((status) => status.detail?.action === action)!;
    expect(named('drop_rendition').renditions?.map((rendition) => rendition.name)).toEqual(['180p']);
    expect(named('drop_rendition').detail).toMatchObject({ shed_level: 1, dropped_renditions: ['360p'], preset: 'veryfast' });
    expect(named('faster_preset').detail).toMatchObject({ shed_level: 2, preset: 'ultrafast' });
    expect(named('skip_to_live').detail?.skipped_chunks).toBeGreaterThan(0);
    expect(named('restore_rendition').renditions?.map((rendition) => rendition.name)).toEqual(['360p', '180p']);
    expect(subject.shedLevel).toBe(0);
    const ended = sink.statuses.at(-1)!;
    expect(ended).toMatchObject({ state: 'ended', detail: { latency_mode: 'low' } });
    expect(ended.detail?.skipped_chunks).toBeGreaterThan(0);
    expect(sink.done.size).toBe(fed); // every chunk covered by parts or skipped

    // The parts keep the playlist's rules in every rendition across the restarts.
    const partTarget = live.at(-1)!.detail!.part_target_seconds!;
    const sessionsOf = new Map<string, string[]>();
    for (const rendition of ['360p', '180p']) {
      const records = sink.segments.filter((record) => record.rendition === rendition);
      const sessions = [...new Set(records.map((record) => record.transcodeSession))];
      sessionsOf.set(rendition, sessions);
      for (const [i, session] of sessions.entries()) {
        const own = records.filter((record) => record.transcodeSession === session);
        // A run starts with its init segment, then a new segment; after the first, both after a DISCONTINUITY.
        expect(own[0]).toMatchObject({ kind: 'init', discontinuity: i > 0 });
        expect(own.find((record) => record.kind === 'part')).toMatchObject({ discontinuity: i > 0, part: { index: 0, independent: true } });
      }
      const parts = records.filter((record) => record.kind === 'part');
      const sequences = [...new Set(parts.map((part) => part.sequence))];
      // Media sequences only go up, never shared by two runs; parts indexed from 0, each segment starting independent.
      expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
      for (const sequence of sequences) {
        const segment = parts.filter((part) => part.sequence === sequence);
        expect(new Set(segment.map((part) => part.transcodeSession)).size).toBe(1);
        expect(segment.map((part) => part.part!.index)).toEqual(segment.map((_, i) => i));
        expect(segment[0].part!.independent).toBe(true);
      }
      for (const part of parts) expect(part.durationSeconds).toBeLessThanOrEqual(partTarget);
    }
    // 360p stopped while dropped and came back with the last run; 180p went through every restart.
    const runs = sessionsOf.get('180p')!;
    expect(runs.length).toBeGreaterThanOrEqual(5);
    expect(sessionsOf.get('360p')).toEqual([runs[0], runs.at(-1)]);
  }, 180_000);
});
