import { createLogger } from '@tributary/telemetry';
import { FakeClock } from '../leader-election/testing';
import type { PartitionOffsets } from './keda-formula';
import { LagAutoscaler, type LagAutoscalerOptions } from './lag-autoscaler';

const logger = createLogger('test', { LOG_LEVEL: 'silent' });

describe(LagAutoscaler.name, () => {
  let clock: FakeClock;
  let offsets: PartitionOffsets[];
  let replicas: number;
  let leader: boolean;
  let failScale: boolean;
  let events: { type: string; reason: string; message: string }[];

  const autoscaler = (overrides: Partial<LagAutoscalerOptions> = {}) =>
    new LagAutoscaler({
      source: { group: 'transcoder', topic: 'video.ingest', read: async () => offsets },
      target: {
        description: 'ns/transcoder',
        getReplicas: async () => replicas,
        setReplicas: async (value) => {
          if (failScale) throw new Error('deployments.apps "transcoder" is forbidden');
          replicas = value;
        },
      },
      events: { record: async (type, reason, message) => void events.push({ type, reason, message }) },
      settings: { lagThreshold: 10, activationLagThreshold: 0, offsetResetPolicy: 'earliest', allowIdleConsumers: false },
      bounds: { minReplicas: 1, maxReplicas: 6 },
      stabilizationWindowMs: 60_000,
      intervalMs: 5_000,
      isLeader: () => leader,
      logger,
      clock,
      ...overrides,
    });

  const lagOf = (lags: number[]) => {
    offsets = lags.map((lag, partition) => ({ partition, committed: 100, end: 100 + lag }));
  };

  beforeEach(() => {
    clock = new FakeClock();
    replicas = 1;
    leader = true;
    failScale = false;
    events = [];
    lagOf([0, 0, 0, 0]);
  });

  it('scales up through the target and records an Event naming the numbers', async () => {
    lagOf([25, 10, 0, 0]);
    const decision = await autoscaler().evaluateOnce();
    expect(decision).toMatchObject({ lag: 35, current: 1, recommended: 4, desired: 4, scaled: true });
    expect(replicas).toBe(4);
    expect(events).toEqual([{ type: 'Normal', reason: 'LagScaledUp', message: expect.stringContaining('lag 35 on video.ingest (group transcoder, 4 partitions, lagThreshold 10): 1 → 4 replicas') }]);
  });

  it('holds a scale-down for the stabilisation window, then scales down', async () => {
    const scaler = autoscaler();
    lagOf([100, 100, 100, 100]);
    await scaler.evaluateOnce();
    expect(replicas).toBe(4);
    lagOf([0, 0, 0, 0]);
    await clock.advance(30_000);
    expect(await scaler.evaluateOnce()).toMatchObject({ recommended: 1, desired: 4, scaled: false });
    expect(replicas).toBe(4);
    await clock.advance(31_000);
    expect(await scaler.evaluateOnce()).toMatchObject({ recommended: 1, desired: 1, scaled: true });
    expect(replicas).toBe(1);
    expect(events.map((event) => event.reason)).toEqual(['LagScaledUp', 'LagScaledDown']);
  });

  it('does nothing while this replica does not lead', async () => {
    leader = false;
    lagOf([100, 100, 100, 100]);
    expect(await autoscaler().evaluateOnce()).toBeUndefined();
    expect(replicas).toBe(1);
    expect(events).toEqual([]);
  });

  it('records a Warning Event when the scale write fails, and reports the failure', async () => {
    failScale = true;
    lagOf([100, 0, 0, 0]);
    await expect(autoscaler().evaluateOnce()).rejects.toThrow(/forbidden/);
    expect(events).toEqual([{ type: 'Warning', reason: 'LagScaleFailed', message: expect.stringContaining('forbidden') }]);
  });

  it('evaluates every interval once started', async () => {
    const scaler = autoscaler();
    scaler.start();
    await clock.advance(0);
    expect(replicas).toBe(1);
    lagOf([20, 20, 0, 0]);
    await clock.advance(5_000);
    expect(replicas).toBe(4);
    await scaler.stop();
  });

  it('refuses bounds that cannot hold', () => {
    expect(() => autoscaler({ bounds: { minReplicas: 5, maxReplicas: 2 } })).toThrow(/minReplicas/);
  });
});
