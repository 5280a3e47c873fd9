import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type StreamRecord, type StreamStatus, TS_PACKET_SIZE } from '@tributary/contracts';
import pino from 'pino';
import type { InputChunk } from '../transcode/chunk-coverage';
import type { OutgoingSegment, PipelineSink } from '../transcode/pipeline-sink';

/** What the pipeline integration specs share: a recording sink, a real MPEG-TS source, chunking. */

export const run = promisify(execFile);
export const logger = pino({ level: process.env.PIPELINE_LOG ?? 'silent' });

/** A PipelineSink that records everything a pipeline sends (no Kafka). */
export class RecordingSink implements PipelineSink {
  readonly segments: OutgoingSegment[] = [];
  readonly statuses: Omit<StreamStatus, 'reporter' | 'ts'>[] = [];
  readonly done = new Set<string>();
  thumbnails = 0;
  segment(segment: OutgoingSegment): Promise<boolean> {
    this.segments.push(segment);
    return Promise.resolve(true);
  }
  thumbnail(): Promise<void> {
    this.thumbnails += 1;
    return Promise.resolve();
  }
  status(status: Omit<StreamStatus, 'reporter' | 'ts'>): Promise<void> {
    this.statuses.push(status);
    return Promise.resolve();
  }
  chunkDone(_partition: number, offset: string): void {
    this.done.add(offset);
  }
}

/** Stream `cam` with a 360p + 180p ladder. */
export function camRecord(segmentSeconds: number, extra: Partial<StreamRecord> = {}): StreamRecord {
  return {
    id: 'cam',
    title: 'cam',
    ladder: [
      { name: '360p', width: 640, height: 360, video_bitrate_kbps: 600, audio_bitrate_kbps: 64 },
      { name: '180p', width: 320, height: 180, video_bitrate_kbps: 200, audio_bitrate_kbps: 64 },
    ],
    segment_duration_seconds: segmentSeconds,
    ...extra,
    stream_key_sha256: '0'.repeat(64),
    created_at: new Date().toISOString(),
  };
}

/** Waits (polling every 5 ms) until `check()` holds; throws after `timeoutMs`. */
export async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export const chunksOf = (data: Buffer, size = TS_PACKET_SIZE * 100): Buffer[] =>
  Array.from({ length: Math.ceil(data.length / size) }, (_, i) => data.subarray(i * size, (i + 1) * size));

/**
 * Feeds every chunk (offset and sequence = its index); once half of them are in and `hasOutput()`
 * holds (waited for up to 60 s), SIGKILLs the pipeline's ffmpeg mid-stream. Returns the killed pid.
 */
export async function feedKillingFfmpegMidway(
  subject: { feed(chunk: InputChunk): Promise<void>; readonly ffmpegPid: number | undefined },
  chunks: readonly Buffer[],
  hasOutput: () => boolean,
): Promise<number> {
  let killed: number | undefined;
  for (const [index, chunk] of chunks.entries()) {
    await subject.feed({ offset: String(index), sequence: index, data: chunk });
    if (killed === undefined && index >= chunks.length / 2) {
      const deadline = Date.now() + 60_000;
      while (!hasOutput() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      killed = subject.ffmpegPid;
      if (killed === undefined) throw new Error('no ffmpeg running to kill');
      process.kill(killed, 'SIGKILL');
    }
  }
  if (killed === undefined) throw new Error('ffmpeg was not killed: too few chunks');
  return killed;
}

export interface TsSourceOptions {
  ffmpeg: string;
  /** Temporary folder name prefix. */
  prefix: string;
  /** `WxH`. */
  size: string;
  rate: number;
  seconds: number;
  /** Keyframe interval (frames). */
  gop: number;
}

/**
 * A real H.264 + AAC MPEG-TS test source, made once for the spec file (beforeAll) in a temporary
 * folder that is removed afterwards; read `dir` and `source` inside tests.
 */
export function useTsSource(options: TsSourceOptions): { readonly dir: string; readonly source: Buffer } {
  const fixture = { dir: '', source: Buffer.alloc(0) };
  beforeAll(async () => {
    fixture.dir = await mkdtemp(join(tmpdir(), options.prefix));
    const file = join(fixture.dir, 'source.ts');
    // prettier-ignore
    await run(options.ffmpeg, [
      '-hide_banner', '-loglevel', 'error',
      '-f', 'lavfi', '-i', `testsrc=size=${options.size}:rate=${options.rate}`, '-f', 'lavfi', '-i', 'sine=sample_rate=48000',
      '-t', String(options.seconds), '-c:v', 'libx264', '-preset', 'ultrafast', '-g', String(options.gop), '-c:a', 'aac', '-f', 'mpegts', file,
    ]);
    fixture.source = await readFile(file);
  }, 60_000);
  afterAll(async () => {
    if (fixture.dir) await rm(fixture.dir, { recursive: true, force: true });
  });
  return fixture;
}
