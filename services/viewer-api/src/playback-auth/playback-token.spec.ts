import { propagateToken } from './playback-token';

describe(propagateToken.name, () => {
  it('adds the token to URI lines and URI attributes, keeping existing queries, leaving absolute URIs alone', () => {
    const playlist = [
      '#EXTM3U',
      '#EXT-X-MAP:URI="init.mp4"',
      '#EXTINF:2.000,',
      '12.m4s',
      '#EXT-X-STREAM-INF:BANDWIDTH=1000',
      '720p/index.m3u8?from=start',
      'https://cdn.example/x.ts',
      '',
    ].join('\n');
    expect(propagateToken(playlist, 'a.b+c')).toBe(
      [
        '#EXTM3U',
        '#EXT-X-MAP:URI="init.mp4?token=a.b%2Bc"',
        '#EXTINF:2.000,',
        '12.m4s?token=a.b%2Bc',
        '#EXT-X-STREAM-INF:BANDWIDTH=1000',
        '720p/index.m3u8?from=start&token=a.b%2Bc',
        'https://cdn.example/x.ts',
        '',
      ].join('\n'),
    );
  });
});
