import { bool, ConfigError, type ConfigOf, int, oneOf, optionalStr } from '@tributary/config';
import { ConsumerGroups, ScaledConsumerGroups, topicName } from '@tributary/contracts';
import { consumerGroupId } from '@tributary/kafka';

/** The lag autoscaler fallback (merged into the operator's env spec in config.ts). Off by default; never on together with KEDA. */
export const lagAutoscalerEnvSpec = {
  lagAutoscaler: bool('OPERATOR_LAG_AUTOSCALER', { default: false }),
  /** The Deployment to scale (the chart sets the transcoder's). Required when the autoscaler is on. */
  lagAutoscalerDeployment: optionalStr('OPERATOR_LAG_AUTOSCALER_DEPLOYMENT'),
  /** Its namespace; unset = POD_NAMESPACE, else the kubeconfig context's, else `default`. */
  lagAutoscalerNamespace: optionalStr('OPERATOR_LAG_AUTOSCALER_NAMESPACE'),
  /** The consumer group whose lag is measured; unset = the transcoder's (under TOPIC_PREFIX). */
  lagAutoscalerGroup: optionalStr('OPERATOR_LAG_AUTOSCALER_GROUP'),
  /** Its topic; unset = video.ingest (under TOPIC_PREFIX). */
  lagAutoscalerTopic: optionalStr('OPERATOR_LAG_AUTOSCALER_TOPIC'),
  /** KEDA `lagThreshold`: target lag per replica. */
  lagThreshold: int('OPERATOR_LAG_AUTOSCALER_LAG_THRESHOLD', { default: 50, min: 1, max: 100_000_000 }),
  /** KEDA `activationLagThreshold`: with minReplicas 0, the target leaves zero above this lag. */
  activationLagThreshold: int('OPERATOR_LAG_AUTOSCALER_ACTIVATION_LAG_THRESHOLD', { default: 0, min: 0, max: 100_000_000 }),
  /** KEDA `offsetResetPolicy`: how partitions without a committed offset count (the transcoder starts at earliest). */
  offsetResetPolicy: oneOf('OPERATOR_LAG_AUTOSCALER_OFFSET_RESET_POLICY', ['earliest', 'latest'] as const, { default: 'earliest' }),
  /** KEDA `allowIdleConsumers`: true lets replicas exceed the partition count. */
  allowIdleConsumers: bool('OPERATOR_LAG_AUTOSCALER_ALLOW_IDLE_CONSUMERS', { default: false }),
  minReplicas: int('OPERATOR_LAG_AUTOSCALER_MIN_REPLICAS', { default: 1, min: 0, max: 10_000 }),
  maxReplicas: int('OPERATOR_LAG_AUTOSCALER_MAX_REPLICAS', { default: 6, min: 1, max: 10_000 }),
  /** Time between evaluations (KEDA pollingInterval). */
  pollingIntervalMs: int('OPERATOR_LAG_AUTOSCALER_POLLING_INTERVAL_MS', { default: 15_000, min: 100, max: 3_600_000 }),
  /** Scale-down stabilisation window (the HPA's default is 300 s). */
  stabilizationSeconds: int('OPERATOR_LAG_AUTOSCALER_STABILIZATION_SECONDS', { default: 300, min: 0, max: 86_400 }),
};

export type LagAutoscalerConfig = ConfigOf<typeof lagAutoscalerEnvSpec>;

export interface LagAutoscalerSettings {
  namespace: string;
  deployment: string;
  group: string;
  topic: string;
}

/** Where to scale and what to measure; a ConfigError names the variable when the autoscaler is on without a Deployment or with impossible bounds. */
export function lagAutoscalerTarget(config: LagAutoscalerConfig, topicPrefix: string | undefined, defaultNamespace: string): LagAutoscalerSettings {
  const problems: string[] = [];
  if (!config.lagAutoscalerDeployment) problems.push('OPERATOR_LAG_AUTOSCALER_DEPLOYMENT: required when OPERATOR_LAG_AUTOSCALER=true (the Deployment to scale)');
  if (config.minReplicas > config.maxReplicas) {
    problems.push(`OPERATOR_LAG_AUTOSCALER_MIN_REPLICAS (${config.minReplicas}) is above OPERATOR_LAG_AUTOSCALER_MAX_REPLICAS (${config.maxReplicas})`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    namespace: config.lagAutoscalerNamespace || defaultNamespace,
    deployment: config.lagAutoscalerDeployment as string,
    group: measuredGroup(config, topicPrefix),
    topic: config.lagAutoscalerTopic || topicName(ScaledConsumerGroups.transcoder.topic, topicPrefix ?? ''),
  };
}

/** The transcoder group whose lag is measured (OPERATOR_LAG_AUTOSCALER_GROUP, else the transcoder's under TOPIC_PREFIX): the autoscaler's and the LiveStream status's. */
export function measuredGroup(config: Pick<LagAutoscalerConfig, 'lagAutoscalerGroup'>, topicPrefix: string | undefined): string {
  return config.lagAutoscalerGroup || consumerGroupId(ConsumerGroups.transcoder, topicPrefix ?? '');
}
