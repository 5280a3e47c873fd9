import { ViewerPopulation, streamIdOf } from './population';
import { seededRandom } from '@tributary/devkit';

describe(ViewerPopulation.name, () => {
  it('takes exactly the asked number of events, keeping each session in order', () => {
    const population = new ViewerPopulation({ streams: 3, users: 10, random: seededRandom(1) });
    const events = Array.from({ length: 50 }, (_, i) => population.take(20, 1_000 * i)).flat();
    expect(events).toHaveLength(1_000);
    const bySession = new Map<string, string[]>();
    for (const event of events) bySession.set(event.session_id, [...(bySession.get(event.session_id) ?? []), event.event_type]);
    for (const types of bySession.values()) expect(types[0]).toBe('play');
  });

  it('keeps the viewers and replaces finished sessions with new ones', () => {
    const population = new ViewerPopulation({ streams: 2, users: 5, random: seededRandom(2) });
    const events = population.take(5_000, Date.now());
    expect(new Set(events.map((e) => e.user_id)).size).toBe(5);
    expect(new Set(events.map((e) => e.session_id)).size).toBeGreaterThan(5);
  });

  it('spreads viewers over the streams with the first stream the most popular', () => {
    const population = new ViewerPopulation({ streams: 5, users: 2_000, random: seededRandom(3) });
    const events = population.take(2_000, Date.now());
    const count = (stream: string) => events.filter((e) => e.stream_id === stream).length;
    expect(count(streamIdOf(0))).toBeGreaterThan(count(streamIdOf(4)));
    expect(new Set(events.map((e) => e.stream_id)).size).toBe(5);
  });

  it('lets a starting session reach its first progress event within a few events, however many viewers', () => {
    const population = new ViewerPopulation({ streams: 3, users: 500, random: seededRandom(7) });
    const events = population.take(5_000, Date.now());
    const playAt = new Map<string, number>();
    const startupGaps: number[] = [];
    events.forEach((event, index) => {
      if (event.event_type === 'play' && !playAt.has(event.session_id)) playAt.set(event.session_id, index);
      if (event.event_type === 'position' && playAt.has(event.session_id)) {
        startupGaps.push(index - playAt.get(event.session_id)!);
        playAt.set(event.session_id, Infinity);
      }
    });
    expect(startupGaps.length).toBeGreaterThan(100);
    // play, buffer_start, buffer_end, position: without priority these would be ~500 events apart.
    expect(Math.max(...startupGaps.filter(Number.isFinite))).toBeLessThanOrEqual(10);
  });
});
