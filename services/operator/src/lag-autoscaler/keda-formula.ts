/**
 * KEDA's Kafka scaler and the HPA it drives, as pure functions (KEDA 2.x `kafka_scaler.go`
 * getLagForPartition/getTotalLag + the HPA's AverageValue rule), so the fallback autoscaler gives
 * the numbers KEDA would give for the same offsets.
 */

/** One partition of the scaled topic: the group's committed offset (-1 = none yet) and the log-end offset. */
export interface PartitionOffsets {
  partition: number;
  committed: number;
  end: number;
}

export interface KafkaScalerSettings {
  /** Target lag per replica (KEDA `lagThreshold`, default 10). */
  lagThreshold: number;
  /** Lag above which the target is active, i.e. leaves zero replicas (KEDA `activationLagThreshold`, default 0). */
  activationLagThreshold: number;
  /** Where a group without a committed offset would start (KEDA `offsetResetPolicy`, default latest). */
  offsetResetPolicy: 'earliest' | 'latest';
  /** false (KEDA's default): never more replicas than partitions. */
  allowIdleConsumers: boolean;
}

export interface KedaLag {
  /** The metric KEDA reports: total lag, capped at partitions × lagThreshold unless idle consumers are allowed. */
  metric: number;
  /** The uncapped total lag (KEDA's `totalLagWithPersistent`), which decides activation. */
  total: number;
  partitions: number;
  active: boolean;
}

/**
 * Lag of one partition by KEDA's rules: no committed offset + `latest` → 1 (KEDA's default, so a
 * fresh group still gets a consumer); no committed offset + `earliest` → the log-end offset (the
 * whole partition, counted from offset 0); otherwise end − committed.
 */
export function partitionLag(offsets: PartitionOffsets, policy: KafkaScalerSettings['offsetResetPolicy']): number {
  if (offsets.committed < 0) return policy === 'latest' ? 1 : offsets.end;
  return offsets.end - offsets.committed;
}

/** KEDA's getTotalLag + activity. */
export function kedaLag(partitions: readonly PartitionOffsets[], settings: KafkaScalerSettings): KedaLag {
  const total = partitions.reduce((sum, offsets) => sum + partitionLag(offsets, settings.offsetResetPolicy), 0);
  let metric = total;
  // KEDA compares with an integer division, so a lag just above partitions × threshold is not capped
  // here (the HPA would then ask for partitions + 1); desiredReplicas caps the count itself.
  if (!settings.allowIdleConsumers && Math.floor(total / settings.lagThreshold) > partitions.length) {
    metric = partitions.length * settings.lagThreshold;
  }
  return { metric, total, partitions: partitions.length, active: total > settings.activationLagThreshold };
}

export interface ReplicaBounds {
  minReplicas: number;
  maxReplicas: number;
}

/** The HPA's default tolerance (--horizontal-pod-autoscaler-tolerance): no change while the ratio is within 10 % of 1. */
export const HPA_TOLERANCE = 0.1;

/**
 * Replicas KEDA + HPA would ask for now (before the scale-down stabilisation window):
 * - inactive and minReplicas 0 → 0 (KEDA scales to zero, after its cooldown; here after the window);
 * - otherwise ceil(metric ÷ lagThreshold) (HPA AverageValue), unchanged while within the tolerance of
 *   the current count, clamped to [max(minReplicas, 1), maxReplicas], and to the partition count
 *   unless idle consumers are allowed (KEDA's documented cap).
 */
export function desiredReplicas(lag: KedaLag, current: number, settings: KafkaScalerSettings, bounds: ReplicaBounds, tolerance = HPA_TOLERANCE): number {
  if (!lag.active && bounds.minReplicas === 0) return 0;
  let desired = Math.ceil(lag.metric / settings.lagThreshold);
  if (current > 0) {
    const ratio = lag.metric / (settings.lagThreshold * current);
    if (Math.abs(1 - ratio) <= tolerance) desired = current;
  }
  const floor = Math.max(bounds.minReplicas, 1);
  let ceiling = bounds.maxReplicas;
  if (!settings.allowIdleConsumers && lag.partitions > 0) ceiling = Math.min(ceiling, lag.partitions);
  return Math.max(floor, Math.min(ceiling, desired));
}

/**
 * The HPA's scale-down stabilisation: a scale-down goes only as low as the highest recommendation
 * of the last `windowMs` (so a dip in lag does not remove replicas that are needed a moment later);
 * a scale-up applies at once.
 */
export class ScaleDownStabilizer {
  private recommendations: { at: number; replicas: number }[] = [];

  constructor(private readonly windowMs: number) {}

  /** Records `recommended` at `now` and returns the replica count to apply. */
  stabilize(now: number, recommended: number, current: number): number {
    this.recommendations = this.recommendations.filter((entry) => now - entry.at < this.windowMs);
    this.recommendations.push({ at: now, replicas: recommended });
    if (recommended >= current) return recommended;
    const highest = Math.max(...this.recommendations.map((entry) => entry.replicas));
    return Math.min(current, highest);
  }
}
