import { LatencyGovernor } from './latency-governor';

const bound = 6_000;
const restore = 20_000;

/** Drives a governor with a fake clock, one decision per second. */
function drive(governor: LatencyGovernor, from: number, to: number, delay: (t: number) => number) {
  const actions: { t: number; action: string }[] = [];
  for (let t = from; t < to; t += 1_000) {
    const action = governor.decide(t, delay(t));
    if (action) actions.push({ t, action });
  }
  return actions;
}

describe(LatencyGovernor.name, () => {
  it('does nothing while the stream stays within its bound', () => {
    const governor = new LatencyGovernor({ boundMs: bound, restoreAfterMs: restore, canDropRendition: true, canFasterPreset: true });
    expect(drive(governor, 0, 120_000, () => 5_000)).toEqual([]);
    expect(governor.level).toBe(0);
  });

  it('sheds in order, one step per bound while over it: top rendition, faster preset, then skips to live', () => {
    const governor = new LatencyGovernor({ boundMs: bound, restoreAfterMs: restore, canDropRendition: true, canFasterPreset: true });
    // The first decision needs a whole bound's worth of samples over the bound.
    expect(drive(governor, 0, 24_000, () => 9_000)).toEqual([
      { t: 5_000, action: 'drop_rendition' },
      { t: 11_000, action: 'faster_preset' },
      { t: 17_000, action: 'skip_to_live' },
      { t: 23_000, action: 'skip_to_live' },
    ]);
    expect(governor.level).toBe(2);
  });

  it('restores in reverse order after the delay stayed under half the bound for the restore period, one step at a time', () => {
    const governor = new LatencyGovernor({ boundMs: bound, restoreAfterMs: restore, canDropRendition: true, canFasterPreset: true });
    drive(governor, 0, 12_000, () => 9_000);
    expect(governor.level).toBe(2);
    // Between half the bound and the bound: no headroom, nothing comes back.
    expect(drive(governor, 12_000, 60_000, () => 4_000)).toEqual([]);
    expect(drive(governor, 60_000, 120_000, () => 2_000)).toEqual([
      { t: 80_000, action: 'restore_preset' },
      { t: 100_000, action: 'restore_rendition' },
    ]);
    expect(governor.level).toBe(0);
  });

  it('skips straight to a faster preset for a one-rendition ladder, and to live when nothing else can be shed', () => {
    const governor = new LatencyGovernor({ boundMs: bound, restoreAfterMs: restore, canDropRendition: false, canFasterPreset: true });
    expect(drive(governor, 0, 12_000, () => 9_000).map((a) => a.action)).toEqual(['faster_preset', 'skip_to_live']);
    const bare = new LatencyGovernor({ boundMs: bound, restoreAfterMs: restore, canDropRendition: false, canFasterPreset: false });
    expect(drive(bare, 0, 6_000, () => 9_000).map((a) => a.action)).toEqual(['skip_to_live']);
    expect(bare.level).toBe(0);
  });

  it('sheds again when a restore brings the delay back over the bound', () => {
    const governor = new LatencyGovernor({ boundMs: bound, restoreAfterMs: restore, canDropRendition: true, canFasterPreset: false });
    expect(drive(governor, 0, 6_000, () => 9_000)).toEqual([{ t: 5_000, action: 'drop_rendition' }]);
    expect(drive(governor, 6_000, 40_000, () => 1_000)).toEqual([{ t: 26_000, action: 'restore_rendition' }]);
    expect(drive(governor, 40_000, 47_000, () => 9_000)).toEqual([{ t: 46_000, action: 'drop_rendition' }]);
  });

  it('once only skipping is left, skips in place as soon as the delay is over the bound, at most once per half a bound', () => {
    const governor = new LatencyGovernor({ boundMs: bound, restoreAfterMs: restore, canDropRendition: false, canFasterPreset: false });
    const actions: number[] = [];
    for (let t = 0; t < 10_000; t += 1_000) if (governor.decide(t, 7_000, 'in_place')) actions.push(t);
    expect(actions).toEqual([0, 3_000, 6_000, 9_000]);
    // Within the bound: nothing, even in place.
    expect(governor.decide(20_000, 5_000, 'in_place')).toBeUndefined();
  });

  it('does not skip while the running ffmpeg holds everything (nothing queued to skip in place), nor skip early before the last step', () => {
    const governor = new LatencyGovernor({ boundMs: bound, restoreAfterMs: restore, canDropRendition: true, canFasterPreset: false });
    // Not the last step yet: the first action still waits for a whole bound over it.
    const early: { t: number; action: string }[] = [];
    for (let t = 0; t < 6_000; t += 1_000) {
      const action = governor.decide(t, 9_000, 'in_place');
      if (action) early.push({ t, action });
    }
    expect(early).toEqual([{ t: 5_000, action: 'drop_rendition' }]);
    const later: string[] = [];
    for (let t = 6_000; t < 40_000; t += 1_000) {
      const action = governor.decide(t, 9_000, 'none');
      if (action) later.push(action);
    }
    expect(later).toEqual([]);
    expect(governor.decide(40_000, 9_000, 'restart')).toBe('skip_to_live');
  });

  it('sheds nothing for spikes: the delay must stay over the bound for a whole bound', () => {
    const governor = new LatencyGovernor({ boundMs: bound, restoreAfterMs: restore, canDropRendition: true, canFasterPreset: true });
    // A sawtooth that peaks far over the bound for 3 s in every 10 s, with troughs under it.
    expect(drive(governor, 0, 120_000, (t) => (t % 10_000 < 3_000 ? 20_000 : 2_000))).toEqual([]);
  });
});
