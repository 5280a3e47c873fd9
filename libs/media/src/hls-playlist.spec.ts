import { parseMediaPlaylist } from './hls-playlist';

describe('parseMediaPlaylist', () => {
  it('lists segments with duration, program time and sequence', () => {
    const playlist = parseMediaPlaylist(
      '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:4\n#EXTINF:2.000000,\n#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:00:00.000+0000\nseg_4.ts\n#EXTINF:1.5,\nseg_5.ts\n#EXT-X-ENDLIST\n',
    );
    expect(playlist.segments).toEqual([
      { sequence: 4, uri: 'seg_4.ts', durationSeconds: 2, programTime: '2026-01-01T00:00:00.000+0000', discontinuity: false },
      { sequence: 5, uri: 'seg_5.ts', durationSeconds: 1.5, discontinuity: false },
    ]);
    expect(playlist.endList).toBe(true);
  });

  it('ignores a half-written last line', () => {
    const playlist = parseMediaPlaylist('#EXTM3U\n#EXTINF:2.0,\nseg_0.ts\n#EXTINF:2.0,\nseg_1.t');
    expect(playlist.segments.map((segment) => segment.uri)).toEqual(['seg_0.ts']);
  });
});
