import type { SegmentMeta } from './segment-message';
import { SegmentWindowStore } from './segment-window';

function meta(streamId: string, sequence: number, extra: Partial<SegmentMeta> = {}): SegmentMeta {
  return {
    streamId,
    rendition: '360p',
    kind: 'media',
    sequence,
    durationSeconds: 2,
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

const bytes = (n: number) => Buffer.alloc(n, 1);

describe(SegmentWindowStore.name, () => {
  it('keeps a sliding window of N segments and ignores duplicates and stale re-deliveries', () => {
    const store = new SegmentWindowStore(3, 1_000_000);
    for (let i = 0; i < 5; i++) store.add(meta('a', i), bytes(10));
    expect(store.add(meta('a', 4), bytes(10))).toBe('duplicate');
    expect(store.add(meta('a', 1), bytes(10))).toBe('stale');
    expect(store.rendition('a', '360p')!.segments.map((s) => s.meta.sequence)).toEqual([2, 3, 4]);
    expect(store.bytes).toBe(30);
  });

  it('counts discontinuities that slid out of the window', () => {
    const store = new SegmentWindowStore(2, 1_000_000);
    store.add(meta('a', 0), bytes(1));
    store.add(meta('a', 1, { discontinuity: true }), bytes(1));
    store.add(meta('a', 2), bytes(1));
    const window = store.rendition('a', '360p')!;
    expect(window.discontinuitySequence).toBe(1); // segment 1 leads the window and carries it
    store.add(meta('a', 3), bytes(1));
    expect(window.discontinuitySequence).toBe(1); // slid out: still counted
    store.add(meta('a', 4, { discontinuity: true }), bytes(1));
    store.add(meta('a', 5), bytes(1));
    expect(window.discontinuitySequence).toBe(2);
  });

  it('starts over when a new transcode session restarts numbering', () => {
    const store = new SegmentWindowStore(3, 1_000_000);
    store.add(meta('a', 10), bytes(5));
    expect(store.add(meta('a', 0, { transcodeSession: 't2' }), bytes(5))).toBe('reset');
    expect(store.rendition('a', '360p')!.segments.map((s) => s.meta.sequence)).toEqual([0]);
    expect(store.bytes).toBe(5);
  });

  it('evicts the least recently used stream first when over the byte budget', () => {
    const store = new SegmentWindowStore(10, 100);
    for (let i = 0; i < 4; i++) store.add(meta('old', i), bytes(20));
    store.rendition('old', '360p'); // a read makes "old" recent…
    for (let i = 0; i < 4; i++) store.add(meta('new', i), bytes(20)); // …but writing "new" makes it the most recent
    expect(store.bytes).toBeLessThanOrEqual(100);
    expect(store.rendition('new', '360p')!.segments).toHaveLength(4);
    expect(store.rendition('old', '360p')!.segments.map((s) => s.meta.sequence)).toEqual([3]);
    expect(store.evictedForBytes).toBe(3);
  });

  it('keeps at least the newest segment of the stream being written', () => {
    const store = new SegmentWindowStore(10, 50);
    for (let i = 0; i < 3; i++) store.add(meta('big', i), bytes(40));
    expect(store.rendition('big', '360p')!.segments.map((s) => s.meta.sequence)).toEqual([2]);
  });
});
