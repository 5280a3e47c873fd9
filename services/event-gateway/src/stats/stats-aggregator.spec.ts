import { type PlaybackEvent, playbackStatsValidator } from '@tributary/contracts';
import { DEFAULT_STATS_OPTIONS, StatsAggregator, percentile } from './stats-aggregator';

const STREAM = 'fixture-a';
const NOW = Date.parse('2026-11-22T10:01:00.500Z');

let sequence = 0;
function event(
  session: string,
  device: PlaybackEvent['device'],
  type: PlaybackEvent['event_type'],
  time: string,
  bitrate: number,
  extra: Partial<PlaybackEvent> = {},
): PlaybackEvent {
  sequence += 1;
  return {
    event_id: `e${sequence}`,
    session_id: session,
    user_id: `u-${session}`,
    stream_id: STREAM,
    event_type: type,
    position_seconds: 0,
    bitrate_kbps: bitrate,
    device,
    ts: `2026-11-22T${time}Z`,
    ...extra,
  };
}

/**
 * The fixture, in arrival order. Numbers below are worked out by hand in the comments of each
 * expectation; the 10 s window covers 10:00:51–10:01:00, the 60 s window 10:00:01–10:01:00 and the
 * active window 10:00:31–10:01:00.
 */
function fixture(): { events: PlaybackEvent[]; duplicate: PlaybackEvent; late: PlaybackEvent; future: PlaybackEvent } {
  sequence = 0;
  const s1 = [
    event('s1', 'web', 'play', '10:00:40.000', 0),
    event('s1', 'web', 'position', '10:00:41.500', 3000),
    event('s1', 'web', 'position', '10:00:45.000', 3000),
    event('s1', 'web', 'buffer_start', '10:00:46.000', 3000),
    event('s1', 'web', 'buffer_end', '10:00:48.000', 3000),
    event('s1', 'web', 'position', '10:00:50.000', 3000),
    event('s1', 'web', 'position', '10:00:55.000', 3000),
  ];
  const s2 = [
    event('s2', 'tv', 'play', '10:00:52.000', 0),
    event('s2', 'tv', 'position', '10:00:54.500', 6000),
    event('s2', 'tv', 'pause', '10:00:56.000', 6000),
    event('s2', 'tv', 'play', '10:00:58.000', 6000), // a resume, not a start
    event('s2', 'tv', 'position', '10:00:59.000', 6000),
  ];
  const s3 = [
    event('s3', 'mobile', 'play', '10:00:20.000', 0),
    event('s3', 'mobile', 'position', '10:00:24.000', 1000),
    event('s3', 'mobile', 'stop', '10:00:35.000', 1000),
  ];
  const cmcd = { source: 'cmcd' as const, buffer_length_ms: 4000 };
  const s4 = [
    event('s4', 'web', 'play', '10:00:56.000', 800, cmcd), // CMCD su
    event('s4', 'web', 'play', '10:00:56.500', 800, cmcd), // su again: same start
    event('s4', 'web', 'position', '10:00:57.000', 800, cmcd),
    event('s4', 'web', 'buffer_start', '10:00:58.000', 800, cmcd), // CMCD bs: a starvation
  ];
  const future = event('s5', 'tv', 'position', '10:01:30.000', 1500); // clock 30 s fast → counted at now
  const late = event('s6', 'web', 'position', '09:59:00.000', 2000); // older than the 90 s horizon
  return { events: [...s1, ...s2, ...s3, ...s4, future], duplicate: s1[5], late, future };
}

function feed(aggregator: StatsAggregator, events: PlaybackEvent[]): string[] {
  return events.map((e) => aggregator.add(e, NOW));
}

