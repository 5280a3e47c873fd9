import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FfmpegExit, SourceInfo } from '@tributary/media';
import pino from 'pino';
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
  write(data: Buffer): Promise<boolean> {
    this.written.push(data);
    return Promise.resolve(true);
  }
  endInput(): void {
    this.inputEnded = true;
  }
  kill(): void {
    this.finish({ code: null, signal: 'SIGKILL', stderrTail: '' });
  }
  finishOutput(): Promise<void> {
    return Promise.resolve();
  }
  stopOutput(): Promise<void> {
    return Promise.resolve();
  }
  /** ffmpeg finished a segment of every rendition. */
  async segment(durationSeconds = 2): Promise<void> {
    for (const rendition of this.options.renditions) {
      await this.options.onSegment({ rendition: rendition.name, sequence: 0, durationSeconds, data: Buffer.from('ts') });
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
  start(options: TranscodeRunOptions): TranscodeRun {
    const run = new FakeRun(options);
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

function pipeline(engine: FakeEngine, sink: RecordingSink, last = new Map<string, number>(), maxRestarts = 1) {
  return new StreamPipeline({
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
    },
  });
}

const chunk = (offset: number) => ({ offset: String(offset), sequence: offset, data: Buffer.alloc(1024) });

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
});
