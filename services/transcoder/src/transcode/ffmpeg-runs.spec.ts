import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FfmpegExit, SourceInfo } from '@tributary/media';
import { FfmpegRuns, type RunSettings } from './ffmpeg-runs';
import type { TranscodeEngine, TranscodeRun, TranscodeRunOptions } from './transcode-engine';
import { StreamWorkDir } from './work-dir';

/** A run that records what was done to it (no ffmpeg). */
function fakeRun(options: TranscodeRunOptions) {
  const calls: string[] = [];
  const run: TranscodeRun & { calls: string[]; dir: string } = {
    id: options.id,
    session: `run-${options.id}`,
    pid: 1000 + options.id,
    running: true,
    exited: new Promise<FfmpegExit>(() => undefined),
    calls,
    dir: options.dir,
    write: () => Promise.resolve(calls.push('write')),
    endInput: () => void calls.push('endInput'),
    kill: () => void calls.push('kill'),
    renice: () => void calls.push('renice'),
    finishOutput: () => Promise.resolve(),
    stopOutput: () => Promise.resolve(void calls.push('stopOutput')),
  };
  return run;
}

class RecordingEngine implements TranscodeEngine {
  readonly runs: ReturnType<typeof fakeRun>[] = [];
  probe(): Promise<SourceInfo> {
    return Promise.reject(new Error('not used'));
  }
  start(options: TranscodeRunOptions): TranscodeRun {
    const run = fakeRun(options);
    this.runs.push(run);
    return run;
  }
}

const settings: RunSettings = {
  renditions: [{ name: '360p', width: 640, height: 360, video_bitrate_kbps: 800, audio_bitrate_kbps: 96, bandwidth_bps: 1_000_000, codecs: 'avc1.64001e' }],
  segmentDurationSeconds: 2,
  hasAudio: false,
  preset: 'veryfast',
  threads: 1,
  thumbnailIntervalSeconds: 0,
  onSegment: () => Promise.resolve(),
  onThumbnail: () => undefined,
  onOutputError: () => undefined,
};

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'ffmpeg-runs-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe(FfmpegRuns.name, () => {
  it('starts each run with the next id in a folder of its own with one folder per rendition', async () => {
    const engine = new RecordingEngine();
    const runs = new FfmpegRuns(engine, new StreamWorkDir(root, 'cam'));
    const first = await runs.start(settings);
    const second = await runs.start(settings);
    expect([first.id, second.id, runs.started]).toEqual([1, 2, 2]);
    expect(engine.runs[0].dir).not.toBe(engine.runs[1].dir);
    expect(await readdir(engine.runs[1].dir)).toEqual(['360p']);
    expect(runs.current).toBe(second);
  });

  it('takes input until it is closed, and again in the next run', async () => {
    const runs = new FfmpegRuns(new RecordingEngine(), new StreamWorkDir(root, 'cam'));
    expect(runs.input).toBeUndefined();
    const run = await runs.start(settings);
    expect(runs.input).toBe(run);
    runs.endInput();
    expect(runs.input).toBeUndefined();
    expect(runs.current).toBe(run);
    const next = await runs.start(settings);
    expect(runs.input).toBe(next);
  });

  it('kills and detaches the current run; stop also stops watching its output', async () => {
    const engine = new RecordingEngine();
    const runs = new FfmpegRuns(engine, new StreamWorkDir(root, 'cam'));
    await runs.start(settings);
    expect(runs.kill()).toBe(engine.runs[0]);
    expect(runs.current).toBeUndefined();
    expect(engine.runs[0].calls).toEqual(['kill']);
    await runs.start(settings);
    await runs.stop();
    expect(engine.runs[1].calls).toEqual(['kill', 'stopOutput']);
    await runs.stop(); // nothing running: nothing to do
  });

  it('removes every run folder of the stream', async () => {
    const engine = new RecordingEngine();
    const runs = new FfmpegRuns(engine, new StreamWorkDir(root, 'cam'));
    await runs.start(settings);
    await runs.removeFiles();
    await expect(stat(engine.runs[0].dir)).rejects.toThrow();
    expect(await readdir(root)).toEqual([]);
  });
});
