import { TimelineJumps } from './timeline-jumps';

const s = (seconds: number) => seconds * 90_000;

describe(TimelineJumps.name, () => {
  it('marks the first segment of each rendition after a jump and moves its program time on by the media left out', () => {
    const jumps = new TimelineJumps();
    expect(jumps.written(1, s(10))).toBe(0);
    expect(jumps.written(1, s(13))).toBe(0);
    jumps.skipping(1);
    expect(jumps.written(1, s(21))).toBe(8); // 8 s left out at 3 s into the run
    for (const rendition of ['720p', '360p']) {
      expect(jumps.segment(1, rendition, 2)).toEqual({ discontinuity: false, shiftMs: 0 });
      expect(jumps.segment(1, rendition, 2)).toEqual({ discontinuity: false, shiftMs: 0 }); // 2–4 s: straddles the jump
      expect(jumps.segment(1, rendition, 2)).toEqual({ discontinuity: true, shiftMs: 8000 });
      expect(jumps.segment(1, rendition, 2)).toEqual({ discontinuity: false, shiftMs: 8000 });
    }
  });

  it('places a second jump on the output timeline (without the media left out before it)', () => {
    const jumps = new TimelineJumps();
    jumps.written(1, s(0));
    jumps.skipping(1);
    jumps.written(1, s(10)); // jump at 0 s, 10 s left out
    jumps.written(1, s(14));
    jumps.skipping(1);
    expect(jumps.written(1, s(30))).toBe(26); // jump at 4 s of output
    expect(jumps.segment(1, '360p', 2)).toEqual({ discontinuity: true, shiftMs: 10_000 });
    expect(jumps.segment(1, '360p', 2)).toEqual({ discontinuity: false, shiftMs: 10_000 });
    expect(jumps.segment(1, '360p', 2)).toEqual({ discontinuity: true, shiftMs: 26_000 });
  });

  it('leaves a gap ffmpeg fills (≤ 1 s) or a wrap unshifted, and forgets jumps when a new run starts', () => {
    const jumps = new TimelineJumps();
    jumps.written(1, s(5));
    jumps.skipping(1);
    expect(jumps.written(1, s(5.5))).toBe(0);
    jumps.skipping(1);
    expect(jumps.written(1, s(3))).toBe(0); // back in time: not a skip
    expect(jumps.written(2, s(100))).toBe(0);
    expect(jumps.segment(1, '360p', 2)).toEqual({ discontinuity: false, shiftMs: 0 }); // an old run's segment
    expect(jumps.segment(2, '360p', 2)).toEqual({ discontinuity: false, shiftMs: 0 });
  });
});
