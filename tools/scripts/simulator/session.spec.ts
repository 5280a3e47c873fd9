import { playbackEventValidator, type PlaybackEvent } from '@tributary/contracts';
import { seededRandom } from '@tributary/devkit';
import { BITRATE_LADDER_KBPS, PlaybackSession } from './session';

function runSession(seed: number, lengthEvents = 120, stepMs = 1_000): PlaybackEvent[] {
  let id = 0;
  const session = new PlaybackSession({ userId: 'u-1', streamId: 'sim-stream-1', random: seededRandom(seed), lengthEvents, newId: () => `id-${(id += 1)}` });
  const events: PlaybackEvent[] = [];
  let now = Date.parse('2026-11-22T10:00:00Z');
  while (!session.isFinished) {
    events.push(session.next(now));
    now += stepMs;
    if (events.length > 10_000) throw new Error('session never stopped');
  }
  return events;
}

const seeds = Array.from({ length: 40 }, (_, i) => i + 1);

describe(PlaybackSession.name, () => {
  it('starts with play → buffer_start → buffer_end and ends with exactly one stop', () => {
    for (const seed of seeds) {
      const types = runSession(seed).map((e) => e.event_type);
      expect(types.slice(0, 3)).toEqual(['play', 'buffer_start', 'buffer_end']);
      expect(types.at(-1)).toBe('stop');
      expect(types.filter((t) => t === 'stop')).toHaveLength(1);
    }
  });

  it('emits only events that pass the playback-event contract', () => {
    for (const seed of seeds.slice(0, 10)) {
      for (const event of runSession(seed)) expect(playbackEventValidator.validate(event)).toEqual({ ok: true, value: event });
    }
  });

  it('pairs every buffer_start with a buffer_end, resumes a pause with play (or stops), and buffers after a seek', () => {
    for (const seed of seeds) {
      const types = runSession(seed).map((e) => e.event_type);
      types.forEach((type, i) => {
        const next = types[i + 1];
        if (type === 'buffer_start') expect(next).toBe('buffer_end');
        if (type === 'pause') expect(['play', 'stop']).toContain(next);
        if (type === 'seek') expect(next).toBe('buffer_start');
        if (type === 'buffer_end') expect(types[i - 1]).toBe('buffer_start');
      });
    }
  });

  it('produces the mix of a real player: mostly heartbeats, some bitrate switches, pauses, seeks and re-buffers', () => {
    const types = seeds.flatMap((seed) => runSession(seed, 200)).map((e) => e.event_type);
    const share = (type: string) => types.filter((t) => t === type).length / types.length;
    expect(share('position')).toBeGreaterThan(0.5);
    for (const type of ['bitrate', 'pause', 'seek', 'buffer_start']) expect(share(type)).toBeGreaterThan(0.01);
  });

  it('advances the playhead with the time spent playing, not while paused or buffering', () => {
    const events = runSession(7, 200, 2_000);
    for (let i = 1; i < events.length; i += 1) {
      const [before, after] = [events[i - 1], events[i]];
      const delta = after.position_seconds - before.position_seconds;
      if (before.event_type === 'seek' || after.event_type === 'seek') continue;
      if (before.event_type === 'pause' || before.event_type === 'buffer_start' || before.event_type === 'play' && i === 1) {
        expect(delta).toBe(0);
      } else {
        expect(delta).toBeCloseTo(2, 5);
      }
    }
  });

  it('switches bitrate within the ladder, and only on bitrate events', () => {
    const events = runSession(3, 300);
    for (let i = 1; i < events.length; i += 1) {
      const [before, after] = [events[i - 1], events[i]];
      expect(BITRATE_LADDER_KBPS).toContain(after.bitrate_kbps);
      if (after.event_type !== 'bitrate') expect(after.bitrate_kbps).toBe(before.bitrate_kbps);
      else expect(after.bitrate_kbps).not.toBe(before.bitrate_kbps);
    }
  });

  it('keeps one session, user, stream and device, with a unique id per event', () => {
    const events = runSession(11);
    expect(new Set(events.map((e) => e.session_id)).size).toBe(1);
    expect(new Set(events.map((e) => `${e.user_id}/${e.stream_id}/${e.device}`)).size).toBe(1);
    expect(new Set(events.map((e) => e.event_id)).size).toBe(events.length);
    expect(events.every((e) => e.source === 'simulator')).toBe(true);
  });

  it('is reproducible from a seed', () => {
    expect(runSession(5)).toEqual(runSession(5));
  });

  it('refuses to continue after stop', () => {
    const session = new PlaybackSession({ userId: 'u', streamId: 's', random: seededRandom(1), lengthEvents: 4 });
    while (!session.isFinished) session.next(Date.now());
    expect(() => session.next(Date.now())).toThrow(/has stopped/);
  });
});
