import { DeliveredOffsets } from './delivered-offsets';

describe(DeliveredOffsets.name, () => {
  it('delivers every offset once per partition, in order', () => {
    const delivered = new DeliveredOffsets();
    expect(['0', '1', '2'].map((offset) => delivered.firstDelivery(0, offset))).toEqual([true, true, true]);
    expect(delivered.firstDelivery(1, '0')).toBe(true);
  });

  it('skips offsets re-read after a rebalance and delivers what follows them', () => {
    const delivered = new DeliveredOffsets();
    for (const offset of ['10', '11', '12']) delivered.firstDelivery(3, offset);
    // The group re-reads from the last committed offset (11).
    expect(['11', '12', '13'].map((offset) => delivered.firstDelivery(3, offset))).toEqual([false, false, true]);
  });

  it('compares offsets as numbers, not strings', () => {
    const delivered = new DeliveredOffsets();
    delivered.firstDelivery(0, '9');
    expect(delivered.firstDelivery(0, '10')).toBe(true);
    expect(delivered.firstDelivery(0, '9007199254740993')).toBe(true);
  });
});
