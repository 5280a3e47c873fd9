import { LastSequenceStore } from './last-sequences';

describe(LastSequenceStore.name, () => {
  it('is bounded by count (least recently used first) and age, and forgets streams of partitions no longer owned', () => {
    let now = 1_000; // lru-cache treats a start time of 0 as "no TTL"
    const store = new LastSequenceStore(2, 1000, () => now);
    store.set('a', 0, new Map([['360p', 1]]));
    store.set('b', 1, new Map([['360p', 2]]));
    store.set('c', 1, new Map([['360p', 3]]));
    expect(store.has('a')).toBe(false);
    expect(store.get('b')).toEqual(new Map([['360p', 2]]));
    store.keepPartitions(new Set([0]));
    expect(store.size).toBe(0);
    store.set('d', 0, new Map());
    now += 1001;
    expect(store.get('d')).toBeUndefined();
  });
});
