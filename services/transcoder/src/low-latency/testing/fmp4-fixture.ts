import { spawn } from 'node:child_process';
import { resolveMediaTools } from '@tributary/media';
import { lowLatencySupport } from '../ffmpeg-capability';

/** The ffmpeg the low-latency specs drive (PATH, like the service), and whether it can make parts. */
export const tools = resolveMediaTools({ ffmpegPath: process.env.FFMPEG_PATH, ffprobePath: process.env.FFPROBE_PATH, searchPath: process.env.PATH });
export const support = lowLatencySupport(tools.ffmpeg);

/** `it` when this machine's ffmpeg can make low-latency parts, else a skip (the reason goes to stderr). */
export const itWithLowLatencyFfmpeg: jest.It = support.supported ? it : it.skip;
if (!support.supported) process.stderr.write(`low-latency specs skipped: ${support.reason}\n`);

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
