import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FfmpegExit, SourceInfo } from '@tributary/media';
import pino from 'pino';
import type { StreamRecord } from '@tributary/contracts';
import { until } from '../testing/pipeline-fixture';
import { timedVideoPesPacket, videoPesPacket } from '../testing/ts-packets';
import type { PipelineSettings } from './pipeline-options';
import type { StatusReport } from './stream-status.repository';
import { type OutgoingSegment, type PipelineSink, StreamPipeline } from './stream-pipeline';
import type { TranscodeEngine, TranscodeRun, TranscodeRunOptions } from './transcode-engine';

/** StreamPipeline's lifecycle with a fake engine (no ffmpeg) and a recording sink (no Kafka). */
class FakeRun implements TranscodeRun {
  readonly session: string;
  readonly written: Buffer[] = [];
  running = true;
  inputEnded = false;
  readonly exited: Promise<FfmpegExit>;
  private exit!: (exit: FfmpegExit) => void;
  constructor(readonly options: TranscodeRunOptions) {
    this.session = `run-${options.id}`;
    this.exited = new Promise((resolve) => (this.exit = resolve));
  }
  get id() {
    return this.options.id;
  }
  get pid() {
    return 1000 + this.options.id;
  }
  /** While set, writes wait for it (ffmpeg reads slower than input arrives). */
  gate?: Promise<void>;
  write(data: Buffer): Promise<boolean> {
    this.written.push(data);
    return (this.gate ?? Promise.resolve()).then(() => true);
  }
  endInput(): void {
    this.inputEnded = true;
  }
  kill(): void {
    this.finish({ code: null, signal: 'SIGKILL', stderrTail: '' });
  }
  niceness?: number;
  renice(niceness: number): void {
    this.niceness = niceness;
  }
  finishOutput(): Promise<void> {
    return Promise.resolve();
  }
  stopOutput(): Promise<void> {
    return Promise.resolve();
  }
  /** ffmpeg finished a segment of every rendition. */
  async segment(durationSeconds = 2, programTime?: string): Promise<void> {
    for (const rendition of this.options.renditions) {
      await this.options.onSegment({ rendition: rendition.name, sequence: 0, durationSeconds, ...(programTime ? { programTime } : {}), data: Buffer.from('ts') });
    }
  }
  finish(exit: FfmpegExit): void {
    this.running = false;
    this.exit(exit);
  }
}

class FakeEngine implements TranscodeEngine {
  readonly runs: FakeRun[] = [];
  source: SourceInfo | Error = { width: 640, height: 360, hasVideo: true, hasAudio: true, frameRate: 25 };
  probe(): Promise<SourceInfo> {
    return this.source instanceof Error ? Promise.reject(this.source) : Promise.resolve(this.source);
  }
  /** Writes to runs started from now on wait for it. */
  gate?: Promise<void>;
  start(options: TranscodeRunOptions): TranscodeRun {
    const run = new FakeRun(options);
    if (this.gate) run.gate = this.gate;
    this.runs.push(run);
    return run;
  }
}

class RecordingSink implements PipelineSink {
  readonly segments: OutgoingSegment[] = [];
  readonly statuses: StatusReport[] = [];
  readonly done: string[] = [];
  segment(segment: OutgoingSegment): Promise<boolean> {
    this.segments.push(segment);
    return Promise.resolve(true);
  }
  thumbnail(): Promise<void> {
    return Promise.resolve();
  }
  status(status: StatusReport): Promise<void> {
    this.statuses.push(status);
    return Promise.resolve();
  }
  chunkDone(_partition: number, offset: string): void {
    this.done.push(offset);
  }
}

let workDir: string;
beforeEach(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'pipeline-unit-'));
});
afterEach(async () => {
  await rm(workDir, { recursive: true, force: true });
});

