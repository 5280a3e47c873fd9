import { segmentMeta } from '../testing/segment-meta.fixture';
import { SegmentWindowStore } from './segment-window';

const meta = segmentMeta;

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

  describe('with 10,000 streams that come and go', () => {
    // Not 0: lru-cache reads a start time of 0 as "no time-to-live".
    const clock = { ms: 1_000_000, now: () => clock.ms };
    beforeEach(() => (clock.ms = 1_000_000));

    it('never holds more than maxStreams windows, and gives evicted streams’ bytes back', () => {
      const store = new SegmentWindowStore(3, 1024 * 1024 * 1024, { maxStreams: 1_000, idleMs: 60_000, perf: clock });
      for (let i = 0; i < 10_000; i++) for (let sequence = 0; sequence < 3; sequence++) store.add(meta(`s${i}`, sequence), bytes(100));
      expect(store.streamCount).toBe(1_000);
      expect(store.bytes).toBe(1_000 * 3 * 100);
      expect(store.rendition('s9999', '360p')!.segments).toHaveLength(3);
      expect(store.rendition('s0', '360p')).toBeUndefined();
    });

    it('returns to empty once they have ended (no segment for idleMs) or were deleted', () => {
      const store = new SegmentWindowStore(3, 1024 * 1024 * 1024, { maxStreams: 20_000, idleMs: 60_000, perf: clock });
      for (let i = 0; i < 10_000; i++) for (let sequence = 0; sequence < 5; sequence++) store.add(meta(`s${i}`, sequence), bytes(100));
      expect(store.streamCount).toBe(10_000);
      expect(store.bytes).toBe(10_000 * 3 * 100);
      for (let i = 0; i < 10; i++) store.remove(`s${i}`);
      expect(store.streamCount).toBe(9_990);
      clock.ms += 30_000;
      store.add(meta('still-live', 0), bytes(100));
      clock.ms += 31_000; // the 9,990 ended streams are idle for 61 s; still-live for 31 s
      store.purgeNowAndThen();
      expect(store.streamCount).toBe(1);
      expect(store.bytes).toBe(100);
    });
  });
});
