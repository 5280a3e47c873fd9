import { type ConfigOf, type Env, int, optionalStr, parseEnv } from '@tributary/config';
import { ConsumerGroups } from '@tributary/contracts';
import { consumerGroupId } from '@tributary/kafka';

/** The stats processor's settings (part of event-gateway's configuration). */
export const statsEnvSpec = {
  /** Consumer group; default `stats-processor` (under TOPIC_PREFIX when one is set). */
  consumerGroup: optionalStr('STATS_CONSUMER_GROUP'),
  /** How often snapshots go to `playback.stats` and the dashboard. */
  emitIntervalMs: int('STATS_EMIT_INTERVAL_MS', { default: 2_000, min: 100, max: 60_000 }),
  /** How late (beyond the longest window) an event may arrive and still count. */
  allowedLatenessMs: int('STATS_ALLOWED_LATENESS_MS', { default: 30_000, min: 0, max: 600_000 }),
  /** Snapshots wait for the re-read of the recent window after a (re)assignment, at most this long. */
  catchUpTimeoutMs: int('STATS_CATCH_UP_TIMEOUT_MS', { default: 15_000, min: 0, max: 300_000 }),
  /**
   * One write of snapshots to `playback.stats` carries at most this many bytes (uncompressed), so
   * it stays under the topic's max.message.bytes (1 MiB) however many streams a partition has.
   */
  sendMaxBytes: int('STATS_SEND_MAX_BYTES', { default: 512 * 1024, min: 4 * 1024, max: 1024 * 1024 }),
  /**
   * A fetch of `playback.events` is answered once this many bytes are ready or FETCH_MAX_WAIT_MS
   * has passed. Snapshots go out every STATS_EMIT_INTERVAL_MS, so waiting tens of ms costs them
   * nothing, and bigger batches cost the processor (per-batch work) and the broker (per-fetch work)
   * less per event; kafkajs answers at the first byte by default.
   */
  fetchMinBytes: int('STATS_FETCH_MIN_BYTES', { default: 64 * 1024, min: 1, max: 16 * 1024 * 1024 }),
  fetchMaxWaitMs: int('STATS_FETCH_MAX_WAIT_MS', { default: 50, min: 0, max: 5_000 }),
};

export type StatsConfig = ConfigOf<typeof statsEnvSpec>;

export function loadStatsConfig(env: Env): StatsConfig {
  return parseEnv(statsEnvSpec, env);
}

/** The group id: one group for all stats replicas, so partitions (and streams) are split between them. */
export function statsConsumerGroup(config: StatsConfig, topicPrefix: string | undefined): string {
  return config.consumerGroup ?? consumerGroupId(ConsumerGroups.statsProcessor, topicPrefix);
}
