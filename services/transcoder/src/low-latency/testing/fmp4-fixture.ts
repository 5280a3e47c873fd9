import { spawn } from 'node:child_process';
import { resolveMediaTools } from '@tributary/media';
import { lowLatencySupport } from '../ffmpeg-capability';

/** The ffmpeg the low-latency specs drive (PATH, like the service), and whether it can make parts. */
export const tools = resolveMediaTools({ ffmpegPath: process.env.FFMPEG_PATH, ffprobePath: process.env.FFPROBE_PATH, searchPath: process.env.PATH });
export const support = lowLatencySupport(tools.ffmpeg);

/**
 * Fails with the reason when this machine's ffmpeg cannot make low-latency parts. Low-latency
 * tests run everywhere `npm test` runs, never skip: they need ffmpeg >= 5 (Debian's, which
 * `.ci/run` installs, like Chromium and etcd); the npm static build is a 2018 snapshot.
 */
export function requireLowLatencyFfmpeg(): void {
  if (!support.supported) throw new Error(`low-latency tests need ffmpeg >= 5 on PATH or in FFMPEG_PATH (apt-get install ffmpeg; bash .ci/run installs it): ${support.reason}`);
}

/** An `it` whose test needs ffmpeg >= 5 (requireLowLatencyFfmpeg first). */
export function itWithLowLatencyFfmpeg(name: string, test: () => unknown, timeout?: number): void {
  it(
    name,
    async () => {
      requireLowLatencyFfmpeg();
      await test();
    },
    timeout,
  );
}

/** Runs ffmpeg and collects its stdout (a pipe: ffmpeg cannot seek, as in the service). */
export function ffmpegStdout(args: readonly string[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(tools.ffmpeg, ['-hide_banner', '-loglevel', 'error', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (data: Buffer) => out.push(data));
    child.stderr.on('data', (data: Buffer) => (err += data.toString()));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`ffmpeg exited ${code}: ${err}`))));
  });
}

/** 3 s of 30 fps test video + AAC as fragmented MP4 on a pipe: 200 ms parts, a keyframe every 30 frames (5 parts). */
export function fmp4Fixture(seconds = 3): Promise<Buffer> {
  return ffmpegStdout([
    '-f', 'lavfi', '-i', 'testsrc=size=320x180:rate=30', '-f', 'lavfi', '-i', 'sine=sample_rate=48000',
    '-t', String(seconds), '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '30', '-keyint_min', '30', '-sc_threshold', '0',
    '-c:a', 'aac', '-f', 'mp4', '-movflags', '+empty_moov+default_base_moof+frag_keyframe',
    '-frag_duration', '200000', '-flush_packets', '1', 'pipe:1',
  ]);
}
