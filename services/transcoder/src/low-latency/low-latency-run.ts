import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { type FfmpegExit, FfmpegProcess, FIRST_RENDITION_FD, JpegSplitter } from '@tributary/media';
import { Fmp4FragmentReader, type Fmp4Output } from './fmp4-fragments';
import { PartClock } from './part-clock';

/** One piece of a rendition's output, with when its last byte came out of ffmpeg. */
export type RenditionOutput = Fmp4Output & { rendition: string; writtenAt: number };

export interface LowLatencyRunOptions {
  id: number;
  ffmpegPath: string;
  args: readonly string[];
  /** nice(1) value (backlog work); absent = normal priority. */
  niceness?: number;
  /** Rendition names in pipe order (`pipe:3`, `pipe:4`, …). */
  renditions: readonly string[];
  /** Each init segment and part, in order per rendition; awaited (a slow handler pauses that pipe). */
  onOutput: (output: RenditionOutput) => Promise<void>;
  onThumbnail?: (jpeg: Buffer) => void;
  /** A rendition's output could not be read (not fMP4, a box too large): the run is killed. */
  onOutputError: (rendition: string, error: Error) => void;
  /** Clock for `writtenAt` (ms; performance.now by default). */
  now?: () => number;
  stderrTailBytes?: number;
}

/** Output items waiting for the handler before a rendition's pipe is paused. */
const MAX_QUEUED = 16;

/**
 * One low-latency ffmpeg process: MPEG-TS in on stdin, one fragmented MP4 per rendition out on
 * its own pipe (fd 3, 4, …), JPEG thumbnails on stdout. Every pipe is read continuously; its bytes
 * go through an Fmp4FragmentReader and each init segment / part is handed over in order as soon as
 * its last byte arrived. A rendition whose handler falls behind has its pipe paused (ffmpeg then
 * blocks on it: backpressure instead of unbounded memory).
 */
export class LowLatencyRun {
  readonly id: number;
  readonly session = randomUUID();
  /** Dates this run's parts by media time. */
  readonly clock = new PartClock();
  readonly exited: Promise<FfmpegExit>;
  /** Resolves once every rendition's output up to ffmpeg's exit has been handed over. */
  readonly drained: Promise<void>;
  private readonly process: FfmpegProcess;
  private stopped = false;

  constructor(private readonly options: LowLatencyRunOptions) {
    this.id = options.id;
    const now = options.now ?? (() => performance.now());
    const splitter = options.onThumbnail ? new JpegSplitter() : undefined;
    this.process = new FfmpegProcess({
      ffmpegPath: options.ffmpegPath,
      args: options.args,
      ...(options.niceness ? { niceness: options.niceness } : {}),
      ...(options.stderrTailBytes ? { stderrTailBytes: options.stderrTailBytes } : {}),
      ...(splitter ? { onStdout: (data: Buffer) => splitter.push(data).forEach((image) => options.onThumbnail?.(image)) } : {}),
      outputPipes: options.renditions.length,
    });
    this.drained = Promise.all(
      options.renditions.map((rendition, i) => this.readRendition(rendition, this.process.outputPipe(FIRST_RENDITION_FD + i), now)),
    ).then(() => undefined);
    this.exited = this.process.exited;
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  get running(): boolean {
    return this.process.running;
  }

  /** Writes input; resolves once accepted (after 'drain' when the pipe is full), false if ffmpeg is gone. */
  write(data: Buffer): Promise<boolean> {
    return this.process.write(data);
  }

  /** Closes stdin: ffmpeg writes its last parts and exits. */
  endInput(): void {
    this.process.endInput();
  }

  /** Lowers the running ffmpeg's CPU priority (every thread: Linux keeps a nice value per thread). */
  renice(niceness: number): void {
    this.process.renice(niceness);
  }

  /** Kills ffmpeg; nothing more is handed over. */
  kill(): void {
    this.stopped = true;
    this.process.kill('SIGKILL');
  }

  private readRendition(rendition: string, pipe: Readable, now: () => number): Promise<void> {
    const reader = new Fmp4FragmentReader();
    let queued = 0;
    let chain: Promise<void> = Promise.resolve();
    let failed = false;
    return new Promise((resolve) => {
      pipe.on('data', (chunk: Buffer) => {
        if (failed || this.stopped) return;
        const writtenAt = now();
        let outputs: Fmp4Output[];
        try {
          outputs = reader.push(chunk);
        } catch (error) {
          failed = true;
          this.options.onOutputError(rendition, error as Error);
          this.kill();
          return;
        }
        for (const output of outputs) {
          queued += 1;
          if (queued > MAX_QUEUED) pipe.pause();
          chain = chain
            .then(() => (this.stopped ? undefined : this.options.onOutput({ ...output, rendition, writtenAt })))
            .catch((error: unknown) => this.options.onOutputError(rendition, error as Error))
            .finally(() => {
              queued -= 1;
              if (queued <= MAX_QUEUED / 2 && pipe.isPaused()) pipe.resume();
            });
        }
      });
      pipe.once('close', () => void chain.then(resolve));
      pipe.once('error', () => void chain.then(resolve));
    });
  }
}
