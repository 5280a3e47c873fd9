import { type ConfigOf, ConfigError, bool, int, list, oneOf, optionalStr, type Env, parseEnv } from '@tributary/config';
import { compressionUnavailableReason } from './compression';

export const COMPRESSIONS = ['none', 'gzip', 'lz4', 'zstd'] as const;
export type Compression = (typeof COMPRESSIONS)[number];

/** Kafka settings every service shares. */
export const kafkaEnvSpec = {
  brokers: list('KAFKA_BROKERS', { default: ['localhost:9092'] }),
  topicPrefix: optionalStr('TOPIC_PREFIX'),
  /**
   * Create/grow Tributary's topics at start-up. Off where an operator owns the topics (the Helm
   * chart's Strimzi KafkaTopics): services then need no Create ACL and never fight the Topic Operator.
   */
  ensureTopics: bool('KAFKA_ENSURE_TOPICS', { default: true }),
  ssl: bool('KAFKA_SSL', { default: false }),
  sslCaFile: optionalStr('KAFKA_SSL_CA_FILE'),
  saslMechanism: oneOf('KAFKA_SASL_MECHANISM', ['none', 'plain', 'scram-sha-256', 'scram-sha-512'] as const, {
    default: 'none',
  }),
  saslUsername: optionalStr('KAFKA_SASL_USERNAME'),
  saslPassword: optionalStr('KAFKA_SASL_PASSWORD'),
  /**
   * Producer codec. lz4 by default, measured by bench/events.bench.ts (docs/benchmarks.md) on
   * playback.events batches of 500 JSON events (~325 B each), 2026-11-22, shared 2-core dev box:
   *   bytes on the wire per event: none 416, lz4 41, gzip 23, zstd 18;
   *   raw kafkajs produce→consume at load avg ~2: none 17,051 / 25,419 events/s, lz4 14,298 / 24,096,
   *   zstd 17,054, gzip 16,017 (CPU per event within ±12 µs of none for every codec);
   *   end to end (POST → 10 sockets) the codec is not what limits: event-gateway and the clients are.
   * lz4 cuts the bytes 10× for a few % of producer throughput and needs no compiler (prebuilt
   * lz4-napi). zstd is smaller still at no measurable CPU cost, but zstd-napi builds from source on
   * install (an optional dependency that may be absent), so it is opt-in. Video segments are
   * already compressed; lz4 passes over incompressible data quickly.
   */
  compression: oneOf('KAFKA_COMPRESSION', COMPRESSIONS, { default: 'lz4' }),
  /** -1 = the broker's default.replication.factor. */
  replicationFactor: int('KAFKA_REPLICATION_FACTOR', { default: -1, min: -1, max: 32 }),
  eventPartitions: int('KAFKA_EVENT_PARTITIONS', { default: 6, min: 1, max: 1024 }),
  videoPartitions: int('KAFKA_VIDEO_PARTITIONS', { default: 6, min: 1, max: 1024 }),
  /**
   * Lets ensureTopics add partitions to the keyed video topics (video.ingest, video.segments,
   * video.frames). Only for a deliberate migration: their history is looked up by partition.
   */
  videoPartitionMigration: bool('KAFKA_VIDEO_PARTITION_MIGRATION', { default: false }),
};

export type KafkaConfig = ConfigOf<typeof kafkaEnvSpec>;

export function parseKafkaConfig(env: Env): KafkaConfig {
  const config = parseEnv(kafkaEnvSpec, env);
  if (config.saslMechanism !== 'none' && (!config.saslUsername || !config.saslPassword)) {
    throw new Error(
      `KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD are required when KAFKA_SASL_MECHANISM=${config.saslMechanism}`,
    );
  }
  const unavailable = compressionUnavailableReason(config.compression);
  if (unavailable) {
    throw new ConfigError([`KAFKA_COMPRESSION=${config.compression} cannot be used here: ${unavailable}. Use none or gzip.`]);
  }
  return config;
}
