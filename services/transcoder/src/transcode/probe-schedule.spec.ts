import { ProbeSchedule } from './probe-schedule';

describe(ProbeSchedule.name, () => {
  it('is due by size, doubling the threshold after each failure up to the limit', () => {
    const schedule = new ProbeSchedule(100 * 1024, 300 * 1024);
    expect(schedule.added(60 * 1024, 0)).toBe(false);
    expect(schedule.added(60 * 1024, 100)).toBe(true);
    schedule.attempted(100);
    schedule.failed();
    expect(schedule.added(60 * 1024, 200)).toBe(false);
    expect(schedule.added(60 * 1024, 300)).toBe(true);
    schedule.failed();
    expect(schedule.exhausted).toBe(false);
    expect(schedule.added(60 * 1024, 400)).toBe(true);
    expect(schedule.exhausted).toBe(true);
  });

  it('is due every 2 s for a low-bitrate source once 16 KiB are buffered', () => {
    const schedule = new ProbeSchedule(1024 * 1024, 4 * 1024 * 1024);
    expect(schedule.added(20 * 1024, 0)).toBe(false);
    expect(schedule.added(1, 1999)).toBe(false);
    expect(schedule.added(1, 2000)).toBe(true);
    schedule.attempted(2000);
    expect(schedule.added(1, 3000)).toBe(false);
    expect(schedule.added(1, 4000)).toBe(true);
  });
});