describe(StatsAggregator.name, () => {
  it('computes exactly the expected statistics for a fixture of events', () => {
    const aggregator = new StatsAggregator();
    const { events, duplicate, late, future } = fixture();
    const results = feed(aggregator, [...events, duplicate, late]);
    expect(results.filter((r) => r === 'applied')).toHaveLength(19);
    expect(results[events.indexOf(future)]).toBe('clamped');
    expect(results.slice(-2)).toEqual(['duplicate', 'late']);
    expect(aggregator.counters).toEqual({ applied: 19, clamped: 1, duplicates: 1, late: 1 });

    const stats = aggregator.snapshot(STREAM, NOW)!;
    expect(playbackStatsValidator.validate(stats)).toEqual({ ok: true, value: stats });
    expect(stats.generated_at).toBe('2026-11-22T10:01:00.500Z');
    // s1, s2, s4, s5 seen in the last 30 s; s3 was too, but its last event is stop.
    expect(stats.active_viewers).toBe(4);
    expect(stats.active_viewers_by_device).toEqual({ web: 2, tv: 2, mobile: 0 });

    const [tenSeconds, oneMinute] = stats.windows;
    expect(tenSeconds).toEqual({
      window_seconds: 10,
      from: '2026-11-22T10:00:51.000Z',
      to: '2026-11-22T10:01:01.000Z',
      events: 11,
      events_by_type: { play: 4, pause: 1, stop: 0, seek: 0, buffer_start: 1, buffer_end: 0, bitrate: 0, position: 5 },
      events_by_device: { web: 5, tv: 6, mobile: 0 },
      events_by_source: { player: 7, cmcd: 4, simulator: 0 },
      sessions: 4,
      plays_started: 2, // s2 at :52, s4 (CMCD su) at :56
      buffer_starvations: 1,
      bitrate: {
        samples: 10,
        avg_kbps: 3170, // (3000 + 4×6000 + 4×800 + 1500) / 10
        buckets: [
          { le_kbps: 500, count: 0 },
          { le_kbps: 1000, count: 4 },
          { le_kbps: 2000, count: 1 },
          { le_kbps: 3000, count: 1 },
          { le_kbps: 5000, count: 0 },
          { le_kbps: 8000, count: 4 },
          { le_kbps: null, count: 0 },
        ],
      },
      // watch: s1 :50→:55 5000, s2 2500 + 1500 + (pause) + 1000, s4 500 + 500 + 1000
      rebuffering: { buffering_ms: 0, watch_ms: 12000, ratio: 0 },
      startup: { samples: 2, p50_ms: 1000, p95_ms: 2500 },
    });
    expect(oneMinute).toEqual({
      window_seconds: 60,
      from: '2026-11-22T10:00:01.000Z',
      to: '2026-11-22T10:01:01.000Z',
      events: 20,
      events_by_type: { play: 6, pause: 1, stop: 1, seek: 0, buffer_start: 2, buffer_end: 1, bitrate: 0, position: 9 },
      events_by_device: { web: 11, tv: 6, mobile: 3 },
      events_by_source: { player: 16, cmcd: 4, simulator: 0 },
      sessions: 5,
      plays_started: 4,
      buffer_starvations: 1,
      bitrate: {
        samples: 17,
        avg_kbps: 48700 / 17,
        buckets: [
          { le_kbps: 500, count: 0 },
          { le_kbps: 1000, count: 6 },
          { le_kbps: 2000, count: 1 },
          { le_kbps: 3000, count: 6 },
          { le_kbps: 5000, count: 0 },
          { le_kbps: 8000, count: 4 },
          { le_kbps: null, count: 0 },
        ],
      },
      // watch: s1 15000, s2 5000, s3 15000, s4 2000; buffering s1 :46→:48
      rebuffering: { buffering_ms: 2000, watch_ms: 37000, ratio: 2000 / 37000 },
      startup: { samples: 4, p50_ms: 1500, p95_ms: 4000 },
    });
  });

  it('does not double-count when the same events are read again (restart, rebalance, retries)', () => {
    const once = new StatsAggregator();
    const twice = new StatsAggregator();
    const { events } = fixture();
    feed(once, events);
    feed(twice, events);
    const again = feed(twice, events);
    expect(again.every((result) => result === 'duplicate')).toBe(true);
    expect(twice.snapshot(STREAM, NOW)).toEqual(once.snapshot(STREAM, NOW));
  });

  it('recognises a clamped event read again later, when it lands in another second', () => {
    const aggregator = new StatsAggregator();
    const { future } = fixture();
    expect(aggregator.add(future, NOW)).toBe('clamped');
    expect(aggregator.add(future, NOW + 2_000)).toBe('duplicate');
    // By now its ts is no longer in the future: it would land in its own bucket, still a duplicate.
    expect(aggregator.add(future, NOW + 40_000)).toBe('duplicate');
    expect(aggregator.counters).toEqual({ applied: 0, clamped: 1, duplicates: 2, late: 0 });
  });

  it('bounds the remembered event ids per stream, forgetting the oldest second first', () => {
    const aggregator = new StatsAggregator({ ...DEFAULT_STATS_OPTIONS, maxEventIdsPerStream: 3 });
    const first = event('a', 'web', 'position', '10:00:50.000', 1000);
    const second = event('a', 'web', 'position', '10:00:51.000', 1000);
    const third = event('a', 'web', 'position', '10:00:52.000', 1000);
    const fourth = event('a', 'web', 'position', '10:00:53.000', 1000);
    expect(feed(aggregator, [first, second, third, fourth])).toEqual(['applied', 'applied', 'applied', 'applied']);
    // The guard dropped 10:00:50's ids: that event would count again; the newer ones are still known.
    expect(feed(aggregator, [first, second, third, fourth])).toEqual(['applied', 'duplicate', 'duplicate', 'duplicate']);
  });

  it('includes a late event within the lateness bound in the windows that cover it', () => {
    const aggregator = new StatsAggregator();
    aggregator.add(event('a', 'web', 'position', '10:00:58.000', 1000), NOW);
    const late = event('b', 'web', 'position', '10:00:45.000', 1000);
    expect(aggregator.add(late, NOW)).toBe('applied');
    const [tenSeconds, oneMinute] = aggregator.snapshot(STREAM, NOW)!.windows;
    expect(tenSeconds.events).toBe(1);
    expect(oneMinute.events).toBe(2);
  });

  it('reports an idle stream with zeros, then forgets it once its events leave the horizon', () => {
    const aggregator = new StatsAggregator();
    feed(aggregator, fixture().events);
    const idle = aggregator.snapshotAll(NOW + 70_000);
    expect(idle).toHaveLength(1);
    expect(idle[0].active_viewers).toBe(0);
    expect(idle[0].windows.map((w) => w.events)).toEqual([0, 0]);
    // The snapshot that finds the horizon empty is the last one (zeros), then the stream is gone.
    expect(aggregator.snapshotAll(NOW + 200_000).map((stats) => stats.active_viewers)).toEqual([0]);
    expect(aggregator.streamIds).toEqual([]);
    expect(aggregator.snapshotAll(NOW + 201_000)).toEqual([]);
  });

  it('keeps streams apart', () => {
    const aggregator = new StatsAggregator();
    aggregator.add(event('x', 'web', 'play', '10:00:59.000', 0), NOW);
    aggregator.add({ ...event('y', 'tv', 'play', '10:00:59.000', 0), stream_id: 'other' }, NOW);
    expect(aggregator.snapshot(STREAM, NOW)!.active_viewers_by_device).toEqual({ web: 1, tv: 0, mobile: 0 });
    expect(aggregator.snapshot('other', NOW)!.active_viewers_by_device).toEqual({ web: 0, tv: 1, mobile: 0 });
  });

  it('uses nearest-rank percentiles', () => {
    expect(percentile([], 0.5)).toBeNull();
    expect(percentile([7], 0.95)).toBe(7);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.95)).toBe(10);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.5)).toBe(5);
  });
});
