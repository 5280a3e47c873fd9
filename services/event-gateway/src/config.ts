import { ConfigError, type ConfigOf, type Env, optionalPort, optionalSecret, optionalStr, parseEnv, port, someOf } from '@tributary/config';
import { PLAYBACK_SIGNING_KEY_MIN_BYTES } from '@tributary/contracts';
import { memberId, parseKafkaConfig } from '@tributary/kafka';
import { loadStatsConfig, type StatsConfig } from './stats/stats.config';
import { type DashboardOptions, loadDashboardOptions } from './dashboard/dashboard.options';
import { type FanoutOptions, loadFanoutOptions } from './playback/fanout.options';

/**
 * What one event-gateway process runs: `fanout` = the Socket.IO `/playback` namespace, the dashboard
 * and the live page (each replica its own consumer group); `stats` = the stats processor (the shared
 * `stats-processor` group). Separate roles let the stats processor scale on its own Kafka lag.
 */
export const EVENT_GATEWAY_ROLES = ['fanout', 'stats'] as const;
export type EventGatewayRole = (typeof EVENT_GATEWAY_ROLES)[number];

const event_gatewayEnvSpec = {
  port: port('EVENT_GATEWAY_PORT', 8082),
  /** When set, `/metrics` is served only on this port (its own small HTTP server), not on the HTTP port. */
  metricsPort: optionalPort('METRICS_PORT'),
  roles: someOf('EVENT_GATEWAY_ROLES', EVENT_GATEWAY_ROLES, { default: EVENT_GATEWAY_ROLES }),
  /** Names this replica's own consumer groups (`event-gateway.<purpose>.<id>`); default: libs/kafka memberId() (host + random suffix). */
  instanceId: optionalStr('EVENT_GATEWAY_INSTANCE_ID'),
  /** Verifies playback tokens of signed streams (the same key as ingest's); unset = their events are refused. */
  playbackSigningKey: optionalSecret('PLAYBACK_SIGNING_KEY', { minBytes: PLAYBACK_SIGNING_KEY_MIN_BYTES }),
  /** When set, every-stream (firehose) subscriptions, history and resume need it as auth `token`. */
  firehoseToken: optionalSecret('FIREHOSE_TOKEN', { minBytes: 16 }),
};

export type EventGatewayConfig = Omit<ConfigOf<typeof event_gatewayEnvSpec>, 'instanceId'> & {
  readonly instanceId: string;
  kafka: ReturnType<typeof parseKafkaConfig>;
  stats: StatsConfig;
  dashboard: DashboardOptions;
  fanout: FanoutOptions;
};

const INSTANCE_ID = /^[A-Za-z0-9._-]{1,100}$/;

/**
 * Every replica consumes every playback event (each serves its own browsers), so each needs a
 * consumer group of its own. A fresh default per start: a restarted replica starts from latest.
 */
export function resolveInstanceId(configured: string | undefined): string {
  if (configured !== undefined) {
    if (!INSTANCE_ID.test(configured)) {
      throw new ConfigError([`EVENT_GATEWAY_INSTANCE_ID must match ${INSTANCE_ID} (got "${configured}")`]);
    }
    return configured;
  }
  return memberId();
}

/** Replaced by EVENT_GATEWAY_ROLES; refused rather than ignored, so an old deployment fails loudly. */
function refuseStatsEnabled(env: Env): void {
  if (env.STATS_ENABLED === undefined) return;
  throw new ConfigError([
    `STATS_ENABLED is no longer read (got "${env.STATS_ENABLED}"): set EVENT_GATEWAY_ROLES instead (fanout = without the stats processor, stats = only it; default fanout,stats)`,
  ]);
}

export function hasRole(config: Pick<EventGatewayConfig, 'roles'>, role: EventGatewayRole): boolean {
  return config.roles.includes(role);
}

/** Streams playback events and live statistics from Kafka to browsers over Socket.IO. Configuration, validated at start-up. */
export function loadEventGatewayConfig(env: Env): EventGatewayConfig {
  refuseStatsEnabled(env);
  const parsed = parseEnv(event_gatewayEnvSpec, env);
  return { ...parsed, instanceId: resolveInstanceId(parsed.instanceId), kafka: parseKafkaConfig(env), stats: loadStatsConfig(env), dashboard: loadDashboardOptions(env), fanout: loadFanoutOptions(env) };
}
