import { join } from 'node:path';
import { avcLevel, type PlannedRendition } from './ladder';

export interface TranscodeArgsOptions {
  renditions: readonly PlannedRendition[];
  /** Folder for `<rendition>/index.m3u8` and `<rendition>/seg_<n>.ts`. */
  outputDir: string;
  segmentDurationSeconds: number;
  hasAudio: boolean;
  /** Source frame rate (for the H.264 level); 30 when unknown. */
  frameRate?: number;
  /** ffmpeg input arguments; default: MPEG-TS (or whatever ffmpeg detects) on stdin. */
  inputArgs?: readonly string[];
  /** libx264 preset; `veryfast` by default, `ultrafast` in tests. */
  preset?: string;
  /** Encoder threads per process (0 = ffmpeg decides). */
  threads?: number;
  /** One JPEG thumbnail every N seconds on stdout (image2pipe); 0 disables. */
  thumbnailIntervalSeconds?: number;
  thumbnailWidth?: number;
  /** Playlist window (segments); finished segments stay listed long enough to be picked up. */
  playlistSize?: number;
}

/**
 * The transcoder's ffmpeg input: MPEG-TS on stdin. ffmpeg analyses the first
 * `-analyzeduration` of media before it decodes anything, and on an MPEG-TS stream it reads that
 * whole window even when every stream's parameters are known sooner: on a live input that arrives
 * in real time, the window is waited for in wall time (3 s here cost a 3 s start-up, issue 12).
 * The transcoder starts ffmpeg only once ffprobe has read the source from the same first bytes
 * (which ffmpeg reads at once), so 0.5 s is enough. A shorter analysis that ends before the first
 * keyframe (a take-over or restart mid-GOP) loses nothing when decoding: ffmpeg reports the video's
 * size as unknown and its filter graph starts with the first decoded frame (measured with ffmpeg
 * 5.1, a 4 s GOP entered 3.5 s before its keyframe: full-size video and audio in the first
 * segment). A stream copy would not cope (ingest's RTMP remuxer keeps its own, longer window).
 */
export const DEFAULT_INPUT_ARGS = ['-analyzeduration', '500000', '-probesize', '2000000', '-i', 'pipe:0'] as const;

/**
 * The ffmpeg command line for one stream's ABR ladder: one decode, a `split` into one scaler per
 * rendition, libx264 + AAC per rendition with keyframes forced at every segment boundary
 * (`force_key_frames` + `sc_threshold 0`, so segments of all renditions line up and a player can
 * switch at any boundary), HLS/MPEG-TS output per rendition (`var_stream_map`), and optionally a
 * small JPEG every few seconds on stdout. Exported so a benchmark can run exactly this ladder.
 */
export function buildTranscodeArgs(options: TranscodeArgsOptions): string[] {
  const { renditions, segmentDurationSeconds: segment } = options;
  if (renditions.length === 0) throw new Error('at least one rendition is required');
  const frameRate = options.frameRate && options.frameRate > 0 ? options.frameRate : 30;
  const thumbnails = (options.thumbnailIntervalSeconds ?? 0) > 0;
  const outputs = renditions.length + (thumbnails ? 1 : 0);

  const filters: string[] = [];
  const splitLabels = Array.from({ length: outputs }, (_, i) => `[s${i}]`);
  filters.push(`[0:v:0]split=${outputs}${splitLabels.join('')}`);
  renditions.forEach((rendition, i) => {
    filters.push(`[s${i}]scale=-2:${rendition.height}:flags=bicubic,format=yuv420p[v${i}]`);
  });
  if (thumbnails) {
    const width = options.thumbnailWidth ?? 320;
    filters.push(`[s${renditions.length}]fps=1/${options.thumbnailIntervalSeconds},scale=${width}:-2[thumb]`);
  }

  const args: string[] = ['-hide_banner', '-nostdin', '-loglevel', 'info', '-nostats'];
  args.push(...(options.inputArgs ?? DEFAULT_INPUT_ARGS));
  args.push('-filter_complex', filters.join(';'));

  renditions.forEach((_rendition, i) => {
    args.push('-map', `[v${i}]`);
    if (options.hasAudio) args.push('-map', '0:a:0');
  });
  const preset = options.preset ?? 'veryfast';
  args.push('-c:v', 'libx264', '-preset', preset, '-tune', 'zerolatency');
  // ultrafast cannot do High profile tools; x264 then signals Constrained Baseline (see avcCodec).
  if (preset !== 'ultrafast') args.push('-profile:v', 'high');
  if (options.threads !== undefined) args.push('-threads', String(options.threads));
  renditions.forEach((rendition, i) => {
    const kbps = rendition.video_bitrate_kbps;
    args.push(
      `-b:v:${i}`,
      `${kbps}k`,
      `-maxrate:v:${i}`,
      `${Math.round(kbps * 1.1)}k`,
      `-bufsize:v:${i}`,
      `${kbps * 2}k`,
      `-level:v:${i}`,
      avcLevel(rendition.width, rendition.height, frameRate).level,
    );
  });
  args.push('-sc_threshold', '0', '-force_key_frames', `expr:gte(t,n_forced*${segment})`);
  if (options.hasAudio) {
    args.push('-c:a', 'aac', '-ac', '2', '-ar', '48000');
    renditions.forEach((rendition, i) => args.push(`-b:a:${i}`, `${rendition.audio_bitrate_kbps}k`));
  }
  const streamMap = renditions
    .map((rendition, i) => (options.hasAudio ? `v:${i},a:${i},name:${rendition.name}` : `v:${i},name:${rendition.name}`))
    .join(' ');
  args.push(
    '-max_muxing_queue_size',
    '1024',
    '-f',
    'hls',
    '-hls_time',
    String(segment),
    '-hls_list_size',
    String(options.playlistSize ?? 20),
    '-hls_segment_type',
    'mpegts',
    // temp_file: a segment appears under its final name only when complete.
    '-hls_flags',
    'independent_segments+program_date_time+temp_file',
    '-hls_segment_filename',
    join(options.outputDir, '%v', 'seg_%d.ts'),
    '-var_stream_map',
    streamMap,
    join(options.outputDir, '%v', 'index.m3u8'),
  );
  if (thumbnails) {
    args.push('-map', '[thumb]', '-c:v', 'mjpeg', '-q:v', '6', '-f', 'image2pipe', 'pipe:1');
  }
  return args;
}
