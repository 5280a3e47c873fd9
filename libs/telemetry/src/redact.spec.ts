import { redactPath, redactQuery, redactUrl, routeTemplateOf } from './redact';

describe('redaction', () => {
  it('cuts the segment after /live/ and the query from a path', () => {
    expect(redactPath('/live/s3cr3t')).toBe('/live/[REDACTED]');
    expect(redactPath('/live/s3cr3t/frames?x=1')).toBe('/live/[REDACTED]/frames');
    expect(redactPath('/v1/streams/abc')).toBe('/v1/streams/abc');
  });

  it('replaces credential query parameters only', () => {
    expect(redactQuery('token=abc&_HLS_msn=3')).toBe('token=[REDACTED]&_HLS_msn=3');
    expect(redactUrl('/live/k/360p/index.m3u8?TOKEN=x&a=b')).toBe('/live/[REDACTED]/360p/index.m3u8?TOKEN=[REDACTED]&a=b');
  });

  it('reads the route template when routing matched', () => {
    expect(routeTemplateOf({ route: { path: '/live/:streamKey' } })).toBe('/live/:streamKey');
    expect(routeTemplateOf({})).toBeUndefined();
  });
});
