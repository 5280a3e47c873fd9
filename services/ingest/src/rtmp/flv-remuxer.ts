import { type ChildProcessByStdio, spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';

/**
 * `ffmpeg -f flv -i pipe:0 -c copy -f mpegts pipe:1`: one per RTMP publish, remux only. Its
 * stdin takes the publish's FLV (write() returns false when the pipe is full: the connection
 * pauses its socket); its stdout is the MPEG-TS the HTTP path would have received, read by the
 * same PublishSession (which pauses it while Kafka is behind, so ffmpeg blocks, so its stdin
 * fills, so the RTMP socket pauses: no unbounded buffer anywhere).
 *
 * Latency (docs/video.md, "RTMP and RTMPS ingest"): by default ffmpeg reads on until it has seen
 * 20 frames of video to guess a frame rate, which a remux does not need, before it writes
 * anything: 1–5 s of every publish's start (and a low-bitrate publish ran past a short
 * INGEST_IDLE_TIMEOUT_MS). `-fpsprobesize 0` skips that: ffmpeg writes as soon as both streams
 * have their parameters (measured: 16–190 ms after the first byte). `-analyzeduration` stays at its
 * 5 s: a publish that starts mid-GOP (a relay) needs it to reach its first keyframe (at 100 ms the
 * video stream was dropped), and a publish with only video (or only audio) waits it out once, as
 * before. `-pes_payload_size 0` writes each audio frame as its own PES (the mpegts muxer otherwise
 * gathers ~2.9 kB, ~170 ms of 128 kbit/s AAC, first). `-flush_packets 1`: each packet goes down the
 * pipe at once.
 * No `-fflags nobuffer`: it drops the packets ffmpeg read while probing the input (the first
 * seconds of every publish; measured: 1.3 s of a 4 s publish survived).
 *
 * libs/media's FfmpegProcess hands stdout to a callback (no way to pause it), so this spawns
 * ffmpeg itself to keep stdout a pausable stream.
 */
export class FlvRemuxer {
  private readonly child: ChildProcessByStdio<Writable, Readable, Readable>;
  private stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderrTail: string }>;

  constructor(ffmpegPath: string) {
    this.child = spawn(
      ffmpegPath,
      [
        '-hide_banner', '-loglevel', 'error',
        '-fpsprobesize', '0', '-f', 'flv', '-i', 'pipe:0',
        '-c', 'copy', '-f', 'mpegts', '-pes_payload_size', '0', '-flush_packets', '1', 'pipe:1',
      ],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    this.child.stderr.on('data', (data: Buffer) => {
      this.stderr = (this.stderr + data.toString('utf8')).slice(-4096);
    });
    // EPIPE when ffmpeg exits while we write: the exit (and the ended output) report it.
    this.child.stdin.on('error', () => undefined);
    this.exited = new Promise((resolve) => {
      this.child.once('error', (error) => {
        this.stderr += `\nspawn failed: ${error.message}`;
      });
      this.child.once('close', (code, signal) => resolve({ code, signal, stderrTail: this.stderr.trim() }));
    });
  }

  get input(): Writable {
    return this.child.stdin;
  }

  /** MPEG-TS; ends when ffmpeg has flushed and exited. */
  get output(): Readable {
    return this.child.stdout;
  }

  /** The publisher is done: ffmpeg writes out what it holds and exits; killed if it has not after `graceMs`. */
  endInput(graceMs = 5_000): void {
    if (!this.child.stdin.writableEnded) this.child.stdin.end();
    const timer = setTimeout(() => this.kill(), graceMs);
    timer.unref();
    void this.exited.then(() => clearTimeout(timer));
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}
