import { BacklogSkips } from './backlog-skips';

describe(BacklogSkips.name, () => {
  it('skips a late session from its first chunk on and reports it as first once', () => {
    const skips = new BacklogSkips();
    expect(skips.decide('cam', 's1', true, undefined)).toBe('first');
    expect(skips.decide('cam', 's1', true, undefined)).toBe('more');
    expect(skips.skipped('cam')).toBe(2);
  });

  it('transcodes fresh chunks, and a fresh chunk of a skipped session ends its skip', () => {
    const skips = new BacklogSkips();
    expect(skips.decide('cam', 's1', false, undefined)).toBeUndefined();
    skips.decide('cam', 's1', true, undefined);
    expect(skips.decide('cam', 's1', false, undefined)).toBeUndefined();
    expect(skips.skipped('cam')).toBe(0);
    expect(skips.decide('cam', 's1', true, undefined)).toBe('first');
  });

  it('keeps transcoding a session whose pipeline runs when its chunks fall behind', () => {
    const skips = new BacklogSkips();
    expect(skips.decide('cam', 's1', true, { isFinished: false, publishSessionId: 's1' })).toBeUndefined();
    expect(skips.decide('cam', 's2', true, { isFinished: false, publishSessionId: 's1' })).toBe('first');
    expect(skips.decide('cam', 's3', true, { isFinished: true, publishSessionId: 's3' })).toBe('first');
  });

  it('keeps streams apart', () => {
    const skips = new BacklogSkips();
    skips.decide('a', 's1', true, undefined);
    expect(skips.decide('b', 's1', true, undefined)).toBe('first');
  });
});
