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

/** A low-latency part's metadata for specs: 0.2 s of 360p fMP4, part `index` of segment `msn` (every 5th part independent). */
export function partMeta(streamId: string, msn: number, index: number, extra: Partial<SegmentMeta> = {}): SegmentMeta {
  return segmentMeta(streamId, msn, {
    kind: 'part',
    durationSeconds: 0.2,
    part: { index, independent: index === 0 },
    contentType: 'video/mp4',
    programTime: new Date(Date.UTC(2026, 0, 1) + (msn * 5 + index) * 200).toISOString(),
    offset: String(msn * 100 + index),
    ...extra,
  });
}
