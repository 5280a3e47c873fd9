import { Parser } from 'm3u8-parser';
import { writeMediaPlaylist, writeMultivariant } from './playlist-writer';

function parse(text: string) {
  const parser = new Parser();
  parser.push(text);
  parser.end();
  return parser.manifest;
}

describe('playlist writer', () => {
  it('writes a multivariant playlist m3u8-parser reads back with BANDWIDTH, RESOLUTION and CODECS', () => {
    const manifest = parse(
      writeMultivariant([
        { uri: '720p/index.m3u8', bandwidth: 3_000_000, width: 1280, height: 720, codecs: 'avc1.640028,mp4a.40.2', name: '720p' },
        { uri: '360p/index.m3u8', bandwidth: 900_000, width: 640, height: 360, codecs: 'avc1.640028,mp4a.40.2', name: '360p' },
      ]),
    );
    expect(manifest.playlists).toHaveLength(2);
    expect(manifest.playlists[0].uri).toBe('720p/index.m3u8');
    expect(manifest.playlists[0].attributes).toMatchObject({
      BANDWIDTH: 3_000_000,
      RESOLUTION: { width: 1280, height: 720 },
      CODECS: 'avc1.640028,mp4a.40.2',
    });
  });

  it('writes sequence, discontinuities, program date time and ENDLIST', () => {
    const text = writeMediaPlaylist({
      mediaSequence: 7,
      discontinuitySequence: 2,
      endList: true,
      playlistType: 'VOD',
      segments: [
        { uri: '7.ts', durationSeconds: 2, programTime: '2026-01-01T00:00:00.000Z' },
        { uri: '8.ts', durationSeconds: 2.5, discontinuity: true, programTime: '2026-01-01T00:00:02.000Z' },
      ],
    });
    const manifest = parse(text);
    expect(manifest.mediaSequence).toBe(7);
    expect(manifest.discontinuitySequence).toBe(2);
    expect(manifest.targetDuration).toBe(3);
    expect(manifest.endList).toBe(true);
    expect(manifest.playlistType).toBe('VOD');
    expect(manifest.segments.map((s: { uri: string }) => s.uri)).toEqual(['7.ts', '8.ts']);
    expect(manifest.segments[1].discontinuity).toBe(true);
    expect(manifest.segments[0].discontinuity).toBeFalsy();
    expect(manifest.segments[0].dateTimeString).toBe('2026-01-01T00:00:00.000Z');
  });

  it('writes EXT-X-MAP for fMP4 and leaves ENDLIST out while live', () => {
    const text = writeMediaPlaylist({
      mediaSequence: 0,
      discontinuitySequence: 0,
      endList: false,
      segments: [{ uri: '0.m4s', durationSeconds: 2, mapUri: 'init.mp4' }],
    });
    expect(text).toContain('#EXT-X-MAP:URI="init.mp4"');
    expect(text).not.toContain('ENDLIST');
    expect(parse(text).segments[0].map?.uri).toBe('init.mp4');
  });
});
