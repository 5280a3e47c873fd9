import { type Logger, operatorMetrics } from '@tributary/telemetry';
import type { Clock } from '../leader-election/leader-elector';
import { systemClock } from '../leader-election/leader-elector';
import { desiredReplicas, type KafkaScalerSettings, kedaLag, type PartitionOffsets, type ReplicaBounds, ScaleDownStabilizer } from './keda-formula';

/** The scaled group's offsets on its topic (KafkaLagSource; a fake in unit tests). */
export interface LagSource {
  readonly group: string;
  readonly topic: string;
  read(): Promise<PartitionOffsets[]>;
}

/** The Deployment's `scale` subresource (KubeDeploymentScale; a fake in unit tests). */
export interface ScaleTarget {
  /** `namespace/name` for logs and events. */
  readonly description: string;
  getReplicas(): Promise<number>;
  setReplicas(replicas: number): Promise<void>;
}

/** Kubernetes Events on the scaled Deployment (KubeEventRecorder). */
export interface ScaleEvents {
  record(type: 'Normal' | 'Warning', reason: string, message: string): Promise<void>;
}

export interface LagAutoscalerOptions {
  source: LagSource;
  target: ScaleTarget;
  events: ScaleEvents;
  settings: KafkaScalerSettings;
  bounds: ReplicaBounds;
  /** Scale-down stabilisation window (HPA default 300 s). */
  stabilizationWindowMs: number;
  /** Time between evaluations (KEDA's pollingInterval; the HPA syncs every 15 s). */
  intervalMs: number;
  /** Only the leader scales; the others skip their evaluations. */
  isLeader: () => boolean;
  logger: Logger;
  clock?: Clock;
}

export interface ScaleDecision {
  /** Uncapped total lag and the (capped) metric KEDA would report. */
  lag: number;
  metric: number;
  partitions: number;
  active: boolean;
  current: number;
  /** What the formula asks for now. */
  recommended: number;
  /** What is applied after the scale-down stabilisation window. */
  desired: number;
  scaled: boolean;
}

/**
 * The fallback for clusters without KEDA: every interval, while this replica leads, reads the
 * group's lag, computes KEDA's replica count (keda-formula.ts), holds scale-downs for the
 * stabilisation window, writes `spec.replicas` through the Deployment's scale subresource and
 * records the decision as an Event on the Deployment.
 */
export class LagAutoscaler {
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly stabilizer: ScaleDownStabilizer;
  private timer: unknown;
  private running = false;
  private evaluating: Promise<unknown> | undefined;

  constructor(private readonly options: LagAutoscalerOptions) {
    if (options.bounds.minReplicas > options.bounds.maxReplicas) {
      throw new Error(`lag autoscaler: minReplicas (${options.bounds.minReplicas}) is above maxReplicas (${options.bounds.maxReplicas})`);
    }
    if (options.settings.lagThreshold <= 0) throw new Error('lag autoscaler: lagThreshold must be above 0');
    this.clock = options.clock ?? systemClock;
    this.stabilizer = new ScaleDownStabilizer(options.stabilizationWindowMs);
    this.logger = options.logger.child({ component: 'lag-autoscaler', target: options.target.description, group: options.source.group, topic: options.source.topic });
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.running = false;
    this.clock.clearTimeout(this.timer);
    await this.evaluating?.catch(() => undefined);
  }

  /** One evaluation (also called by tests). Undefined when this replica does not lead. */
  async evaluateOnce(): Promise<ScaleDecision | undefined> {
    if (!this.options.isLeader()) return undefined;
    const { settings, bounds, source, target } = this.options;
    const offsets = await source.read();
    const current = await target.getReplicas();
    const lag = kedaLag(offsets, settings);
    const recommended = desiredReplicas(lag, current, settings, bounds);
    const desired = this.stabilizer.stabilize(this.clock.now(), recommended, current);
    operatorMetrics.autoscalerLag().set({ group: source.group, topic: source.topic }, lag.total);
    const decision: ScaleDecision = { lag: lag.total, metric: lag.metric, partitions: lag.partitions, active: lag.active, current, recommended, desired, scaled: false };
    if (desired === current) {
      operatorMetrics.autoscalerDesiredReplicas().set({ deployment: target.description }, desired);
      if (recommended < current) this.logger.debug({ ...decision }, 'scale-down held by the stabilisation window');
      return decision;
    }
    // Leadership may have ended while we read Kafka: never write as a former leader.
    if (!this.options.isLeader()) return undefined;
    const direction = desired > current ? 'up' : 'down';
    const message =
      `lag ${lag.total} on ${source.topic} (group ${source.group}, ${lag.partitions} partitions, lagThreshold ${settings.lagThreshold}): ` +
      `${current} → ${desired} replicas (formula ${recommended}, min ${bounds.minReplicas}, max ${bounds.maxReplicas})`;
    try {
      await target.setReplicas(desired);
    } catch (error) {
      operatorMetrics.autoscalerScales().inc({ deployment: target.description, direction, result: 'error' });
      await this.recordQuietly('Warning', 'LagScaleFailed', `${message}: ${(error as Error).message}`);
      throw error;
    }
    operatorMetrics.autoscalerScales().inc({ deployment: target.description, direction, result: 'ok' });
    operatorMetrics.autoscalerDesiredReplicas().set({ deployment: target.description }, desired);
    this.logger.info({ ...decision, scaled: true }, `scaled ${direction}`);
    await this.recordQuietly('Normal', direction === 'up' ? 'LagScaledUp' : 'LagScaledDown', message);
    return { ...decision, scaled: true };
  }

  private async recordQuietly(type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    try {
      await this.options.events.record(type, reason, message);
    } catch (error) {
      this.logger.warn({ reason, error: (error as Error).message }, 'could not record the scaling Event');
    }
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    this.timer = this.clock.setTimeout(() => {
      const evaluation = this.evaluateOnce().catch((error: unknown) =>
        this.logger.warn({ error: (error as Error).message }, 'lag autoscaling failed; retrying at the next interval (check Kafka and the RBAC on deployments/scale)'),
      );
      this.evaluating = evaluation;
      void evaluation.finally(() => this.schedule(this.options.intervalMs));
    }, delayMs);
  }
}
