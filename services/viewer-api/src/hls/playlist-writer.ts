/**
 * A small HLS playlist writer (RFC 8216). Why not a library: the maintained npm HLS libraries
 * are parsers (m3u8-parser, used in our tests to check this output) or large models
 * (hls-parser) whose writer we would have to feed almost the same structures; the subset we emit
 * (multivariant + media playlists with DISCONTINUITY, PROGRAM-DATE-TIME, MAP, ENDLIST) is small
 * and is covered by playlist-writer.spec.ts and by ffmpeg/hls.js reading it in the e2e tests.
 */

export interface VariantEntry {
  uri: string;
  bandwidth: number;
  width?: number;
  height?: number;
  codecs?: string;
  name: string;
}

export function writeMultivariant(variants: readonly VariantEntry[]): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:3', '#EXT-X-INDEPENDENT-SEGMENTS'];
  for (const variant of variants) {
    const attributes = [`BANDWIDTH=${Math.round(variant.bandwidth)}`];
    if (variant.width && variant.height) attributes.push(`RESOLUTION=${variant.width}x${variant.height}`);
    if (variant.codecs) attributes.push(`CODECS="${variant.codecs.replace(/"/g, '')}"`);
    attributes.push(`NAME="${variant.name.replace(/"/g, '')}"`);
    lines.push(`#EXT-X-STREAM-INF:${attributes.join(',')}`, variant.uri);
  }
  return `${lines.join('\n')}\n`;
}

export interface MediaSegmentEntry {
  uri: string;
  durationSeconds: number;
  programTime?: string | null;
  discontinuity?: boolean;
  /** EXT-X-MAP URI (fMP4): written before the first segment and whenever it changes. */
  mapUri?: string | null;
}

export interface MediaPlaylist {
  mediaSequence: number;
  discontinuitySequence: number;
  segments: readonly MediaSegmentEntry[];
  /** At least the longest segment, rounded up (RFC 8216 4.3.3.1). */
  targetDurationSeconds?: number;
  playlistType?: 'VOD' | 'EVENT';
  endList: boolean;
}

export function writeMediaPlaylist(playlist: MediaPlaylist): string {
  const longest = playlist.segments.reduce((max, segment) => Math.max(max, segment.durationSeconds), 0);
  const target = Math.max(1, Math.ceil(Math.max(longest, playlist.targetDurationSeconds ?? 0) - 0.001));
  const usesMap = playlist.segments.some((segment) => segment.mapUri);
  const lines = ['#EXTM3U', `#EXT-X-VERSION:${usesMap ? 6 : 3}`, `#EXT-X-TARGETDURATION:${target}`];
  lines.push(`#EXT-X-MEDIA-SEQUENCE:${playlist.mediaSequence}`);
  if (playlist.discontinuitySequence > 0) lines.push(`#EXT-X-DISCONTINUITY-SEQUENCE:${playlist.discontinuitySequence}`);
  if (playlist.playlistType) lines.push(`#EXT-X-PLAYLIST-TYPE:${playlist.playlistType}`);
  let currentMap: string | null = null;
  playlist.segments.forEach((segment, index) => {
    // The first listed segment's discontinuity is carried by EXT-X-DISCONTINUITY-SEQUENCE
    // (the caller counts it), so the tag is only written between listed segments.
    if (segment.discontinuity && index > 0) lines.push('#EXT-X-DISCONTINUITY');
    if (segment.mapUri && segment.mapUri !== currentMap) {
      lines.push(`#EXT-X-MAP:URI="${segment.mapUri}"`);
      currentMap = segment.mapUri;
    }
    if (segment.programTime) lines.push(`#EXT-X-PROGRAM-DATE-TIME:${segment.programTime}`);
    lines.push(`#EXTINF:${segment.durationSeconds.toFixed(3)},`, segment.uri);
  });
  if (playlist.endList) lines.push('#EXT-X-ENDLIST');
  return `${lines.join('\n')}\n`;
}
