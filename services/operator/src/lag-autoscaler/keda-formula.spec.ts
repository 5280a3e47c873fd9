import { desiredReplicas, type KafkaScalerSettings, kedaLag, partitionLag, type PartitionOffsets, ScaleDownStabilizer } from './keda-formula';

/** KEDA's Kafka scaler defaults (lagThreshold 10, activation 0, offsetResetPolicy latest, allowIdleConsumers false). */
const KEDA_DEFAULTS: KafkaScalerSettings = { lagThreshold: 10, activationLagThreshold: 0, offsetResetPolicy: 'latest', allowIdleConsumers: false };
const BOUNDS = { minReplicas: 1, maxReplicas: 100 };

/** `lags[i]` messages behind on partition i (committed offsets at 1000). */
const withLags = (lags: readonly number[]): PartitionOffsets[] => lags.map((lag, partition) => ({ partition, committed: 1000, end: 1000 + lag }));

const replicasFor = (lags: readonly number[], current = 1, settings: Partial<KafkaScalerSettings> = {}, bounds = BOUNDS): number => {
  const merged = { ...KEDA_DEFAULTS, ...settings };
  return desiredReplicas(kedaLag(withLags(lags), merged), current, merged, bounds);
};

describe('KEDA Kafka scaler formula', () => {
  it('asks for ceil(total lag ÷ lagThreshold) replicas', () => {
    expect(replicasFor([10, 10, 15, 0, 0, 0])).toBe(4); // 35 / 10 → 4
    expect(replicasFor([20, 0, 0, 0, 0, 0])).toBe(2);
    expect(replicasFor([1, 0, 0, 0, 0, 0])).toBe(1);
  });

  it('never asks for more replicas than partitions unless allowIdleConsumers', () => {
    expect(replicasFor([500, 500, 0, 0])).toBe(4);
    expect(kedaLag(withLags([500, 500, 0, 0]), KEDA_DEFAULTS).metric).toBe(40); // KEDA reports partitions × lagThreshold
    expect(replicasFor([500, 500, 0, 0], 1, { allowIdleConsumers: true })).toBe(100);
    expect(replicasFor([500, 500, 0, 0], 1, { allowIdleConsumers: true }, { minReplicas: 1, maxReplicas: 7 })).toBe(7);
  });

  it("caps at the partition count even where KEDA's integer comparison leaves the metric uncapped", () => {
    // 45 / 10 = 4 (integer) is not above 4 partitions, so KEDA reports 45 and the HPA alone would say 5.
    const lag = kedaLag(withLags([45, 0, 0, 0]), KEDA_DEFAULTS);
    expect(lag.metric).toBe(45);
    expect(desiredReplicas(lag, 1, KEDA_DEFAULTS, BOUNDS)).toBe(4);
  });

  it('stays within [max(minReplicas, 1), maxReplicas]', () => {
    expect(replicasFor([0, 0, 0], 1, {}, { minReplicas: 2, maxReplicas: 3 })).toBe(2);
    expect(replicasFor([300, 0, 0], 1, {}, { minReplicas: 1, maxReplicas: 2 })).toBe(2);
  });

  it('scales to zero only when inactive (lag ≤ activationLagThreshold) and minReplicas is 0', () => {
    expect(replicasFor([0, 0], 1, {}, { minReplicas: 0, maxReplicas: 6 })).toBe(0);
    expect(replicasFor([30, 0], 0, { activationLagThreshold: 50 }, { minReplicas: 0, maxReplicas: 6 })).toBe(0);
    expect(replicasFor([60, 0], 0, { activationLagThreshold: 50 }, { minReplicas: 0, maxReplicas: 6 })).toBe(2);
    // With minReplicas ≥ 1 activation does not matter: the HPA formula applies.
    expect(replicasFor([30, 0], 1, { activationLagThreshold: 50 }, { minReplicas: 1, maxReplicas: 6 })).toBe(2);
  });

  it("keeps the current count within the HPA's 10 % tolerance", () => {
    expect(replicasFor([42, 0, 0, 0, 0, 0], 4)).toBe(4); // ratio 1.05
    expect(replicasFor([46, 0, 0, 0, 0, 0], 4)).toBe(5); // ratio 1.15 → ceil(4.6)
    expect(replicasFor([37, 0, 0, 0, 0, 0], 4)).toBe(4); // ratio 0.925
    expect(replicasFor([30, 0, 0, 0, 0, 0], 4)).toBe(3);
  });

  it("counts a partition without a committed offset as KEDA does: 1 with 'latest', the whole log with 'earliest'", () => {
    const fresh = { partition: 0, committed: -1, end: 250 };
    expect(partitionLag(fresh, 'latest')).toBe(1);
    expect(partitionLag(fresh, 'earliest')).toBe(250);
    const lag = kedaLag([fresh, { partition: 1, committed: -1, end: 0 }], { ...KEDA_DEFAULTS, offsetResetPolicy: 'latest' });
    expect(lag).toEqual({ metric: 2, total: 2, partitions: 2, active: true });
  });
});

describe(ScaleDownStabilizer.name, () => {
  it('scales up at once and down only to the highest recommendation of the window', () => {
    const stabilizer = new ScaleDownStabilizer(300_000);
    expect(stabilizer.stabilize(0, 5, 1)).toBe(5);
    expect(stabilizer.stabilize(10_000, 1, 5)).toBe(5);
    expect(stabilizer.stabilize(200_000, 3, 5)).toBe(5);
    expect(stabilizer.stabilize(300_001, 1, 5)).toBe(3); // the 5 left the window, the 3 has not
    expect(stabilizer.stabilize(500_001, 1, 3)).toBe(1);
    expect(stabilizer.stabilize(500_002, 6, 1)).toBe(6);
  });
});
