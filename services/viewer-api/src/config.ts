import { type ConfigOf, type Env, int, parseEnv, port } from '@tributary/config';
import { parseKafkaConfig } from '@tributary/kafka';

const viewer_apiEnvSpec = {
  port: port('VIEWER_API_PORT', 8080),
  /** POST /v1/events: events per request, body size, and how long to wait for Kafka's ack before 503. */
  eventsMaxBatch: int('EVENTS_MAX_BATCH', { default: 500, min: 1, max: 10_000 }),
  eventsMaxBodyBytes: int('EVENTS_MAX_BODY_BYTES', { default: 1024 * 1024, min: 1024, max: 64 * 1024 * 1024 }),
  eventsProduceTimeoutMs: int('EVENTS_PRODUCE_TIMEOUT_MS', { default: 10_000, min: 100, max: 120_000 }),
};

export type ViewerApiConfig = ConfigOf<typeof viewer_apiEnvSpec> & { kafka: ReturnType<typeof parseKafkaConfig> };

/** What viewers hit: HLS playlists and segments, the web player, MJPEG preview, stream listing, playback events. Configuration, validated at start-up. */
export function loadViewerApiConfig(env: Env): ViewerApiConfig {
  return { ...parseEnv(viewer_apiEnvSpec, env), kafka: parseKafkaConfig(env) };
}
