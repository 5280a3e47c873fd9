import { type ConfigOf, type Env, int, optionalPort, optionalStr, parseEnv, port, str } from '@tributary/config';
import { parseKafkaConfig } from '@tributary/kafka';
import { lagAutoscalerEnvSpec } from './lag-autoscaler/lag-autoscaler.config';
import { leaderElectionEnvSpec } from './leader-election/leader-election.config';

const operatorEnvSpec = {
  ...leaderElectionEnvSpec,
  ...lagAutoscalerEnvSpec,
  port: port('OPERATOR_PORT', 8084),
  /** When set, `/metrics` is served only on this port (its own small HTTP server), not on the HTTP port. */
  metricsPort: optionalPort('METRICS_PORT'),
  /** A kubeconfig file (out of cluster, `npm run operator`); unset = the pod's in-cluster service account. */
  kubeconfig: optionalStr('KUBECONFIG'),
  /** Watch LiveStreams in this namespace only; unset or empty = every namespace. */
  namespace: optionalStr('OPERATOR_NAMESPACE'),
  /**
   * The resync: every LiveStream is reconciled again this often (status from Kafka: phase, viewers,
   * lag; a missed watch event is healed by then).
   */
  statusIntervalMs: int('OPERATOR_STATUS_INTERVAL_MS', { default: 5_000, min: 200, max: 600_000 }),
  /** A stream.registry write Kafka has not acknowledged by then fails the reconcile (retried with backoff, reported in the Registered condition). */
  kafkaWriteTimeoutMs: int('OPERATOR_KAFKA_WRITE_TIMEOUT_MS', { default: 10_000, min: 100, max: 300_000 }),
  /** Failed reconciles are retried after base·2^n ms, capped at OPERATOR_RETRY_MAX_MS. */
  retryBaseMs: int('OPERATOR_RETRY_BASE_MS', { default: 500, min: 10, max: 60_000 }),
  retryMaxMs: int('OPERATOR_RETRY_MAX_MS', { default: 60_000, min: 100, max: 3_600_000 }),
  /** Written into each LiveStream's status (`ingestUrl`, `playbackUrl`). */
  ingestPublicUrl: str('INGEST_PUBLIC_URL', { default: 'http://localhost:8081', pattern: /^https?:\/\/\S+$/ }),
  viewerPublicUrl: str('VIEWER_PUBLIC_URL', { default: 'http://localhost:8080', pattern: /^https?:\/\/\S+$/ }),
};

export type OperatorConfig = ConfigOf<typeof operatorEnvSpec> & { kafka: ReturnType<typeof parseKafkaConfig> };

/** The LiveStream operator's configuration, validated at start-up. */
export function loadOperatorConfig(env: Env): OperatorConfig {
  return { ...parseEnv(operatorEnvSpec, env), kafka: parseKafkaConfig(env) };
}

/** Injection token for the parsed OperatorConfig. */
export const OPERATOR_CONFIG = Symbol('OPERATOR_CONFIG');