function pipeline(
  engine: FakeEngine,
  sink: RecordingSink,
  last = new Map<string, number>(),
  maxRestarts = 1,
  extra: Partial<ConstructorParameters<typeof StreamPipeline>[0]> = {},
) {
  return new StreamPipeline({
    ...extra,
    streamId: 'cam',
    partition: 3,
    publishSessionId: 'pub-1',
    lastSequences: Promise.resolve(last),
    sink,
    logger: pino({ level: 'silent' }),
    engine,
    settings: {
      tools: { ffmpeg: 'ffmpeg', ffprobe: 'ffprobe' },
      workDir,
      preset: 'ultrafast',
      threads: 1,
      thumbnailIntervalSeconds: 0,
      maxRestarts,
      probeMaxBytes: 64 * 1024,
      probeInitialBytes: 1024,
      liveMaxTrailSegments: 3,
      shedRestoreMs: 20_000,
      shedPreset: 'superfast',
      backlogNice: 15,
      ...extra.settings,
    },
  });
}

/** A chunk's data: one TS packet starting a video PES with random_access_indicator set (a keyframe), then filler. */
const keyframeData = () => videoPesPacket(true, 1024);

const chunk = (offset: number) => ({ offset: String(offset), sequence: offset, data: Buffer.alloc(1024) });

/** A chunk of one TS packet starting a video PES at `seconds` (a keyframe: random_access_indicator set). */
function timedChunk(sequence: number, seconds: number, keyframe: boolean, ingestTimeMs: number) {
  return { offset: String(sequence), sequence, data: timedVideoPesPacket(seconds, keyframe), ingestTimeMs };
}

