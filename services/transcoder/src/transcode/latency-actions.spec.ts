import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TranscodeDetail } from '@tributary/contracts';
import type { FfmpegExit, SourceInfo } from '@tributary/media';
import pino from 'pino';
import { ChunkCoverage } from './chunk-coverage';
import { FfmpegRuns } from './ffmpeg-runs';
import { InputEnd } from './input-end';
import { InputSkip } from './input-skip';
import { LatencyActions } from './latency-actions';
import { LatencyControl } from './latency-control';
import { SegmentPublisher } from './segment-publisher';
import { SerialQueue } from './serial-queue';
import type { TranscodeEngine, TranscodeRun, TranscodeRunOptions } from './transcode-engine';
import { StreamWorkDir } from './work-dir';
import { videoPesPacket } from '../testing/ts-packets';

/** A run that records what was done to it (no ffmpeg). */
function fakeRun(options: TranscodeRunOptions) {
  const run: TranscodeRun & { killed: boolean } = {
    id: options.id,
    session: `run-${options.id}`,
    pid: 1000 + options.id,
    killed: false,
    get running() {
      return !run.killed;
    },
    exited: new Promise<FfmpegExit>(() => undefined),
    write: () => Promise.resolve(true),
    endInput: () => undefined,
    kill: () => void (run.killed = true),
    renice: () => undefined,
    finishOutput: () => Promise.resolve(),
    stopOutput: () => Promise.resolve(),
  };
  return run;
}

const keyframe = () => videoPesPacket();

let workDir: string;
beforeEach(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'latency-actions-'));
});
afterEach(async () => {
  await rm(workDir, { recursive: true, force: true });
});

/** LatencyActions on real parts (queue, runs with a fake engine, skips, coverage, publisher) and a recording host. */
async function setUp() {
  const runs: ReturnType<typeof fakeRun>[] = [];
  const engine: TranscodeEngine = {
    probe: () => Promise.resolve({} as SourceInfo),
    start: (options) => {
      const run = fakeRun(options);
      runs.push(run);
      return run;
    },
  };
  const logger = pino({ level: 'silent' });
  const coverage = new ChunkCoverage();
  const parts = {
    queue: new SerialQueue(),
    runs: new FfmpegRuns(engine, new StreamWorkDir(workDir, 'cam')),
    skips: new InputSkip(),
    input: new InputEnd(),
    coverage,
    output: new SegmentPublisher({
      streamId: 'cam',
      publishSessionId: 'pub-1',
      partition: 0,
      sink: { segment: () => Promise.resolve(true), thumbnail: () => Promise.resolve(), status: () => Promise.resolve(), chunkDone: () => undefined },
      coverage,
      logger,
    }),
    latency: new LatencyControl({ settings: { preset: 'ultrafast' }, logger }),
    logger,
  };
  await parts.output.startNumbering(['360p'], Promise.resolve(new Map([['360p', 3]])));
  const done: string[] = [];
  const reports: TranscodeDetail[] = [];
  const host = {
    running: true,
    isRunning: () => host.running,
    nextRun: async () => {
      const run = await parts.runs.start({
        renditions: [],
        segmentDurationSeconds: 2,
        hasAudio: false,
        preset: 'ultrafast',
        threads: 1,
        thumbnailIntervalSeconds: 0,
        onSegment: () => Promise.resolve(),
        onThumbnail: () => undefined,
        onOutputError: () => undefined,
      });
      coverage.startRun(run.id);
    },
    done: (offset: string) => void done.push(offset),
    reportLive: (detail: TranscodeDetail) => Promise.resolve(void reports.push(detail)),
  };
  await host.nextRun();
  const actions = new LatencyActions(parts, host);
  /** What the pipeline's feed does with an arriving chunk: seen now; in the queue skipped, or fed and written. */
  const feed = (sequence: number, data: Buffer = Buffer.alloc(188)) => {
    parts.skips.seen(sequence, data);
    return parts.queue.run(() => {
      if (parts.skips.skips(sequence)) return Promise.resolve(host.done(String(sequence)));
      parts.input.fed(sequence);
      parts.coverage.written(parts.coverage.add({ offset: String(sequence), sequence, data }), undefined);
      return Promise.resolve();
    });
  };
  return { parts, runs, host, done, reports, actions, feed };
}

const decision = (action: 'drop_rendition' | 'skip_to_live') => ({ action, detail: { mode: 'live' as const, action } });

describe(LatencyActions.name, () => {
  it('restarts ffmpeg for a ladder or preset change: the old run is killed, the next one follows a DISCONTINUITY, then it is reported', async () => {
    const { runs, actions, parts, reports } = await setUp();
    actions.shed(decision('drop_rendition'));
    expect(runs[0].killed).toBe(true);
    await parts.queue.run(() => Promise.resolve());
    expect(runs).toHaveLength(2);
    expect(parts.output.numbering.peek('360p')).toEqual({ sequence: 4, discontinuity: true });
    expect(reports).toEqual([{ mode: 'live', action: 'drop_rendition', skipped_chunks: 0 }]);
  });

  it('skips the queued input before the newest keyframe without restarting the running ffmpeg', async () => {
    const { runs, actions, parts, reports, done, feed } = await setUp();
    let release!: () => void;
    // ffmpeg is slow: a write holds the queue while chunks 1–5 arrive (4 is a keyframe).
    const write = new Promise<void>((resolve) => (release = resolve));
    void parts.queue.run(() => write);
    const fed = [1, 2, 3, 4, 5].map((sequence) => feed(sequence, sequence === 4 ? keyframe() : undefined));
    actions.shed(decision('skip_to_live'));
    release();
    await Promise.all(fed);
    await parts.queue.run(() => Promise.resolve());
    expect(runs).toHaveLength(1);
    expect(runs[0].killed).toBe(false);
    expect(done).toEqual(['1', '2', '3']);
    expect(parts.coverage.chunks.map((chunk) => chunk.sequence)).toEqual([4, 5]);
    expect(reports).toEqual([{ mode: 'live', action: 'skip_to_live', skipped_chunks: 3 }]);
  });

  it('restarts from the keyframe when it was already fed (nothing queued to drop), releasing the uncovered input before it', async () => {
    const { runs, actions, parts, reports, done, feed } = await setUp();
    await Promise.all([1, 2, 3].map((sequence) => feed(sequence, sequence === 3 ? keyframe() : undefined)));
    actions.shed(decision('skip_to_live'));
    await parts.queue.run(() => Promise.resolve());
    expect(runs).toHaveLength(2);
    expect(done).toEqual(['1', '2']);
    expect(reports).toEqual([{ mode: 'live', action: 'skip_to_live', skipped_chunks: 2 }]);
  });

  it('does nothing once the pipeline is no longer running', async () => {
    const { runs, actions, host, parts, reports } = await setUp();
    host.running = false;
    actions.shed(decision('drop_rendition'));
    actions.shed(decision('skip_to_live'));
    await parts.queue.run(() => Promise.resolve());
    expect(runs).toHaveLength(1);
    expect(reports).toEqual([]);
  });
});
