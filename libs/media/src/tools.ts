import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface MediaTools {
  ffmpeg: string;
  ffprobe: string;
}

export interface MediaToolOptions {
  /** Explicit paths (FFMPEG_PATH / FFPROBE_PATH) win over everything else. */
  ffmpegPath?: string;
  ffprobePath?: string;
  /** The PATH to search (passed in by the caller's config; libs never read process.env). */
  searchPath?: string;
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string, searchPath: string | undefined): string | undefined {
  for (const dir of (searchPath ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (executable(candidate)) return candidate;
  }
  return undefined;
}

function fromInstaller(pkg: '@ffmpeg-installer/ffmpeg' | '@ffprobe-installer/ffprobe'): string | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const found = (require(pkg) as { path?: string }).path;
    return found && executable(found) ? found : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Which ffmpeg/ffprobe to run: an explicit path, else the system one on PATH (Debian's 5.1 is
 * newer than the npm static build), else the static build from @ffmpeg-installer (2018, with
 * libx264/aac/mjpeg). Throws naming the variables to set when none is usable.
 */
export function resolveMediaTools(options: MediaToolOptions = {}): MediaTools {
  const ffmpeg = options.ffmpegPath ?? onPath('ffmpeg', options.searchPath) ?? fromInstaller('@ffmpeg-installer/ffmpeg');
  const ffprobe = options.ffprobePath ?? onPath('ffprobe', options.searchPath) ?? fromInstaller('@ffprobe-installer/ffprobe');
  if (!ffmpeg) throw new Error('no ffmpeg found: install ffmpeg, or set FFMPEG_PATH to an ffmpeg executable');
  if (!ffprobe) throw new Error('no ffprobe found: install ffmpeg (ffprobe), or set FFPROBE_PATH to an ffprobe executable');
  return { ffmpeg, ffprobe };
}
