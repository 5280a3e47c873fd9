import type { SegmentMeta } from '../hls/segment-message';

/** A media segment's metadata for specs: one 2 s 360p TS segment at `sequence` (offset = sequence). */
export function segmentMeta(streamId: string, sequence: number, extra: Partial<SegmentMeta> = {}): SegmentMeta {
  return {
    streamId,
    rendition: '360p',
    kind: 'media',
    sequence,
    durationSeconds: 2,
    part: null,
    programTime: null,
    discontinuity: false,
    transcodeSession: 't1',
    contentType: 'video/mp2t',
    partition: 0,
    offset: String(sequence),
    timestampMs: 0,
    traceparent: null,
    ...extra,
  };
}
