import { DEFAULT_INPUT_ARGS } from './hls-args';
import { avcLevel, type PlannedRendition } from './ladder';

export interface LowLatencyArgsOptions {
  renditions: readonly PlannedRendition[];
  hasAudio: boolean;
  /** Source frame rate (GOP in frames, H.264 level); 30 when unknown. */
  frameRate?: number;
  /** Target part duration (s). */
  partSeconds: number;
  /** Keyframe interval target (s): rounded to a whole number of parts. */
  gopSeconds: number;
  preset: string;
  threads?: number;
  /** One JPEG every N seconds on stdout (image2pipe); 0 disables. */
  thumbnailIntervalSeconds?: number;
  thumbnailWidth?: number;
  inputArgs?: readonly string[];
}

/** The first file descriptor of the renditions' pipes (`pipe:3`, `pipe:4`, … in ladder order). */
export const FIRST_RENDITION_FD = 3;

/** Frames per part and per GOP for a frame rate: the GOP is a whole number of parts. */
export function partGeometry(frameRate: number | undefined, partSeconds: number, gopSeconds: number): { partFrames: number; gopFrames: number; gopParts: number } {
  const fps = frameRate && frameRate > 0 ? frameRate : 30;
  const partFrames = Math.max(1, Math.round(fps * partSeconds));
  const gopParts = Math.max(1, Math.round(gopSeconds / partSeconds));
  return { partFrames, gopFrames: partFrames * gopParts, gopParts };
}

/**
 * ffmpeg for one low-latency stream: one decode split into a scaler per rendition, and per
 * rendition its own fragmented MP4 output on its own pipe (`pipe:3`, `pipe:4`, …):
 * `-movflags +empty_moov+default_base_moof+frag_keyframe -frag_duration <part µs> -flush_packets 1`,
 * so the init segment (ftyp+moov) comes first and each part (moof+mdat) is written as soon as
 * it is cut, with a fixed GOP of a whole number of parts (`-g` = `-keyint_min`, `-sc_threshold 0`)
 * so keyframes, and thus independent parts and segment starts, line up across renditions.
 */
export function buildLowLatencyArgs(options: LowLatencyArgsOptions): string[] {
  const { renditions } = options;
  if (renditions.length === 0) throw new Error('at least one rendition is required');
  if (!(options.partSeconds > 0)) throw new Error('partSeconds must be > 0');
  const frameRate = options.frameRate && options.frameRate > 0 ? options.frameRate : 30;
  const { gopFrames } = partGeometry(frameRate, options.partSeconds, options.gopSeconds);
  const thumbnails = (options.thumbnailIntervalSeconds ?? 0) > 0;
  const outputs = renditions.length + (thumbnails ? 1 : 0);

  const filters = [`[0:v:0]split=${outputs}${Array.from({ length: outputs }, (_, i) => `[s${i}]`).join('')}`];
  renditions.forEach((rendition, i) => filters.push(`[s${i}]scale=-2:${rendition.height}:flags=bicubic,format=yuv420p[v${i}]`));
  if (thumbnails) filters.push(`[s${renditions.length}]fps=1/${options.thumbnailIntervalSeconds},scale=${options.thumbnailWidth ?? 320}:-2[thumb]`);

  const args: string[] = ['-hide_banner', '-nostdin', '-loglevel', 'info', '-nostats'];
  args.push(...(options.inputArgs ?? DEFAULT_INPUT_ARGS));
  args.push('-filter_complex', filters.join(';'));
  renditions.forEach((rendition, i) => {
    const kbps = rendition.video_bitrate_kbps;
    args.push('-map', `[v${i}]`);
    if (options.hasAudio) args.push('-map', '0:a:0');
    args.push('-c:v', 'libx264', '-preset', options.preset, '-tune', 'zerolatency');
    if (options.preset !== 'ultrafast') args.push('-profile:v', 'high');
    if (options.threads !== undefined) args.push('-threads', String(options.threads));
    args.push(
      '-b:v',
      `${kbps}k`,
      '-maxrate:v',
      `${Math.round(kbps * 1.1)}k`,
      '-bufsize:v',
      `${kbps * 2}k`,
      '-level:v',
      avcLevel(rendition.width, rendition.height, frameRate).level,
      '-g',
      String(gopFrames),
      '-keyint_min',
      String(gopFrames),
      '-sc_threshold',
      '0',
    );
    if (options.hasAudio) args.push('-c:a', 'aac', '-ac', '2', '-ar', '48000', '-b:a', `${rendition.audio_bitrate_kbps}k`);
    args.push(
      '-f',
      'mp4',
      '-movflags',
      '+empty_moov+default_base_moof+frag_keyframe',
      '-frag_duration',
      String(Math.round(options.partSeconds * 1_000_000)),
      '-flush_packets',
      '1',
      '-max_muxing_queue_size',
      '1024',
      `pipe:${FIRST_RENDITION_FD + i}`,
    );
  });
  if (thumbnails) args.push('-map', '[thumb]', '-c:v', 'mjpeg', '-q:v', '6', '-f', 'image2pipe', 'pipe:1');
  return args;
}
