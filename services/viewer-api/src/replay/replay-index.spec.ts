import { partMeta, segmentMeta } from '../testing/segment-meta.fixture';
import { ReplayIndex } from './replay-index';

describe(ReplayIndex.name, () => {
  it('indexes low-latency parts as replay segments: each part once, contiguous parts without discontinuity', () => {
    const index = new ReplayIndex('a', 0, 0n);
    for (let msn = 1; msn <= 2; msn++) for (let part = 0; part < 5; part++) index.add(partMeta('a', msn, part));
    index.add(partMeta('a', 2, 4)); // re-sent
    index.add(partMeta('a', 4, 0)); // segment 3 is missing: a gap
    const listed = index.segments('360p', null);
    expect(listed.map(({ meta }) => `${meta.sequence}.${meta.part!.index}`)).toEqual([...['1', '2'].flatMap((m) => [0, 1, 2, 3, 4].map((p) => `${m}.${p}`)), '4.0']);
    expect(listed.filter(({ discontinuity }) => discontinuity).map(({ meta }) => meta.sequence)).toEqual([4]);
  });

  it('a replay from a time starts at the independent part before it', () => {
    const index = new ReplayIndex('a', 0, 0n);
    for (let part = 0; part < 5; part++) index.add(partMeta('a', 1, part));
    const fromMs = Date.parse(partMeta('a', 1, 3).programTime!) + 50;
    expect(index.segments('360p', fromMs).map(({ meta }) => meta.part!.index)).toEqual([0, 1, 2, 3, 4]);
  });

  it('whole segments: from a time, the segment containing it on', () => {
    const index = new ReplayIndex('a', 0, 0n);
    for (let sequence = 0; sequence < 4; sequence++) index.add(segmentMeta('a', sequence, { programTime: new Date(Date.UTC(2026, 0, 1) + sequence * 2000).toISOString() }));
    expect(index.segments('360p', Date.UTC(2026, 0, 1) + 4500).map(({ meta }) => meta.sequence)).toEqual([2, 3]);
  });
});
