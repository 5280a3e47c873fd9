import type { PlaybackStats } from '@tributary/contracts';
import { StatsStore } from './stats-store';

const snapshot = (streamId: string, generatedAt: string, viewers = 1): PlaybackStats =>
  ({ stream_id: streamId, generated_at: generatedAt, active_viewers: viewers }) as unknown as PlaybackStats;

describe(StatsStore.name, () => {
  // Not 0: lru-cache reads a start time of 0 as "no time-to-live".
  const clock = { ms: 1_000_000, now: () => clock.ms };
  beforeEach(() => (clock.ms = 1_000_000));

  it('never moves a stream back in time', () => {
    const store = new StatsStore({ maxStreams: 10, ttlMs: 60_000, perf: clock });
    expect(store.put(snapshot('a', '2026-11-22T10:00:02.000Z', 2))).toBe(true);
    expect(store.put(snapshot('a', '2026-11-22T10:00:01.000Z', 1))).toBe(false);
    expect(store.get('a')?.active_viewers).toBe(2);
  });

  it('holds at most maxStreams of 10,000 streams and forgets them all once they have ended', () => {
    const store = new StatsStore({ maxStreams: 5_000, ttlMs: 60_000, perf: clock });
    for (let i = 0; i < 10_000; i += 1) store.put(snapshot(`stream-${i}`, '2026-11-22T10:00:00.000Z'));
    expect(store.size).toBe(5_000);
    expect(store.get('stream-9999')).toBeDefined();
    expect(store.get('stream-0')).toBeUndefined();
    clock.ms += 61_000;
    store.purgeNowAndThen();
    expect(store.size).toBe(0);
  });
});
