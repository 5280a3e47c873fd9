import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { setPriority } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { type FfmpegExit, FIRST_RENDITION_FD, JpegSplitter } from '@tributary/media';
import { Fmp4FragmentReader, type Fmp4Output } from './fmp4-fragments';

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

const NICE = ['/usr/bin/nice', '/bin/nice'].find((path) => existsSync(path));

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
  readonly exited: Promise<FfmpegExit>;
  /** Resolves once every rendition's output up to ffmpeg's exit has been handed over. */
  readonly drained: Promise<void>;
  private readonly child: ChildProcess;
  private stderrTail = '';
  private stdinClosed = false;
  private stopped = false;

  constructor(private readonly options: LowLatencyRunOptions) {
    this.id = options.id;
    const now = options.now ?? (() => performance.now());
    const stdio: ('pipe' | 'ignore')[] = ['pipe', options.onThumbnail ? 'pipe' : 'ignore', 'pipe'];
    for (let i = 0; i < options.renditions.length; i += 1) stdio.push('pipe');
    this.child =
      options.niceness && NICE
        ? spawn(NICE, ['-n', String(options.niceness), options.ffmpegPath, ...options.args], { stdio })
        : spawn(options.ffmpegPath, options.args as string[], { stdio });
    const tailBytes = options.stderrTailBytes ?? 8192;
    this.child.stderr?.on('data', (data: Buffer) => {
      this.stderrTail = (this.stderrTail + data.toString('utf8')).slice(-tailBytes);
    });
    if (options.onThumbnail) {
      const splitter = new JpegSplitter();
      this.child.stdout?.on('data', (data: Buffer) => {
        for (const image of splitter.push(data)) options.onThumbnail?.(image);
      });
    }
    this.stdin.on('error', () => {
      this.stdinClosed = true;
    });
    this.drained = Promise.all(
      options.renditions.map((rendition, i) => this.readRendition(rendition, this.child.stdio[FIRST_RENDITION_FD + i] as Readable, now)),
    ).then(() => undefined);
    this.exited = new Promise((resolve) => {
      this.child.once('error', (error) => {
        this.stderrTail += `\nspawn failed: ${error.message}`;
      });
      this.child.once('close', (code, signal) => resolve({ code, signal, stderrTail: this.stderrTail }));
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  private get stdin(): Writable {
    return this.child.stdin!;
  }

  /** Writes input; resolves once accepted (after 'drain' when the pipe is full), false if ffmpeg is gone. */
  async write(data: Buffer): Promise<boolean> {
    if (this.stdinClosed || !this.running) return false;
    if (this.stdin.write(data)) return true;
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        this.stdin.off('drain', onDrain);
        this.child.off('close', onClose);
        resolve(ok);
      };
      const onDrain = () => done(true);
      const onClose = () => done(false);
      this.stdin.once('drain', onDrain);
      this.child.once('close', onClose);
    });
  }

  /** Closes stdin: ffmpeg writes its last parts and exits. */
  endInput(): void {
    if (this.stdinClosed) return;
    this.stdinClosed = true;
    this.stdin.end();
  }

  /** Lowers the running ffmpeg's CPU priority (every thread: Linux keeps a nice value per thread). */
  renice(niceness: number): void {
    const pid = this.child.pid;
    if (pid === undefined || !this.running) return;
    let threads: number[] = [pid];
    try {
      threads = readdirSync(`/proc/${pid}/task`).map(Number);
    } catch {
      // No /proc: the process only.
    }
    for (const thread of threads) {
      try {
        setPriority(thread, niceness);
      } catch {
        // The thread ended meanwhile.
      }
    }
  }

  /** Kills ffmpeg; nothing more is handed over. */
  kill(): void {
    this.stopped = true;
    if (this.running) this.child.kill('SIGKILL');
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
