import { partitionForKey } from './partitioner';

describe(partitionForKey.name, () => {
  it('depends on the key and partition count only, and spreads keys over every partition', () => {
    expect(['cam', 'stream-1', 'a'].map((key) => partitionForKey('t', key, 6))).toEqual(
      ['cam', 'stream-1', 'a'].map((key) => partitionForKey('other-topic', key, 6)),
    );
    expect(partitionForKey('t', 'cam', 1)).toBe(0);
    const spread = new Set(Array.from({ length: 200 }, (_, i) => partitionForKey('t', `stream-${i}`, 6)));
    expect(spread.size).toBe(6);
  });
});
