import { parseCmcd, playbackEventValidator } from '@tributary/contracts';
import { cmcdToPlaybackEvent, deviceOf, hlsStreamId } from './cmcd-events';

const NOW = Date.parse('2026-11-22T10:00:00.000Z');

function map(payload: string, streamId = 'cam-1') {
  const parsed = parseCmcd(payload);
  if (!parsed.ok) throw new Error(parsed.error);
  return cmcdToPlaybackEvent(parsed.data, { streamId, nowMs: NOW, userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/130' });
}

describe('cmcdToPlaybackEvent', () => {
  it('maps an ordinary segment request to a valid position event', () => {
    const event = map('bl=12000,br=2400,d=2000,mtp=35000,ot=v,pr=1,sf=h,sid="abc",st=l');
    expect(event).toMatchObject({
      session_id: 'abc',
      stream_id: 'cam-1',
      event_type: 'position',
      bitrate_kbps: 2400,
      buffer_length_ms: 12000,
      throughput_kbps: 35000,
      playback_rate: 1,
      object_type: 'v',
      device: 'web',
      source: 'cmcd',
      ts: '2026-11-22T10:00:00.000Z',
    });
    expect(playbackEventValidator.validate(event).ok).toBe(true);
  });

  it('maps starvation to buffer_start and startup to play', () => {
    expect(map('bs,su,sid="a"')!.event_type).toBe('buffer_start');
    expect(map('su,sid="a"')!.event_type).toBe('play');
  });

  it('uses cid when it is a stream id, else the URL stream id', () => {
    expect(map('cid="movie-42",sid="a"')!.stream_id).toBe('movie-42');
    expect(map('cid="Not A Stream/Id",sid="a"')!.stream_id).toBe('cam-1');
  });

  it('gives no event without a session id', () => {
    expect(map('br=100')).toBeUndefined();
  });
});

describe('hlsStreamId', () => {
  it.each([
    ['/live/cam-1/master.m3u8', 'cam-1'],
    ['/live/cam-1/720p/index.m3u8', 'cam-1'],
    ['/live/cam-1/720p/42.ts', 'cam-1'],
    ['/vod/movie/480p/3.m4s', 'movie'],
    ['/live/cam-1/thumbnail.jpg', undefined],
    ['/live/BAD_ID/720p/1.ts', undefined],
    ['/v1/events', undefined],
  ])('%s → %s', (path, expected) => {
    expect(hlsStreamId(path)).toBe(expected);
  });
});

describe('deviceOf', () => {
  it('classifies user agents', () => {
    expect(deviceOf('Mozilla/5.0 (Linux; Android 14; Pixel 8) Mobile Safari')).toBe('mobile');
    expect(deviceOf('Mozilla/5.0 (SMART-TV; Linux; Tizen 7.0)')).toBe('tv');
    expect(deviceOf(undefined)).toBe('web');
  });
});
