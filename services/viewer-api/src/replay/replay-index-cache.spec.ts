import { segmentMeta } from '../testing/segment-meta.fixture';
import { ReplayIndex } from './replay-index';
import { ReplayIndexCache } from './replay-index-cache';

const meta = (streamId: string, sequence: number) => segmentMeta(streamId, sequence, { timestampMs: 1_000 + sequence });

function indexWith(streamId: string, segments: number): ReplayIndex {
  const index = new ReplayIndex(streamId, 0, 0n);
  for (let sequence = 0; sequence < segments; sequence += 1) index.add(meta(streamId, sequence));
  return index;
}

describe(ReplayIndexCache.name, () => {
  // Not 0: lru-cache reads a start time of 0 as "no time-to-live".
  const clock = { ms: 1_000_000, now: () => clock.ms };
  beforeEach(() => (clock.ms = 1_000_000));

  it('counts an index by its segments, re-weighed when it is stored back after growing', () => {
    const cache = new ReplayIndexCache({ maxIndexes: 10, maxSegments: 100, idleTtlMs: 60_000, perf: clock });
    const index = indexWith('a', 10);
    cache.put('a@0', index);
    expect(cache.size).toEqual({ indexes: 1, segments: 10 });
    for (let sequence = 10; sequence < 40; sequence += 1) index.add(meta('a', sequence));
    cache.put('a@0', index);
    expect(cache.size).toEqual({ indexes: 1, segments: 40 });
    expect(cache.get('a@0')).toBe(index);
  });

  it('stays within its bounds for 10,000 streams replayed from many starts, and empties once they are idle', () => {
    const cache = new ReplayIndexCache({ maxIndexes: 64, maxSegments: 500, idleTtlMs: 60_000, perf: clock });
    for (let i = 0; i < 10_000; i += 1) {
      for (const since of [0, 60_000]) cache.put(`stream-${i}@${since}`, indexWith(`stream-${i}`, 10));
      expect(cache.size.indexes).toBeLessThanOrEqual(64);
      expect(cache.size.segments).toBeLessThanOrEqual(500);
    }
    expect(cache.get('stream-9999@60000')).toBeDefined();
    expect(cache.get('stream-0@0')).toBeUndefined();
    clock.ms += 61_000;
    cache.purgeStale();
    expect(cache.size).toEqual({ indexes: 0, segments: 0 });
  });
});
