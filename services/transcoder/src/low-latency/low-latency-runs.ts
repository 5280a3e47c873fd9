import type { ActionRuns } from '../transcode/latency-actions';
import { LowLatencyRun, type LowLatencyRunOptions } from './low-latency-run';

/**
 * The low-latency ffmpeg runs of one stream, one at a time (what FfmpegRuns is for a standard
 * stream): each (re)start gets the next id. A run that is replaced is killed at once (so a write
 * blocked on it returns) and detached, so nothing it does later counts as the stream's current
 * run; its output is stopped once what it had handed over was handled (`drained`).
 */
export class LowLatencyRuns implements ActionRuns {
  private run?: LowLatencyRun;
  private count = 0;

  constructor(private readonly create: (options: LowLatencyRunOptions) => LowLatencyRun = (options) => new LowLatencyRun(options)) {}

  /** Runs started so far. */
  get started(): number {
    return this.count;
  }

  get current(): LowLatencyRun | undefined {
    return this.run;
  }

  /** The run that takes input now (the current one: its input closes only when the stream ends). */
  get input(): LowLatencyRun | undefined {
    return this.run;
  }

  start(options: Omit<LowLatencyRunOptions, 'id'>): LowLatencyRun {
    this.run = this.create({ ...options, id: ++this.count });
    return this.run;
  }

  /** Kills and detaches the current run; returns it (its output is still to be stopped). */
  kill(): { stopOutput(): Promise<void> } | undefined {
    const run = this.run;
    this.run = undefined;
    if (!run) return undefined;
    run.kill();
    return { stopOutput: () => run.drained };
  }

  /** Kills and detaches the current run and waits until its output was handled. */
  async stop(): Promise<void> {
    await this.kill()?.stopOutput();
  }
}
