import { execFileSync } from 'node:child_process';

/** The oldest ffmpeg major version whose fragmented MP4 muxer low-latency mode relies on. */
export const LOW_LATENCY_MIN_FFMPEG_MAJOR = 5;

export interface LowLatencySupport {
  supported: boolean;
  /** `ffmpeg -version`'s version string (`5.1.9-0+deb12u1`), or why it could not be read. */
  version: string;
  /** Why low-latency mode cannot run (when not supported), naming what to install. */
  reason?: string;
}

/** Parses `ffmpeg -version`'s output into a verdict. A git snapshot (`N-47683-g…`, like the 2018 npm build) has no release number: not supported. */
export function lowLatencySupportOf(versionOutput: string, ffmpegPath: string): LowLatencySupport {
  const version = /ffmpeg version (\S+)/.exec(versionOutput)?.[1] ?? 'unknown';
  const major = /^n?(\d+)\./.exec(version)?.[1];
  if (major !== undefined && Number(major) >= LOW_LATENCY_MIN_FFMPEG_MAJOR) return { supported: true, version };
  return {
    supported: false,
    version,
    reason:
      `low-latency mode needs ffmpeg >= ${LOW_LATENCY_MIN_FFMPEG_MAJOR} (its fragmented MP4 muxer with -frag_duration and -flush_packets); ` +
      `${ffmpegPath} is version ${version}. Install a newer ffmpeg (e.g. Debian's) or set FFMPEG_PATH to one; the stream is transcoded in standard mode meanwhile`,
  };
}

const cache = new Map<string, LowLatencySupport>();

/** Whether the ffmpeg at `ffmpegPath` can run low-latency mode (asked once per path, then cached). */
export function lowLatencySupport(ffmpegPath: string): LowLatencySupport {
  let support = cache.get(ffmpegPath);
  if (!support) {
    let output: string;
    try {
      output = execFileSync(ffmpegPath, ['-hide_banner', '-version'], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      output = `ffmpeg version unreadable (${(error as Error).message})`;
    }
    support = lowLatencySupportOf(output, ffmpegPath);
    cache.set(ffmpegPath, support);
  }
  return support;
}
