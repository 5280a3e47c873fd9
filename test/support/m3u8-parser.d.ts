/** The part of m3u8-parser (no bundled types) that our tests read. */
declare module 'm3u8-parser' {
  export interface ParsedSegment {
    uri: string;
    duration: number;
    discontinuity?: boolean;
    dateTimeString?: string;
    map?: { uri: string };
  }
  export interface ParsedPlaylist {
    uri: string;
    attributes: {
      BANDWIDTH?: number;
      RESOLUTION?: { width: number; height: number };
      CODECS?: string;
      NAME?: string;
    };
  }
  export interface ParsedManifest {
    mediaSequence: number;
    discontinuitySequence?: number;
    targetDuration: number;
    endList?: boolean;
    playlistType?: string;
    segments: ParsedSegment[];
    playlists: ParsedPlaylist[];
  }
  export class Parser {
    push(chunk: string): void;
    end(): void;
    manifest: ParsedManifest;
  }
}
