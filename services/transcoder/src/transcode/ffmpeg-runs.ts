import type { TranscodeEngine, TranscodeRun, TranscodeRunOptions } from './transcode-engine';
import type { StreamWorkDir } from './work-dir';

/** What a run is started with (its id and folder come from FfmpegRuns). */
export type RunSettings = Omit<TranscodeRunOptions, 'id' | 'dir'>;

/**
 * The ffmpeg runs of one stream, one at a time: each (re)start gets the next id and a folder of
 * its own (StreamWorkDir); input goes to the current run until its input is closed. A run that is
 * replaced or stopped is killed at once (so a write blocked on it returns) and detached, so
 * nothing it does later counts as the stream's current run.
 */
export class FfmpegRuns {
  private run?: TranscodeRun;
  private inputClosed = false;
  private count = 0;

  constructor(
    private readonly engine: TranscodeEngine,
    private readonly workDir: StreamWorkDir,
  ) {}

  /** Runs started so far. */
  get started(): number {
    return this.count;
  }

  get current(): TranscodeRun | undefined {
    return this.run;
  }

  /** The run that takes input now (none once its input was closed). */
  get input(): TranscodeRun | undefined {
    return this.inputClosed ? undefined : this.run;
  }

  async start(settings: RunSettings): Promise<TranscodeRun> {
    const id = ++this.count;
    const dir = await this.workDir.runDir(
      id,
      settings.renditions.map((rendition) => rendition.name),
    );
    this.inputClosed = false;
    this.run = this.engine.start({ ...settings, id, dir });
    return this.run;
  }

  /** The input is complete: ffmpeg flushes what it has and exits. */
  endInput(): void {
    if (!this.run) return;
    this.inputClosed = true;
    this.run.endInput();
  }

  /** Kills and detaches the current run; returns it (its output is still to be stopped). */
  kill(): TranscodeRun | undefined {
    const run = this.run;
    this.run = undefined;
    run?.kill();
    return run;
  }

  /** Kills and detaches the current run and stops watching its output. */
  async stop(): Promise<void> {
    await this.kill()?.stopOutput();
  }

  /** Removes the stream's folder with every run's files. */
  removeFiles(): Promise<void> {
    return this.workDir.remove();
  }
}
