import { spawn } from 'node:child_process';
import type { SourceInfo } from './ladder';

export class ProbeError extends Error {
  override readonly name = 'ProbeError';
}

interface FfprobeStream {
  codec_type?: string;
  width?: number;
  height?: number;
  avg_frame_rate?: string;
  r_frame_rate?: string;
}

function rate(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const [num, den] = value.split('/').map(Number);
  if (!num || !den) return undefined;
  return num / den;
}

/**
 * Probes the first bytes of a stream with ffprobe (fed on stdin). Resolves with the video size,
 * frame rate and whether there is audio; rejects with ProbeError when ffprobe finds no video
 * stream (garbage, or not enough data yet) with ffprobe's own words in the message.
 */
export async function probeBuffer(ffprobePath: string, data: Buffer, timeoutMs = 15_000): Promise<SourceInfo> {
  const child = spawn(ffprobePath, ['-v', 'error', '-print_format', 'json', '-show_streams', '-i', 'pipe:0'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  child.stdin.on('error', () => undefined);
  child.stdin.end(data);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => {
    child.once('error', () => resolve(-1));
    child.once('close', (exitCode) => resolve(exitCode));
  });
  clearTimeout(timer);
  let streams: FfprobeStream[] = [];
  try {
    streams = (JSON.parse(stdout || '{}') as { streams?: FfprobeStream[] }).streams ?? [];
  } catch {
    streams = [];
  }
  const video = streams.find((stream) => stream.codec_type === 'video' && (stream.width ?? 0) > 0);
  if (!video) {
    const said = stderr.trim().split('\n').slice(-3).join(' ').trim();
    throw new ProbeError(
      `no video stream found in the first ${data.length} bytes` + (said ? `: ${said}` : code !== 0 ? ` (ffprobe exit ${code})` : ''),
    );
  }
  const frameRate = rate(video.avg_frame_rate) ?? rate(video.r_frame_rate);
  return {
    width: video.width ?? 0,
    height: video.height ?? 0,
    hasVideo: true,
    hasAudio: streams.some((stream) => stream.codec_type === 'audio'),
    ...(frameRate && frameRate < 1000 ? { frameRate } : {}),
  };
}
