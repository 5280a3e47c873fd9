import { VideoHeaders } from './video';
import { buildVideoSegmentHeaders, parseVideoSegment, type VideoSegmentHeaders } from './video-segment';

const segment: VideoSegmentHeaders = {
  rendition: '360p',
  kind: 'media',
  sequence: 42,
  durationSeconds: 2,
  programTime: '2026-12-02T04:00:00.000Z',
  discontinuity: true,
  transcodeSession: 'run-1',
  publishSessionId: 'pub-1',
  contentType: 'video/mp2t',
  traceparent: null,
  part: null,
};

describe(parseVideoSegment.name, () => {
  it('reads back exactly what buildVideoSegmentHeaders wrote', () => {
    const headers = buildVideoSegmentHeaders(segment);
    expect(headers[VideoHeaders.durationSeconds]).toBe('2.000');
    expect(parseVideoSegment(Buffer.from('cam'), headers, Buffer.from('ts'))).toEqual({ streamId: 'cam', ...segment });
  });

  it('carries low-latency parts: index and independence, both required', () => {
    const part: VideoSegmentHeaders = { ...segment, kind: 'part', durationSeconds: 0.2, contentType: 'video/mp4', part: { index: 3, independent: false } };
    const headers = buildVideoSegmentHeaders(part);
    expect(headers[VideoHeaders.partIndex]).toBe('3');
    expect(parseVideoSegment('cam', headers, Buffer.from('moof'))).toEqual({ streamId: 'cam', ...part });
    expect(() => parseVideoSegment('cam', { ...headers, [VideoHeaders.partIndex]: undefined }, Buffer.from('moof'))).toThrow(/part-index/);
    expect(() => parseVideoSegment('cam', { ...headers, [VideoHeaders.partIndependent]: 'yes' }, Buffer.from('moof'))).toThrow(/part-independent/);
    expect(() => parseVideoSegment('cam', { ...headers, [VideoHeaders.durationSeconds]: '0' }, Buffer.from('moof'))).toThrow(/> 0/);
    // A media segment carries no part fields even if a stray header says otherwise.
    expect(parseVideoSegment('cam', { ...buildVideoSegmentHeaders(segment), [VideoHeaders.partIndex]: '1' }, Buffer.from('ts')).part).toBeNull();
  });

  it('rejects messages outside the video contract with the reason', () => {
    const headers = buildVideoSegmentHeaders(segment);
    expect(() => parseVideoSegment('BAD KEY', headers, Buffer.from('ts'))).toThrow('key is not a valid stream id');
    expect(() => parseVideoSegment('cam', { ...headers, [VideoHeaders.mediaSequence]: '-1' }, Buffer.from('ts'))).toThrow(/media-sequence/);
    expect(() => parseVideoSegment('cam', { ...headers, [VideoHeaders.durationSeconds]: '0' }, Buffer.from('ts'))).toThrow(/> 0/);
    expect(() => parseVideoSegment('cam', { ...headers, [VideoHeaders.contentType]: 'text/plain' }, Buffer.from('ts'))).toThrow(/content-type/);
    expect(() => parseVideoSegment('cam', headers, Buffer.alloc(0))).toThrow('segment value is empty');
  });
});
