import { PartClock } from './part-clock';

describe('PartClock', () => {
  it('dates parts from the run’s first input chunk plus their media start, so dates advance by exactly the durations', () => {
    const clock = new PartClock();
    clock.inputWritten(1_000_000);
    clock.inputWritten(1_000_500); // later chunks do not move media time 0
    // ffmpeg works through the probe buffer at once: parts cut 5 ms apart keep 200 ms apart dates.
    expect(clock.programTimeMs(0.0, 0.2, 1_002_000)).toBe(1_000_000);
    expect(clock.programTimeMs(0.2, 0.2, 1_002_005)).toBe(1_000_200);
    expect(clock.programTimeMs(0.4, 0.2, 1_002_010)).toBe(1_000_400);
    // A late part (the machine lagged) is dated by its media, not by when it was cut.
    expect(clock.programTimeMs(10.4, 0.2, 1_030_000)).toBe(1_010_400);
  });

  it('dates every rendition of the run alike for the same media time', () => {
    const clock = new PartClock();
    clock.inputWritten(5_000);
    const top = clock.programTimeMs(1.0, 0.2, 9_000);
    const bottom = clock.programTimeMs(1.0, 0.2, 9_040);
    expect(top).toBe(bottom);
  });

  it('falls back to “now minus the part’s end” without an input time or with an implausible start', () => {
    const noInput = new PartClock();
    expect(noInput.programTimeMs(0.4, 0.2, 10_000)).toBe(10_000 - 600 + 400);
    const oddStart = new PartClock();
    oddStart.inputWritten(1_000);
    expect(oddStart.programTimeMs(3600, 0.2, 10_000_000)).toBe(10_000_000 - 200);
    expect(oddStart.programTimeMs(3600.2, 0.2, 10_000_100)).toBe(10_000_000);
  });
});
