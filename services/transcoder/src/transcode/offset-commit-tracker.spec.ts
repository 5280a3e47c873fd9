import { OffsetCommitTracker } from './offset-commit-tracker';

describe(OffsetCommitTracker.name, () => {
  it('commits nothing until the first tracked offset is done', () => {
    const tracker = new OffsetCommitTracker();
    tracker.track(0, '10');
    tracker.track(0, '11');
    tracker.markDone(0, '11');
    expect(tracker.committable(0)).toBeUndefined();
    tracker.markDone(0, '10');
    expect(tracker.committable(0)).toBe('12');
  });

  it('stops at the first offset that is still pending when streams finish out of order', () => {
    const tracker = new OffsetCommitTracker();
    for (const offset of ['5', '6', '7', '8']) tracker.track(3, offset);
    tracker.markDone(3, '5');
    tracker.markDone(3, '7');
    tracker.markDone(3, '8');
    expect(tracker.committable(3)).toBe('6');
    expect(tracker.pending(3)).toBe(3);
    tracker.markDone(3, '6');
    expect(tracker.committable(3)).toBe('9');
    expect(tracker.pending(3)).toBe(0);
  });

  it('reports a position only when it moved', () => {
    const tracker = new OffsetCommitTracker();
    tracker.track(1, '0');
    tracker.markDone(1, '0');
    expect(tracker.committable(1)).toBe('1');
    expect(tracker.committable(1)).toBeUndefined();
  });

  it('keeps partitions independent and forgets a dropped one', () => {
    const tracker = new OffsetCommitTracker();
    tracker.track(0, '1');
    tracker.track(1, '1');
    tracker.markDone(1, '1');
    expect(tracker.committable(0)).toBeUndefined();
    expect(tracker.committable(1)).toBe('2');
    tracker.drop(0);
    tracker.markDone(0, '1');
    expect(tracker.committable(0)).toBeUndefined();
  });

  it('handles offsets beyond 2^53', () => {
    const tracker = new OffsetCommitTracker();
    tracker.track(0, '9007199254740993');
    tracker.markDone(0, '9007199254740993');
    expect(tracker.committable(0)).toBe('9007199254740994');
  });
});
