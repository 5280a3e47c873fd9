import type { FfmpegExit, SourceInfo } from '@tributary/media';
import { camRecord, logger, RecordingSink, until } from '../testing/pipeline-fixture';
import { LowLatencyPipeline, type LowLatencySettings } from './low-latency-pipeline';
import type { LowLatencyRun, LowLatencyRunOptions } from './low-latency-run';
import { videoPesPacket } from '../testing/ts-packets';

/** A low-latency ffmpeg run that records its input and makes parts on demand (no ffmpeg). */
class FakeRun {
  readonly session: string;
  readonly written: Buffer[] = [];
  running = true;
  /** ffmpeg's exit code once its input is closed (1: it could decode nothing). */
  endCode = 0;
  readonly exited: Promise<FfmpegExit>;
  readonly drained: Promise<void>;
  readonly clock = { inputWritten: () => undefined, programTimeMs: (_start: number, duration: number) => Date.now() - duration * 1000 };
  private readonly inited = new Set<string>();
  private exit!: (exit: FfmpegExit) => void;

  constructor(readonly options: LowLatencyRunOptions) {
    this.session = `run-${options.id}`;
    this.exited = new Promise((resolve) => (this.exit = resolve));
    this.drained = this.exited.then(() => undefined);
  }

  get id(): number {
    return this.options.id;
  }

  get pid(): number {
    return 2000 + this.options.id;
  }

  /** While set, writes wait for it (ffmpeg reads slower than input arrives). */
  gate?: Promise<void>;

  write(data: Buffer): Promise<boolean> {
    this.written.push(data);
    return (this.gate ?? Promise.resolve()).then(() => true);
  }

  endInput(): void {
    this.finish({ code: this.endCode, signal: null, stderrTail: this.endCode ? 'Cannot determine format of input stream 0:0 after EOF' : '' });
  }

  kill(): void {
    this.finish({ code: null, signal: 'SIGKILL', stderrTail: '' });
  }

  renice(): void {}

  /** An independent part of every rendition (after its init segment, the first time). */
  async part(seconds = 0.2): Promise<void> {
    for (const rendition of this.options.renditions) {
      if (!this.inited.has(rendition)) {
        this.inited.add(rendition);
        await this.options.onOutput({ kind: 'init', data: Buffer.from('init'), tracks: [], rendition, writtenAt: performance.now() });
      }
      await this.options.onOutput({ kind: 'fragment', data: Buffer.from('moof'), startSeconds: 0, durationSeconds: seconds, independent: true, samples: 6, rendition, writtenAt: performance.now() });
    }
  }

  private finish(exit: FfmpegExit): void {
    if (!this.running) return;
    this.running = false;
    this.exit(exit);
  }
}

const source: SourceInfo = { width: 640, height: 360, hasVideo: true, hasAudio: false, frameRate: 30 };

function pipeline(sink: RecordingSink, settings: Partial<LowLatencySettings> = {}) {
  const runs: FakeRun[] = [];
  /** The exit code of runs started from now on once their input is closed. */
  const next = { endCode: 0 };
  const subject = new LowLatencyPipeline({
    streamId: 'cam',
    partition: 0,
    publishSessionId: 'pub-1',
    record: camRecord(2, { latency_mode: 'low' }), // 360p + 180p
    lastSequences: Promise.resolve(new Map()),
    sink,
    logger,
    settings: {
      tools: { ffmpeg: 'ffmpeg', ffprobe: 'ffprobe' },
      preset: 'veryfast',
      shedPreset: 'superfast',
      shedRestoreMs: 20_000,
      liveMaxTrailSegments: 3,
      threads: 1,
      thumbnailIntervalSeconds: 0,
      maxRestarts: 3,
      probeMaxBytes: 64 * 1024,
      probeInitialBytes: 1024,
      partSeconds: 0.2,
      keyframeSeconds: 1,
      ...settings,
    },
    probe: () => Promise.resolve(source),
    startRun: (options) => {
      const run = new FakeRun(options);
      run.endCode = next.endCode;
      runs.push(run);
      return run as unknown as LowLatencyRun;
    },
  });
  return { subject, runs, next };
}

