import { resolveMediaTools } from '@tributary/media';

/**
 * The ffmpeg/ffprobe the tests drive, resolved like the services do: FFMPEG_PATH/FFPROBE_PATH,
 * else the system's on PATH, else the static builds from npm — so `npm test` works without
 * Debian's ffmpeg too.
 */
export const MEDIA_TOOLS = resolveMediaTools({
  ffmpegPath: process.env.FFMPEG_PATH,
  ffprobePath: process.env.FFPROBE_PATH,
  searchPath: process.env.PATH,
});
