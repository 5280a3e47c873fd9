import { resolveMediaTools } from '@tributary/media';

/**
 * The ffmpeg/ffprobe the tests drive, resolved like the services do: FFMPEG_PATH/FFPROBE_PATH,
 * else the system's on PATH, else the static builds from npm — the standard-mode tests run with
 * either. The low-latency tests need ffmpeg >= 5 (Debian's, which `.ci/run` installs) and fail
 * naming the reason without it (requireLowLatencyFfmpeg).
 */
export const MEDIA_TOOLS = resolveMediaTools({
  ffmpegPath: process.env.FFMPEG_PATH,
  ffprobePath: process.env.FFPROBE_PATH,
  searchPath: process.env.PATH,
});
