import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { setPriority } from 'node:os';
import type { Readable } from 'node:stream';

export interface FfmpegExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last lines ffmpeg printed (for error reasons). */
  stderrTail: string;
}

export interface FfmpegProcessOptions {
  ffmpegPath: string;
  args: readonly string[];
  onStdout?: (data: Buffer) => void;
  /** Each complete stderr line. */
  onStderrLine?: (line: string) => void;
  stderrTailBytes?: number;
  /**
   * Run at this nice value (1–19, lower CPU priority) for work that must never compete with
   * live streams. Through `nice(1)` when present, so every thread ffmpeg starts inherits it.
   */
  niceness?: number;
  /** This many extra output pipes after stderr (fd 3, 4, …), read through `outputPipe(fd)`. */
  outputPipes?: number;
}

const NICE = ['/usr/bin/nice', '/bin/nice'].find((path) => existsSync(path));

/**
 * One ffmpeg child process fed through stdin with backpressure: `write()` resolves when the
 * pipe has room again, so a caller that awaits it never buffers more than the pipe holds.
 */
export class FfmpegProcess {
  private readonly child: ChildProcessWithoutNullStreams;
  private stderrTail = '';
  private partialLine = '';
  private stdinClosed = false;
  readonly exited: Promise<FfmpegExit>;

  constructor(options: FfmpegProcessOptions) {
    const niced = options.niceness !== undefined && options.niceness > 0 && NICE !== undefined;
    const stdio = Array.from({ length: 3 + (options.outputPipes ?? 0) }, () => 'pipe' as const);
    this.child = niced
      ? spawn(NICE, ['-n', String(options.niceness), options.ffmpegPath, ...options.args], { stdio })
      : spawn(options.ffmpegPath, options.args as string[], { stdio });
    const tailBytes = options.stderrTailBytes ?? 8192;
    this.child.stdout.on('data', (data: Buffer) => options.onStdout?.(data));
    this.child.stderr.on('data', (data: Buffer) => {
      const text = data.toString('utf8');
      this.stderrTail = (this.stderrTail + text).slice(-tailBytes);
      const lines = (this.partialLine + text).split(/\r?\n|\r/);
      this.partialLine = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) options.onStderrLine?.(line);
    });
    // EPIPE when ffmpeg dies while we write: the exit handler reports it.
    this.child.stdin.on('error', () => {
      this.stdinClosed = true;
    });
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

  /** The extra output pipe on file descriptor `fd` (3, 4, …; see `outputPipes`). */
  outputPipe(fd: number): Readable {
    return this.child.stdio[fd] as Readable;
  }

  /** Writes to stdin; resolves when the data is accepted (after 'drain' if the pipe was full). */
  async write(data: Buffer): Promise<boolean> {
    if (this.stdinClosed || !this.running) return false;
    if (this.child.stdin.write(data)) return true;
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        this.child.stdin.off('drain', onDrain);
        this.child.off('close', onClose);
        resolve(ok);
      };
      const onDrain = () => done(true);
      const onClose = () => done(false);
      this.child.stdin.once('drain', onDrain);
      this.child.once('close', onClose);
    });
  }

  /**
   * Lowers a running ffmpeg's CPU priority to `niceness` (raising a nice value needs no
   * privilege). Linux keeps a nice value per thread, so every thread of the process is set.
   */
  renice(niceness: number): void {
    const pid = this.child.pid;
    if (pid === undefined || !this.running) return;
    let threads: number[] = [pid];
    try {
      threads = readdirSync(`/proc/${pid}/task`).map(Number);
    } catch {
      // No /proc (not Linux): the process's own priority only.
    }
    for (const thread of threads) {
      try {
        setPriority(thread, niceness);
      } catch {
        // The thread ended meanwhile.
      }
    }
  }

  /** Closes stdin: ffmpeg finishes the last segment and exits. */
  endInput(): void {
    if (this.stdinClosed) return;
    this.stdinClosed = true;
    this.child.stdin.end();
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.running) this.child.kill(signal);
  }
}
