import type { PlaybackStats } from '@tributary/contracts';
import { StatsHistory } from './stats-history';

/** Only the fields StatsHistory reads; the rest of a snapshot does not matter here. */
function snapshot(streamId: string, generatedAt: string, viewers = 1): PlaybackStats {
  return {
    stream_id: streamId,
    generated_at: generatedAt,
    active_viewers: viewers,
    windows: [{ bitrate: { avg_kbps: 2500 } }],
  } as unknown as PlaybackStats;
}

describe(StatsHistory.name, () => {
  // Not 0: lru-cache reads a start time of 0 as "no time-to-live".
  const clock = { ms: 1_000_000, now: () => clock.ms };
  beforeEach(() => (clock.ms = 1_000_000));

  it('keeps the newest snapshot and the chart points of the history span, ignoring older re-reads', () => {
    const history = new StatsHistory({ historyMs: 60_000, maxStreams: 10, perf: clock });
    expect(history.accept(snapshot('a', '2026-11-22T10:00:00.000Z', 1))).toBe(true);
    expect(history.accept(snapshot('a', '2026-11-22T10:00:30.000Z', 2))).toBe(true);
    expect(history.accept(snapshot('a', '2026-11-22T10:00:10.000Z', 9))).toBe(false);
    expect(history.accept(snapshot('a', '2026-11-22T10:01:20.000Z', 3))).toBe(true);
    expect(history.latest('a')?.active_viewers).toBe(3);
    const [, entry] = [...history.entries()][0];
    expect(entry.points.map((point) => point.viewers)).toEqual([2, 3]);
  });

  it('returns to empty after 10,000 streams come and go (time-to-live), and never holds more than maxStreams', () => {
    const history = new StatsHistory({ historyMs: 60_000, maxStreams: 2_000, perf: clock });
    for (let i = 0; i < 10_000; i += 1) history.accept(snapshot(`stream-${i}`, '2026-11-22T10:00:00.000Z'));
    expect(history.size).toBe(2_000);
    clock.ms += 61_000; // no snapshot for any of them since: they ended
    history.purgeNowAndThen();
    expect(history.size).toBe(0);
    expect([...history.entries()]).toEqual([]);
  });
});
