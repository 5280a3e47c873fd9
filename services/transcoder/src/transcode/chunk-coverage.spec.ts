import { ChunkCoverage } from './chunk-coverage';

const chunk = (offset: number) => ({ offset: String(offset), sequence: offset, data: Buffer.alloc(0) });
const seconds = (s: number) => s * 90_000;

describe(ChunkCoverage.name, () => {
  it('releases chunks, in order, once every rendition has durable output past their media time', () => {
    const coverage = new ChunkCoverage();
    coverage.startRun(1);
    for (const [offset, pts] of [[0, 10], [1, 11], [2, 13], [3, 15]] as const) coverage.written(coverage.add(chunk(offset)), seconds(pts));
    // Media times relative to the run's first PTS: 0, 1, 3, 5 s.
    expect(coverage.segmentDurable(1, '720p', 2, ['720p', '360p'])).toEqual([]);
    expect(coverage.segmentDurable(1, '360p', 2, ['720p', '360p'])).toEqual(['0', '1']);
    expect(coverage.segmentDurable(1, '720p', 2, ['720p', '360p'])).toEqual([]);
    expect(coverage.segmentDurable(1, '360p', 2, ['720p', '360p'])).toEqual(['2']);
    expect(coverage.chunks.map((entry) => entry.offset)).toEqual(['3']);
  });

  it('keeps chunks of an earlier run pending for the next run to re-feed, and ignores that run\'s late segments', () => {
    const coverage = new ChunkCoverage();
    coverage.startRun(1);
    coverage.written(coverage.add(chunk(0)), seconds(1));
    coverage.written(coverage.add(chunk(1)), seconds(9));
    coverage.startRun(2);
    expect(coverage.segmentDurable(1, '360p', 100, ['360p'])).toEqual([]);
    for (const entry of coverage.chunks) coverage.written(entry, seconds(50));
    expect(coverage.segmentDurable(2, '360p', 1, ['360p'])).toEqual(['0', '1']);
  });

  it('places chunks after input skipped in place on the output timeline, which lacks the media left out', () => {
    const coverage = new ChunkCoverage();
    coverage.startRun(1);
    coverage.written(coverage.add(chunk(0)), seconds(0));
    coverage.written(coverage.add(chunk(1)), seconds(1));
    coverage.written(coverage.add(chunk(9)), seconds(9), 7.5); // chunks 2–8 skipped: output time 1.5 s
    expect(coverage.segmentDurable(1, '360p', 2, ['360p'])).toEqual(['0', '1', '9']);
  });

  it('handles the 33-bit PTS wrap', () => {
    const coverage = new ChunkCoverage();
    coverage.startRun(1);
    coverage.written(coverage.add(chunk(0)), 2 ** 33 - seconds(1));
    coverage.written(coverage.add(chunk(1)), seconds(1));
    expect(coverage.segmentDurable(1, '360p', 1.5, ['360p'])).toEqual(['0']);
    expect(coverage.segmentDurable(1, '360p', 1, ['360p'])).toEqual(['1']);
  });

  it('releases everything at the end', () => {
    const coverage = new ChunkCoverage();
    coverage.add(chunk(0));
    coverage.add(chunk(1));
    expect(coverage.releaseAll()).toEqual(['0', '1']);
    expect(coverage.size).toBe(0);
  });
});
