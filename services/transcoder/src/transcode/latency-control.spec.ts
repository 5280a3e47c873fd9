import { DEFAULT_LADDER } from '@tributary/contracts';
import type { SourceInfo } from '@tributary/media';
import pino from 'pino';
import { LatencyControl } from './latency-control';

const hd: SourceInfo = { width: 1920, height: 1080, hasVideo: true, hasAudio: true, frameRate: 30 };

function control(restoreAfterMs = 5_000) {
  return new LatencyControl({
    record: { ladder: [...DEFAULT_LADDER], segment_duration_seconds: 2 },
    settings: { preset: 'veryfast', shedPreset: 'ultrafast', liveMaxTrailSegments: 3, shedRestoreMs: restoreAfterMs },
    logger: pino({ level: 'silent' }),
  });
}

/** Checks every second from `from` to `to` (ms), as the service does. */
function checks(latency: LatencyControl, from: number, to: number) {
  const results = [];
  for (let now = from; now <= to; now += 1000) results.push(latency.check(now, true));
  return results;
}

describe(LatencyControl.name, () => {
  it('bounds the delay by segment durations and measures it from the oldest pending chunk', () => {
    const latency = control();
    expect(latency.boundMs).toBe(6000);
    latency.accepted(1000, 1000);
    latency.accepted(2000, 2000);
    expect(latency.delayMs(5000)).toBe(4000);
    latency.released();
    expect(latency.oldestMs).toBe(2000);
    latency.released();
    expect(latency.delayMs(5000)).toBe(0);
  });

  it('decides nothing before the probe, and nothing while the current run has not produced', () => {
    const latency = control();
    latency.accepted(0, 0);
    expect(latency.check(20_000, false)).toBeUndefined();
    latency.probed(hd);
    latency.runStarting();
    expect(checks(latency, 1000, 30_000).every((check) => check !== undefined && check.shed === undefined && check.delayMs > 0)).toBe(true);
  });

  it('sheds the top rendition of a producing run that trails for a whole bound, and reports it as decided', () => {
    const latency = control();
    latency.probed(hd);
    const full = latency.renditions().map((rendition) => rendition.name);
    latency.accepted(0, 0);
    latency.published(true, 2, 500);
    const sheds = checks(latency, 7000, 14_000).flatMap((check) => (check?.shed ? [check.shed] : []));
    expect(sheds).toHaveLength(1);
    expect(sheds[0]).toMatchObject({ action: 'drop_rendition', detail: { mode: 'live', shed_level: 1, preset: 'veryfast', action: 'drop_rendition' } });
    expect(sheds[0].detail.dropped_renditions).toHaveLength(1);
    expect(latency.level).toBe(1);
    expect(latency.renditions().map((rendition) => rendition.name)).toEqual(full.filter((name) => !sheds[0].detail.dropped_renditions!.includes(name)));
  });

  it('waits for the restarted run to produce before deciding again, then sheds the preset and restores with headroom', () => {
    const latency = control();
    latency.probed(hd);
    latency.accepted(0, 0);
    latency.published(true, 2, 500);
    checks(latency, 7000, 14_000);
    latency.runStarting();
    expect(checks(latency, 15_000, 40_000).some((check) => check?.shed)).toBe(false);
    latency.published(true, 2, 40_000);
    const next = checks(latency, 41_000, 48_000).find((check) => check?.shed);
    expect(next?.shed?.action).toBe('faster_preset');
    expect(latency.preset).toBe('ultrafast');
    latency.released();
    const restores = checks(latency, 49_000, 70_000).flatMap((check) => (check?.shed ? [check.shed.action] : []));
    expect(restores.slice(0, 2)).toEqual(['restore_preset', 'restore_rendition']);
    expect(latency.level).toBe(0);
    expect(latency.preset).toBe('veryfast');
  });

  it('with shedding off, measures and reports the delay of a trailing stream but sheds nothing', () => {
    const latency = new LatencyControl({
      record: { ladder: [...DEFAULT_LADDER], segment_duration_seconds: 2 },
      settings: { preset: 'veryfast', shedPreset: 'ultrafast', liveMaxTrailSegments: 3, shedRestoreMs: 5_000, shedding: false },
      logger: pino({ level: 'silent' }),
    });
    latency.probed(hd);
    latency.accepted(0, 0);
    latency.published(true, 2, 500);
    const results = checks(latency, 7000, 60_000);
    expect(results.every((check) => check !== undefined && check.shed === undefined)).toBe(true);
    expect(results.at(-1)?.delayMs).toBe(60_000);
    expect(latency.level).toBe(0);
  });
});