describe(StreamPipeline.name, () => {
  it('probes, reports live, feeds ffmpeg, numbers after the last sequence, and ends with the input', async () => {
    const engine = new FakeEngine();
    const sink = new RecordingSink();
    const subject = pipeline(engine, sink, new Map([['360p', 9]]));
    await subject.feed(chunk(0));
    await subject.feed(chunk(1));
    expect(sink.statuses.map((s) => s.state)).toEqual(['live']);
    expect(engine.runs).toHaveLength(1);
    expect(engine.runs[0].written).toHaveLength(2); // the probe buffer, then live input
    await engine.runs[0].segment();
    expect(sink.segments.map((s) => `${s.rendition}#${s.sequence}${s.discontinuity ? '!' : ''}`)).toEqual(['360p#10!']);
    expect(sink.done).toEqual(['0', '1']); // chunks without PTS are covered by the first durable segment
    await subject.endAfter(2, 'publisher ended');
    expect(engine.runs[0].inputEnded).toBe(false); // chunk 2 not fed yet
    await subject.feed(chunk(2));
    expect(engine.runs[0].inputEnded).toBe(true);
    engine.runs[0].finish({ code: 0, signal: null, stderrTail: '' });
    await subject.finished;
    expect(sink.statuses.map((s) => s.state)).toEqual(['live', 'ended']);
    expect(sink.done).toEqual(['0', '1', '2']);
    expect(subject.sequencesAfter()).toEqual(new Map([['360p', 10]]));
    expect(await readdir(workDir)).toEqual([]); // temp folder removed
  });

  it('restarts a crashed ffmpeg, re-feeds uncovered input, marks a discontinuity, then gives up after the budget', async () => {
    const engine = new FakeEngine();
    const sink = new RecordingSink();
    const subject = pipeline(engine, sink);
    await subject.feed(chunk(0));
    await engine.runs[0].segment();
    await subject.feed(chunk(1));
    engine.runs[0].finish({ code: 1, signal: null, stderrTail: 'boom' });
    const deadline = Date.now() + 5000;
    while (engine.runs.length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(engine.runs[1].written).toHaveLength(1); // chunk 1 again, chunk 0 was covered
    await engine.runs[1].segment();
    expect(sink.segments.map((s) => `${s.sequence}${s.discontinuity ? '!' : ''}:${s.transcodeSession}`)).toEqual(['0:run-1', '1!:run-2']);
    engine.runs[1].finish({ code: 1, signal: null, stderrTail: 'boom again' });
    await subject.finished;
    expect(sink.statuses.at(-1)).toMatchObject({ state: 'error', reason: expect.stringMatching(/after 1 restarts: ffmpeg exited with code 1: boom again/) });
  });

  it('marks input ffprobe cannot read as error and releases its chunks', async () => {
    const engine = new FakeEngine();
    engine.source = new Error('no video stream found');
    const sink = new RecordingSink();
    const subject = pipeline(engine, sink);
    for (let offset = 0; offset < 3; offset += 1) await subject.feed(chunk(offset));
    await subject.endAfter(undefined, 'publisher ended');
    await subject.finished;
    expect(sink.statuses).toEqual([expect.objectContaining({ state: 'error', reason: expect.stringMatching(/not decodable video/) })]);
    expect(sink.done).toEqual(['0', '1', '2']);
    expect(engine.runs).toHaveLength(0);
  });

  it('finishes and releases its input when stream.status cannot be written (Kafka refusing)', async () => {
    const engine = new FakeEngine();
    const sink = new RecordingSink();
    sink.status = (status) => {
      sink.statuses.push(status);
      return Promise.reject(new Error('broker gone'));
    };
    const subject = pipeline(engine, sink);
    await subject.feed(chunk(0));
    await engine.runs[0].segment();
    await subject.endAfter(1, 'publisher ended');
    await subject.feed(chunk(1));
    engine.runs[0].finish({ code: 0, signal: null, stderrTail: '' });
    await subject.finished;
    expect(sink.statuses.map((s) => s.state)).toEqual(['live', 'ended']);
    expect(sink.done).toEqual(['0', '1']);
  });

  it('stops without output or status when abandoned', async () => {
    const engine = new FakeEngine();
    const sink = new RecordingSink();
    const subject = pipeline(engine, sink);
    await subject.feed(chunk(0));
    await subject.abandon();
    await engine.runs[0].segment();
    expect(sink.segments).toEqual([]);
    expect(sink.statuses.map((s) => s.state)).toEqual(['live']);
    expect(subject.currentState).toBe('abandoned');
  });

  it('sheds work in order when a live stream trails its bound (fake clock): top rendition, faster preset, and no skip by restart while its running ffmpeg holds all input', async () => {
    const engine = new FakeEngine();
    engine.source = { width: 1280, height: 720, hasVideo: true, hasAudio: true, frameRate: 30 };
    const sink = new RecordingSink();
    const subject = pipeline(engine, sink);
    const t0 = Date.now();
    let t = t0;
    /** One check per second of fake time until ffmpeg was (re)started `runs` times. */
    const tickUntilRuns = async (runs: number) => {
      for (let i = 0; i < 60 && engine.runs.length < runs; i += 1) {
        t += 1_000;
        subject.checkLatency(t);
        await new Promise((resolve) => setImmediate(resolve));
      }
      await until(() => engine.runs.length === runs);
    };
    await subject.feed({ ...chunk(0), ingestTimeMs: t0 });
    const full = engine.runs[0].options.renditions.map((r) => r.name);
    expect(full.length).toBeGreaterThan(1);
    // Before its first segment, a run's start-up is not judged.
    for (let i = 1; i <= 20; i += 1) subject.checkLatency(t0 + i * 1_000);
    expect(engine.runs).toHaveLength(1);
    await engine.runs[0].segment();
    await subject.feed({ ...chunk(1), ingestTimeMs: t0 + 20_000 });
    t = t0 + 20_000;
    for (let i = 0; i < 6; i += 1) subject.checkLatency((t += 1_000)); // 1–6 s behind: within 3 × 2 s
    expect(engine.runs).toHaveLength(1);

    await tickUntilRuns(2);
    expect(engine.runs[1].options.renditions.map((r) => r.name)).toEqual(full.slice(1));
    expect(engine.runs[1].written).toHaveLength(1); // chunk 1 re-fed (not yet covered)
    await until(() => sink.statuses.length === 2);
    expect(sink.statuses[1]).toMatchObject({
      state: 'live',
      renditions: full.slice(1).map((name): unknown => expect.objectContaining({ name })),
      detail: { mode: 'live', action: 'drop_rendition', shed_level: 1, dropped_renditions: [full[0]] },
    });
    expect(sink.statuses[1].detail?.edge_delay_ms).toBeGreaterThan(6_000);
    expect(subject.shedLevel).toBe(1);

    // The new run is judged once it produces; new input waits behind it.
    await engine.runs[1].segment();
    await subject.feed({ ...chunk(2), ingestTimeMs: t });
    await tickUntilRuns(3);
    expect(engine.runs[2].options.preset).toBe('superfast');
    expect(subject.shedLevel).toBe(2);

    // Still behind, but every chunk was written to the running ffmpeg (nothing queued to skip in
    // place): restarting it at the keyframe would only add its start-up, so nothing is skipped.
    await engine.runs[2].segment();
    await subject.feed({ ...chunk(3), ingestTimeMs: t });
    await subject.feed({ offset: '4', sequence: 4, data: keyframeData(), ingestTimeMs: t });
    await subject.feed({ ...chunk(5), ingestTimeMs: t });
    const doneBefore = sink.done.length;
    for (let i = 0; i < 20; i += 1) {
      subject.checkLatency((t += 1_000));
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(engine.runs).toHaveLength(3);
    expect(sink.done.slice(doneBefore)).toEqual([]);
    expect(sink.statuses.some((status) => status.detail?.action === 'skip_to_live')).toBe(false);
  });

  it('skips queued input to the newest keyframe without restarting a running ffmpeg, and marks the jump in its output', async () => {
    const engine = new FakeEngine();
    const sink = new RecordingSink();
    const oneRung = { ladder: [{ name: '360p', width: 640, height: 360, video_bitrate_kbps: 800, audio_bitrate_kbps: 96 }], segment_duration_seconds: 2 };
    const subject = pipeline(engine, sink, new Map(), 1, {
      record: oneRung as unknown as StreamRecord,
      settings: { shedPreset: 'ultrafast' } as PipelineSettings, // no faster preset: skipping is the first step
    });
    const t0 = Date.now();
    await subject.feed(timedChunk(0, 0, true, t0));
    const run = engine.runs[0];
    await run.segment(2, '2026-12-02T10:00:00.000Z');
    // ffmpeg reads slower than input arrives: chunks 2–5 wait in the queue behind chunk 1.
    let release!: () => void;
    run.gate = new Promise((resolve) => (release = resolve));
    const fed = [1, 2, 3, 4, 5, 6, 7].map((sequence) => subject.feed(timedChunk(sequence, sequence, sequence === 6, t0)));
    for (let t = 1_000; t <= 20_000 && !sink.statuses.some((status) => status.detail?.action === 'skip_to_live'); t += 1_000) {
      subject.checkLatency(t0 + t);
      if (t === 15_000) release();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(fed);
    await until(() => sink.statuses.at(-1)?.detail?.action === 'skip_to_live');
    expect(engine.runs).toHaveLength(1); // no restart
    expect(run.written).toHaveLength(4); // chunks 0, 1, 6, 7
    expect(sink.done).toEqual(expect.arrayContaining(['2', '3', '4', '5']));
    expect(sink.statuses.at(-1)?.detail).toMatchObject({ mode: 'live', action: 'skip_to_live', skipped_chunks: 4 });
    // ffmpeg closes the 5 s gap: its next segment's program time runs on as if nothing was skipped.
    await run.segment(2, '2026-12-02T10:00:02.000Z');
    expect(sink.segments.at(-1)).toMatchObject({ discontinuity: true, programTime: '2026-12-02T10:00:07.000Z', transcodeSession: 'run-1' });
    await run.segment(2, '2026-12-02T10:00:04.000Z');
    expect(sink.segments.at(-1)).toMatchObject({ discontinuity: false, programTime: '2026-12-02T10:00:09.000Z' });
  });

  it('a skip to the newest keyframe also drops what a restarted ffmpeg was still being re-fed', async () => {
    const engine = new FakeEngine();
    const sink = new RecordingSink();
    const oneRung = { ladder: [{ name: '360p', width: 640, height: 360, video_bitrate_kbps: 800, audio_bitrate_kbps: 96 }], segment_duration_seconds: 2 };
    const subject = pipeline(engine, sink, new Map(), 1, { record: oneRung as unknown as StreamRecord });
    const t0 = Date.now();
    let t = t0;
    await subject.feed(timedChunk(0, 0, true, t0));
    await engine.runs[0].segment(2);
    for (const sequence of [1, 2, 3]) await subject.feed(timedChunk(sequence, sequence, false, t0));
    // The faster preset restarts ffmpeg, which is re-fed chunks 1–3 as slowly as it reads.
    let release!: () => void;
    engine.gate = new Promise((resolve) => (release = resolve));
    for (let i = 0; i < 30 && engine.runs.length < 2; i += 1) {
      subject.checkLatency((t += 1_000));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await until(() => engine.runs.length === 2 && engine.runs[1].written.length === 1);
    await engine.runs[1].segment(2);
    const fed = [4, 5, 6].map((sequence) => subject.feed(timedChunk(sequence, sequence, sequence === 5, t0)));
    for (let i = 0; i < 30 && !sink.done.includes('2'); i += 1) {
      subject.checkLatency((t += 1_000));
      if (i === 20) release();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(fed);
    expect(engine.runs).toHaveLength(2); // skipped in place
    expect(sink.done).toEqual(expect.arrayContaining(['2', '3', '4']));
    expect(engine.runs[1].written).toHaveLength(3); // chunk 1 (being written), then 5 and 6
    await until(() => sink.statuses.at(-1)?.detail?.action === 'skip_to_live');
  });

  it('ends (not error) when the input re-fed after a shed restart holds no keyframe and ffmpeg made nothing of it before the end; fails as before when it had one', async () => {
    for (const keyframe of [false, true]) {
      const engine = new FakeEngine();
      engine.source = { width: 1280, height: 720, hasVideo: true, hasAudio: true, frameRate: 30 };
      const sink = new RecordingSink();
      const subject = pipeline(engine, sink, new Map(), 1);
      const t0 = Date.now();
      await subject.feed({ ...chunk(0), ingestTimeMs: t0 });
      await engine.runs[0].segment();
      await subject.feed({ offset: '1', sequence: 1, data: keyframe ? keyframeData() : Buffer.alloc(1024), ingestTimeMs: t0 });
      for (let t = 7_000; t <= 13_000 && engine.runs[0].running; t += 1_000) subject.checkLatency(t0 + t);
      await until(() => engine.runs.length === 2 && engine.runs[1].written.length === 1); // chunk 1 re-fed
      await subject.endAfter(1, 'publisher ended');
      expect(engine.runs[1].inputEnded).toBe(true);
      // ffmpeg could decode nothing of a GOP's tail ('Cannot determine format … after EOF').
      engine.runs[1].finish({ code: 1, signal: null, stderrTail: 'Cannot determine format of input stream 0:0 after EOF' });
      if (keyframe) {
        await until(() => engine.runs.length === 3 && engine.runs[2].inputEnded);
        engine.runs[2].finish({ code: 1, signal: null, stderrTail: 'Conversion failed!' });
      }
      await subject.finished;
      expect(engine.runs).toHaveLength(keyframe ? 3 : 2);
      expect(sink.statuses.at(-1)?.state).toBe(keyframe ? 'error' : 'ended');
      expect(new Set(sink.done).size).toBe(2);
    }
  }, 15_000);

  it('restores shed work in reverse order once the edge delay stays under half the bound', async () => {
    const engine = new FakeEngine();
    engine.source = { width: 1280, height: 720, hasVideo: true, hasAudio: true, frameRate: 30 };
    const sink = new RecordingSink();
    const subject = pipeline(engine, sink);
    const t0 = Date.now();
    await subject.feed({ ...chunk(0), ingestTimeMs: t0 });
    await engine.runs[0].segment();
    await subject.feed({ ...chunk(1), ingestTimeMs: t0 });
    for (let t = 7_000; t <= 13_000; t += 1_000) subject.checkLatency(t0 + t);
    await until(() => engine.runs.length === 2);
    await engine.runs[1].segment(); // chunk 1 covered: nothing pending, delay 0
    for (let t = 14_000; t <= 40_000; t += 1_000) subject.checkLatency(t0 + t);
    await until(() => engine.runs.length === 3);
    expect(engine.runs[2].options.renditions).toHaveLength(engine.runs[0].options.renditions.length);
    await until(() => sink.statuses.at(-1)?.detail?.action === 'restore_rendition');
    expect(subject.shedLevel).toBe(0);
  });

  it('runs a backlog session only with a turn, at low priority, and reports ended (not live) with its mode', async () => {
    const engine = new FakeEngine();
    const sink = new RecordingSink();
    let grant!: (ok: boolean) => void;
    const gate = { turn: () => new Promise<boolean>((resolve) => (grant = resolve)), permit: () => Promise.resolve(), end: jest.fn() };
    const subject = pipeline(engine, sink, new Map(), 1, { mode: 'backlog', backlog: gate });
    const fed = subject.feed(chunk(0));
    await until(() => grant !== undefined);
    expect(engine.runs).toHaveLength(0);
    grant(true);
    await fed;
    expect(engine.runs[0].options.niceness).toBe(15);
    await subject.endAfter(undefined, 'input idle');
    engine.runs[0].finish({ code: 0, signal: null, stderrTail: '' });
    await subject.finished;
    expect(sink.statuses).toEqual([expect.objectContaining({ state: 'ended', detail: { mode: 'backlog' } })]);
    expect(gate.end).toHaveBeenCalled();
  });

  it('a cut waits for the publications under way before it finishes, and publishes nothing after', async () => {
    const engine = new FakeEngine();
    const sink = new RecordingSink();
    let release!: () => void;
    const held = new Promise<boolean>((resolve) => (release = () => resolve(true)));
    sink.segment = (segment) => {
      sink.segments.push(segment);
      return held; // Kafka slow to acknowledge
    };
    const gate = { turn: () => Promise.resolve(true), permit: () => Promise.resolve(), end: jest.fn() };
    const subject = pipeline(engine, sink, new Map([['360p', 5]]), 1, { mode: 'backlog', backlog: gate });
    await subject.feed(chunk(0));
    await until(() => engine.runs.length === 1);
    const run = engine.runs[0];
    const publishing = run.segment();
    await until(() => sink.segments.length === 1);
    let finished = false;
    void subject.finished.then(() => (finished = true));
    const cut = subject.cut('a newer publish session of the stream started');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(finished).toBe(false); // the next session must not take its numbers yet
    release();
    await publishing;
    await cut;
    await subject.finished;
    expect(sink.segments.map((segment) => segment.sequence)).toEqual([6]);
    expect(subject.sequencesAfter().get('360p')).toBe(6);
    await run.segment(); // ffmpeg output after the cut: part of the recorded gap
    expect(sink.segments).toHaveLength(1);
  });

  it('turns a live session whose publisher left while it trailed into backlog: reniced, its further input waits for a turn', async () => {
    const engine = new FakeEngine();
    const sink = new RecordingSink();
    let grant: ((ok: boolean) => void) | undefined;
    const gate = { turn: () => new Promise<boolean>((resolve) => (grant = resolve)), permit: () => Promise.resolve(), end: jest.fn() };
    const subject = pipeline(engine, sink, new Map(), 1, { backlog: gate });
    await subject.feed(chunk(0));
    expect(subject.transcodeMode).toBe('live');
    subject.toBacklog();
    expect(subject.transcodeMode).toBe('backlog');
    expect(engine.runs[0].niceness).toBe(15);
    const fed = subject.feed(chunk(1));
    await until(() => grant !== undefined);
    expect(engine.runs[0].written).toHaveLength(1); // chunk 1 waits for the turn
    grant!(true);
    await fed;
    expect(engine.runs[0].written).toHaveLength(2);
  });
});
