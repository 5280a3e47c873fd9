import { RewindGate } from './rewind';

describe(RewindGate.name, () => {
  it('skips batches fetched at or after the end seen before the start until one from the rewound range arrives', () => {
    const gate = new RewindGate();
    gate.close(new Map([[0, 100n]]));
    expect(gate.passes(1, '500')).toBe(true); // nothing to rebuild there: never gated
    expect(gate.passes(0, '120')).toBe(false); // fetched from the latest offset before the seek landed
    expect(gate.passes(0, '40')).toBe(true); // the rewound range
    expect(gate.passes(0, '130')).toBe(true); // open for good
  });
});