/**
 * Feeds a pipeline until its first run made a part, then a chunk that arrived 7 s earlier (its
 * ingest time) and checks the latency every second from 7 s on: the stream trails its 4 s bound
 * and sheds its top rendition. `whileRunning` stops the checks once the first run was killed.
 */
async function trailing(subject: LowLatencyPipeline, runs: FakeRun[], data?: Buffer, whileRunning = true): Promise<number> {
  const t0 = Date.now();
  await subject.feed(chunk(0, t0));
  await runs[0].part();
  await subject.feed(chunk(1, t0, data));
  for (let t = 7_000; t <= 13_000 && (!whileRunning || runs[0].running); t += 1_000) subject.checkLatency(t0 + t);
  return t0;
}

/** A chunk starting with a video keyframe's TS packet. */
const keyframeData = () => videoPesPacket(true, 1024);

const chunk = (sequence: number, ingestTimeMs: number, data: Buffer = Buffer.alloc(1024)) => ({ offset: String(sequence), sequence, data, ingestTimeMs });

describe(LowLatencyPipeline.name, () => {
  it('sheds like a standard stream (fake clock): top rendition, faster preset, then a restart at the newest keyframe; each a live report with its low-latency detail', async () => {
    const sink = new RecordingSink();
    const { subject, runs } = pipeline(sink);
    const t0 = Date.now();
    let t = t0;
    /** One check per second of fake time until ffmpeg was (re)started `count` times. */
    const tickUntilRuns = async (count: number) => {
      for (let i = 0; i < 60 && runs.length < count; i += 1) {
        subject.checkLatency((t += 1_000));
        await new Promise((resolve) => setImmediate(resolve));
      }
      await until(() => runs.length === count && runs[count - 1].written.length > 0);
    };
    await subject.feed(chunk(0, t0));
    expect(runs[0].options.renditions).toEqual(['360p', '180p']);
    // Before its first part, a run's start-up is not judged.
    for (let i = 1; i <= 20; i += 1) subject.checkLatency(t0 + i * 1_000);
    expect(runs).toHaveLength(1);
    await runs[0].part();
    await subject.feed(chunk(1, t0 + 20_000));
    t = t0 + 20_000;
    for (let i = 0; i < 6; i += 1) subject.checkLatency((t += 1_000)); // 1–6 s behind: within 3 × 2 s
    expect(runs).toHaveLength(1);

    await tickUntilRuns(2);
    expect(runs[0].running).toBe(false);
    expect(runs[1].options.renditions).toEqual(['180p']);
    expect(runs[1].options.args).toContain('veryfast');
    expect(runs[1].written).toHaveLength(1); // chunk 1 re-fed (not yet covered)
    await until(() => sink.statuses.length === 2);
    expect(sink.statuses[1]).toMatchObject({
      state: 'live',
      renditions: [expect.objectContaining({ name: '180p' })],
      detail: { mode: 'live', latency_mode: 'low', part_target_seconds: 0.2, action: 'drop_rendition', shed_level: 1, dropped_renditions: ['360p'], preset: 'veryfast' },
    });
    expect(sink.statuses[1].renditions).toHaveLength(1);
    expect(subject.shedLevel).toBe(1);
    // The new run's first init segment and part follow a DISCONTINUITY, numbering on.
    const before = sink.segments.length;
    await runs[1].part();
    expect(sink.segments.slice(before)).toMatchObject([
      { rendition: '180p', kind: 'init', sequence: 2, discontinuity: true, transcodeSession: 'run-2' },
      { rendition: '180p', kind: 'part', sequence: 2, discontinuity: true, part: { index: 0, independent: true } },
    ]);

    await subject.feed(chunk(2, t));
    await tickUntilRuns(3);
    expect(runs[2].options.args).toContain('superfast');
    expect(runs[2].options.renditions).toEqual(['180p']);
    expect(subject.shedLevel).toBe(2);

    // Still behind: the input before the newest keyframe is skipped and ffmpeg restarts there.
    await runs[2].part();
    await subject.feed(chunk(3, t));
    await subject.feed(chunk(4, t, keyframeData()));
    await subject.feed(chunk(5, t));
    const done = [...sink.done];
    await tickUntilRuns(4);
    await until(() => runs[3].written.length === 2);
    expect([...sink.done].filter((offset) => !done.includes(offset))).toEqual(['3']); // a recorded gap
    expect(runs[3].written[0].equals(keyframeData())).toBe(true);
    await until(() => sink.statuses.at(-1)?.detail?.action === 'skip_to_live');
    expect(sink.statuses.at(-1)).toMatchObject({
      renditions: [expect.objectContaining({ name: '180p' })],
      detail: { latency_mode: 'low', part_target_seconds: 0.2, action: 'skip_to_live', skipped_chunks: 1, shed_level: 2 },
    });
    await runs[3].part();
    expect(sink.segments.at(-1)).toMatchObject({ kind: 'part', discontinuity: true, transcodeSession: 'run-4' });

    // The end: every chunk released, the skip on record.
    await subject.endAfter(5, 'publisher ended');
    await subject.finished;
    expect(sink.done.size).toBe(6);
    expect(sink.statuses.at(-1)).toMatchObject({ state: 'ended', detail: { mode: 'live', latency_mode: 'low', skipped_chunks: 1 } });
  });

  it('a later live report (a longer part raised PART-TARGET) carries what is shed, not the shed action again', async () => {
    const sink = new RecordingSink();
    const { subject, runs } = pipeline(sink);
    await trailing(subject, runs);
    await until(() => sink.statuses.some((status) => status.detail?.action === 'drop_rendition'));
    await until(() => runs.length === 2);
    const before = sink.statuses.length;
    await runs[1].part(0.5);
    expect(sink.statuses.slice(before)).toHaveLength(1);
    const report = sink.statuses.at(-1)!;
    expect(report).toMatchObject({ state: 'live', detail: { mode: 'live', latency_mode: 'low', shed_level: 1, dropped_renditions: ['360p'], preset: 'veryfast' } });
    expect(report.detail?.part_target_seconds).toBeGreaterThanOrEqual(0.5);
    expect(report.detail).not.toHaveProperty('action');
    expect(report.detail).not.toHaveProperty('edge_delay_ms');
    expect(report.detail).not.toHaveProperty('skipped_chunks');
    expect(sink.statuses.filter((status) => status.detail?.action === 'drop_rendition')).toHaveLength(1);
  });

  it('restores the dropped rendition once the edge delay stays under half the bound, continuing its numbering', async () => {
    const sink = new RecordingSink();
    const { subject, runs } = pipeline(sink);
    const t0 = await trailing(subject, runs, undefined, false);
    await until(() => runs.length === 2 && runs[1].written.length === 1);
    expect(runs[1].options.renditions).toEqual(['180p']);
    await runs[1].part(); // chunk 1 covered: nothing pending, delay 0
    for (let t = 14_000; t <= 40_000; t += 1_000) subject.checkLatency(t0 + t);
    await until(() => runs.length === 3);
    expect(runs[2].options.renditions).toEqual(['360p', '180p']);
    await until(() => sink.statuses.at(-1)?.detail?.action === 'restore_rendition');
    expect(sink.statuses.at(-1)).toMatchObject({
      renditions: [expect.objectContaining({ name: '360p' }), expect.objectContaining({ name: '180p' })],
      detail: { latency_mode: 'low', shed_level: 0, dropped_renditions: [] },
    });
    expect(subject.shedLevel).toBe(0);
    const before = sink.segments.length;
    await runs[2].part();
    // 360p (last at 1 before it was dropped) continues at 2 after a DISCONTINUITY; 180p after 2.
    expect(sink.segments.slice(before).filter((segment) => segment.kind === 'part')).toMatchObject([
      { rendition: '360p', sequence: 2, discontinuity: true },
      { rendition: '180p', sequence: 3, discontinuity: true },
    ]);
  });

  it('a cut while a shed restart is under way stops the run that restart started too (no ffmpeg left behind)', async () => {
    const sink = new RecordingSink();
    const { subject, runs } = pipeline(sink);
    await trailing(subject, runs);
    expect(runs[0].running).toBe(false); // killed; the next run starts in the queue
    subject.toBacklog();
    await subject.cut('a newer publish is live');
    await subject.finished;
    expect(runs.map((run) => run.running)).toEqual(runs.map(() => false));
    expect(sink.statuses.at(-1)).toMatchObject({ state: 'ended', detail: { action: 'backlog_cut', latency_mode: 'low' } });
    expect(sink.done.size).toBe(2);
  });

  it('a cut skips the input queued behind it (none is written to the killed run) and counts it in skipped_chunks', async () => {
    const sink = new RecordingSink();
    const { subject, runs } = pipeline(sink);
    const t0 = Date.now();
    await subject.feed(chunk(0, t0));
    await runs[0].part(); // chunk 0 covered
    let release!: () => void;
    runs[0].gate = new Promise((resolve) => (release = resolve));
    const fed = [subject.feed(chunk(1, t0)), subject.feed(chunk(2, t0))]; // 1 blocks in ffmpeg's input, 2 waits behind it
    await until(() => runs[0].written.length === 2);
    subject.toBacklog();
    const cut = subject.cut('a newer publish is live');
    release();
    await Promise.all([...fed, cut]);
    await subject.finished;
    expect(runs[0].written).toHaveLength(2); // chunks 0 and 1, not 2
    expect(runs[0].running).toBe(false);
    expect(sink.statuses.at(-1)).toMatchObject({ state: 'ended', detail: { mode: 'backlog', action: 'backlog_cut', latency_mode: 'low', skipped_chunks: 2 } });
    expect(sink.done.size).toBe(3);
  });

  it('ends (not error) when the input after a restart holds no keyframe and ffmpeg decoded nothing of it before the end; fails as before when it had one', async () => {
    for (const keyframe of [false, true]) {
      const sink = new RecordingSink();
      const { subject, runs, next } = pipeline(sink, { maxRestarts: 1 });
      await trailing(subject, runs, keyframe ? keyframeData() : undefined);
      await until(() => runs.length === 2 && runs[1].written.length === 1); // chunk 1 re-fed
      runs[1].endCode = 1;
      next.endCode = 1; // a crash restart is fed the same input
      await subject.endAfter(1, 'publisher ended');
      await subject.finished;
      expect(runs).toHaveLength(keyframe ? 3 : 2);
      expect(sink.statuses.at(-1)?.state).toBe(keyframe ? 'error' : 'ended');
      expect(sink.done.size).toBe(2);
    }
  }, 15_000);

  it('never sheds with shedding off (TRANSCODER_SHEDDING=off): the edge delay is still measured', async () => {
    const sink = new RecordingSink();
    const { subject, runs } = pipeline(sink, { shedding: false });
    const t0 = Date.now();
    await subject.feed(chunk(0, t0));
    await runs[0].part();
    await subject.feed(chunk(1, t0));
    let delay: number | undefined;
    for (let t = 1_000; t <= 60_000; t += 1_000) delay = subject.checkLatency(t0 + t);
    await new Promise((resolve) => setImmediate(resolve));
    expect(delay).toBe(60_000);
    expect(delay).toBeGreaterThan(subject.latencyBoundMs);
    expect(runs).toHaveLength(1);
    expect(subject.shedLevel).toBe(0);
    expect(sink.statuses.map((status) => status.detail?.action)).toEqual([undefined]);
  });
});
