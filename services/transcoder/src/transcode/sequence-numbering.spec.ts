import { SequenceNumbering } from './sequence-numbering';

describe(SequenceNumbering.name, () => {
  it('continues after the last published sequence with a discontinuity, and starts new renditions at 0', () => {
    const numbering = new SequenceNumbering();
    numbering.start(['720p', '360p'], new Map([['720p', 41]]));
    expect(numbering.peek('720p')).toEqual({ sequence: 42, discontinuity: true });
    expect(numbering.peek('360p')).toEqual({ sequence: 0, discontinuity: false });
  });

  it('starts new renditions at the given first sequence (low-latency: 1), never below it', () => {
    const numbering = new SequenceNumbering();
    numbering.start(['720p', '360p'], new Map([['720p', 41]]), 1);
    expect(numbering.peek('720p')).toEqual({ sequence: 42, discontinuity: true });
    expect(numbering.peek('360p')).toEqual({ sequence: 1, discontinuity: false });
  });

  it('advances only on acknowledgement, and flags every rendition after a break', () => {
    const numbering = new SequenceNumbering();
    numbering.start(['360p'], new Map());
    expect(numbering.peek('360p').sequence).toBe(0);
    expect(numbering.peek('360p').sequence).toBe(0); // not acknowledged (dropped): reused
    numbering.acknowledge('360p', 0);
    numbering.breakAll();
    expect(numbering.peek('360p')).toEqual({ sequence: 1, discontinuity: true });
    numbering.acknowledge('360p', 1);
    expect(numbering.peek('360p')).toEqual({ sequence: 2, discontinuity: false });
    expect(numbering.lastSequences()).toEqual(new Map([['360p', 1]]));
  });
});
