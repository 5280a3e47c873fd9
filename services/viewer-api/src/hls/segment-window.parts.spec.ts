import { partMeta, segmentMeta } from '../testing/segment-meta.fixture';
import { SegmentWindowStore } from './segment-window';

const bytes = (n: number, fill = 1) => Buffer.alloc(n, fill);

/** Adds parts 0..count-1 of segments from..to-1. */
function feed(store: SegmentWindowStore, from: number, to: number, count = 5, extra = {}) {
  for (let msn = from; msn < to; msn++) for (let index = 0; index < count; index++) store.add(partMeta('a', msn, index, extra), bytes(10, index));
}

describe(`${SegmentWindowStore.name} with low-latency parts`, () => {
  it('builds segments from parts: a later segment completes the previous one, whose bytes are its parts concatenated', () => {
    const store = new SegmentWindowStore(6, 1_000_000);
    feed(store, 1, 3);
    store.add(partMeta('a', 3, 0), bytes(10, 9));
    const window = store.rendition('a', '360p')!;
    expect(window.lowLatency).toBe(true);
    expect(window.segments.map((s) => s.meta.sequence)).toEqual([1, 2]);
    expect(window.segments[0].meta).toMatchObject({ kind: 'media', part: null, durationSeconds: expect.closeTo(1, 6) });
    expect(window.segments[0].bytes).toEqual(Buffer.concat([0, 1, 2, 3, 4].map((fill) => bytes(10, fill))));
    expect(window.segments[0].parts!.map((p) => p.bytes[0])).toEqual([0, 1, 2, 3, 4]);
    expect(window.pending).toMatchObject({ sequence: 3 });
    expect(window.lastPart!.meta.part).toEqual({ index: 0, independent: true });
    expect(window.findPart(2, 3)!.bytes).toEqual(bytes(10, 3));
    expect(window.findPart(3, 1)).toBeUndefined();
    expect(window.partTargetSeconds).toBe(0.2);
    // Bytes are held once: parts are views into their segment's buffer.
    expect(store.bytes).toBe(110);
  });

  it('ignores re-delivered and stale parts, and a rebuild that starts in the middle of a segment waits for the next one', () => {
    const store = new SegmentWindowStore(6, 1_000_000);
    expect(store.add(partMeta('a', 4, 2), bytes(10))).toBe('stale'); // no segment start yet
    expect(store.rendition('a', '360p')!.hasMedia).toBe(false);
    feed(store, 5, 6, 3);
    expect(store.add(partMeta('a', 5, 1), bytes(10))).toBe('duplicate');
    expect(store.add(partMeta('a', 4, 4), bytes(10))).toBe('stale');
    expect(store.bytes).toBe(30);
  });

  it('slides the window over whole segments and keeps the part target the longest part, rounded up to the ms', () => {
    const store = new SegmentWindowStore(2, 1_000_000);
    feed(store, 1, 5);
    store.add(partMeta('a', 5, 0, { durationSeconds: 0.2334 }), bytes(10));
    const window = store.rendition('a', '360p')!;
    expect(window.segments.map((s) => s.meta.sequence)).toEqual([3, 4]);
    expect(window.findPart(2, 0)).toBeUndefined();
    expect(window.partTargetSeconds).toBe(0.234);
    expect(store.bytes).toBe(110);
  });

  it('starts over when a new transcode session goes back in numbering, or the stream switches between parts and whole segments', () => {
    const store = new SegmentWindowStore(6, 1_000_000);
    feed(store, 7, 9);
    expect(store.add(partMeta('a', 1, 0, { transcodeSession: 't2' }), bytes(10))).toBe('reset');
    let window = store.rendition('a', '360p')!;
    expect(window.segments).toHaveLength(0);
    expect(window.pending!.sequence).toBe(1);
    expect(store.bytes).toBe(10);
    expect(store.add(segmentMeta('a', 2, { transcodeSession: 't3' }), bytes(50))).toBe('reset');
    window = store.rendition('a', '360p')!;
    expect(window.lowLatency).toBe(false);
    expect(window.pending).toBeNull();
    expect(store.bytes).toBe(50);
  });

  it('completes the last segment of an ended stream on request', () => {
    const store = new SegmentWindowStore(6, 1_000_000);
    feed(store, 1, 2, 3);
    const window = store.rendition('a', '360p')!;
    expect(window.completePending()!.meta).toMatchObject({ sequence: 1, durationSeconds: expect.closeTo(0.6, 6) });
    expect(window.lastSequence).toBe(1);
    expect(window.pending).toBeNull();
    expect(store.bytes).toBe(30);
  });
});
