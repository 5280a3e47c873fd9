import { DEFAULT_LADDER, type Rendition } from '@tributary/contracts';

export interface SourceInfo {
  width: number;
  height: number;
  hasVideo: boolean;
  hasAudio: boolean;
  frameRate?: number;
}

export interface PlannedRendition extends Rendition {
  /** Peak bandwidth for EXT-X-STREAM-INF BANDWIDTH (video + audio + ~10 % TS overhead). */
  bandwidth_bps: number;
  /** RFC 6381 codecs for EXT-X-STREAM-INF CODECS. */
  codecs: string;
}

const even = (value: number): number => Math.max(2, Math.round(value / 2) * 2);

/**
 * The H.264 level for a resolution/frame rate, as ffmpeg's `-level` value and as level_idc.
 * The argument builder passes the same level to libx264, so the CODECS string matches the stream.
 */
export function avcLevel(width: number, height: number, frameRate: number): { level: string; idc: number } {
  const macroblocksPerSecond = Math.ceil(width / 16) * Math.ceil(height / 16) * frameRate;
  if (macroblocksPerSecond <= 40_500) return { level: '3.0', idc: 30 };
  if (macroblocksPerSecond <= 108_000) return { level: '3.1', idc: 31 };
  if (macroblocksPerSecond <= 245_760) return { level: '4.0', idc: 40 };
  if (macroblocksPerSecond <= 522_240) return { level: '4.2', idc: 42 };
  return { level: '5.1', idc: 51 };
}

/**
 * RFC 6381 `avc1.PPCCLL`: High (0x64, flags 00) for every libx264 preset except `ultrafast`,
 * which turns off CABAC and 8x8 transforms, so x264 signals Constrained Baseline (0x42, 0xc0).
 */
export function avcCodec(width: number, height: number, frameRate: number, preset?: string): string {
  const profile = preset === 'ultrafast' ? '42c0' : '6400';
  return `avc1.${profile}${avcLevel(width, height, frameRate).idc.toString(16).padStart(2, '0')}`;
}

/**
 * The renditions to produce for a source: the ladder's rungs at or below the source height (never
 * upscaling), highest first. When the source is smaller than every rung, one rendition at the
 * source size (even dimensions) with the lowest rung's bitrates is produced, so a small camera
 * still plays.
 */
export function selectLadder(
  ladder: readonly Rendition[] = DEFAULT_LADDER,
  source: Pick<SourceInfo, 'width' | 'height' | 'hasAudio'> & { frameRate?: number },
  encoder: { preset?: string } = {},
): PlannedRendition[] {
  const sorted = [...ladder].sort((a, b) => b.height - a.height);
  let chosen = sorted.filter((rung) => rung.height <= source.height);
  if (chosen.length === 0 && sorted.length > 0) {
    const lowest = sorted[sorted.length - 1];
    const height = even(source.height);
    const width = even(source.width > 0 ? source.width : (lowest.width * height) / lowest.height);
    chosen = [{ ...lowest, name: lowest.name, width, height }];
  }
  const frameRate = source.frameRate && source.frameRate > 0 ? source.frameRate : 30;
  return chosen.map((rung) => {
    // Keep the source's aspect ratio (ffmpeg scales with -2:height); report the real width.
    const width = source.width > 0 && source.height > 0 ? even((rung.height * source.width) / source.height) : rung.width;
    const audio = source.hasAudio ? rung.audio_bitrate_kbps : 0;
    return {
      ...rung,
      width,
      bandwidth_bps: Math.round((rung.video_bitrate_kbps + audio) * 1000 * 1.1),
      codecs: source.hasAudio
        ? `${avcCodec(width, rung.height, frameRate, encoder.preset)},mp4a.40.2`
        : avcCodec(width, rung.height, frameRate, encoder.preset),
    };
  });
}
