import type { TranscodeDetail } from '@tributary/contracts';
import type { FfmpegExit } from '@tributary/media';
import type { ChunkCoverage } from './chunk-coverage';
import type { ActionOutput, ActionRuns } from './latency-actions';

/** A pipeline's ffmpeg runs as its lifecycle needs them (FfmpegRuns; LowLatencyRuns). */
export interface LifecycleRuns extends ActionRuns {
  /** Runs started so far. */
  readonly started: number;
  readonly current: { readonly pid: number | undefined; readonly running: boolean } | undefined;
}

/** What a kind of pipeline hands its lifecycle: its runs, its output and the words of its log lines. */
export interface LifecycleParts<Runs extends LifecycleRuns> {
  runs: Runs;
  output: ActionOutput;
  /** Which input offsets durable output covers, when the output needs it too (SegmentPublisher); default a new one. */
  coverage?: ChunkCoverage;
  /** The last media sequence per rendition (SequenceNumbering). */
  sequences: { lastSequences(): Map<string, number> };
  /** What every `ended` report carries besides the mode (low-latency: its latency_mode). */
  ended?: Omit<TranscodeDetail, 'mode'>;
  /** Log messages: the input ended while ffmpeg runs; ffmpeg crashed and restarts; the stream was transcoded to its end. */
  messages: { flushing: string; restarting: string; transcoded: string };
}

/** Why ffmpeg exited, with the last lines of its stderr (for logs and the `error` report). */
export function exitReason(exit: Pick<FfmpegExit, 'code' | 'signal' | 'stderrTail'>): string {
  return `ffmpeg exited with ${exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`}: ${exit.stderrTail.trim().split('\n').slice(-4).join(' | ').slice(-1500)}`;
}
