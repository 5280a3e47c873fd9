export interface PlaylistSegment {
  /** Media sequence as written by ffmpeg. */
  sequence: number;
  uri: string;
  durationSeconds: number;
  /** EXT-X-PROGRAM-DATE-TIME (ISO-8601) when present. */
  programTime?: string;
  discontinuity: boolean;
}

export interface MediaPlaylist {
  mediaSequence: number;
  targetDuration?: number;
  segments: PlaylistSegment[];
  endList: boolean;
}

/**
 * Parses an HLS media playlist. Only lines terminated by a newline count, so a playlist read
 * while ffmpeg is writing it never yields a half-written segment URI.
 */
export function parseMediaPlaylist(text: string): MediaPlaylist {
  const complete = text.slice(0, text.lastIndexOf('\n') + 1);
  const lines = complete.split('\n').map((line) => line.trim());
  const playlist: MediaPlaylist = { mediaSequence: 0, segments: [], endList: false };
  let duration: number | undefined;
  let programTime: string | undefined;
  let discontinuity = false;
  for (const line of lines) {
    if (line === '') continue;
    if (line.startsWith('#EXT-X-MEDIA-SEQUENCE:')) playlist.mediaSequence = Number(line.slice(22));
    else if (line.startsWith('#EXT-X-TARGETDURATION:')) playlist.targetDuration = Number(line.slice(22));
    else if (line.startsWith('#EXTINF:')) duration = Number.parseFloat(line.slice(8).split(',')[0] ?? '');
    else if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) programTime = line.slice(25);
    else if (line === '#EXT-X-DISCONTINUITY') discontinuity = true;
    else if (line === '#EXT-X-ENDLIST') playlist.endList = true;
    else if (!line.startsWith('#') && duration !== undefined) {
      playlist.segments.push({
        sequence: playlist.mediaSequence + playlist.segments.length,
        uri: line,
        durationSeconds: duration,
        ...(programTime ? { programTime } : {}),
        discontinuity,
      });
      duration = undefined;
      programTime = undefined;
      discontinuity = false;
    }
  }
  return playlist;
}
