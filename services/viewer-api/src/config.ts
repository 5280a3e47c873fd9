import { type ConfigOf, type Env, int, optionalPort, optionalSecret, optionalStr, parseEnv, port } from '@tributary/config';
import { PLAYBACK_SIGNING_KEY_MIN_BYTES } from '@tributary/contracts';
import { parseKafkaConfig } from '@tributary/kafka';

const MIB = 1024 * 1024;

const viewer_apiEnvSpec = {
  port: port('VIEWER_API_PORT', 8080),
  /**
   * Optional TLS + HTTP/2 (HTTP/1.1 over TLS too) on this port, in front of the HTTP port; needs
   * both PEM files. For LL-HLS players when no ingress terminates TLS and HTTP/2 (docs/viewing.md).
   */
  tlsPort: optionalPort('VIEWER_API_TLS_PORT'),
  tlsCertFile: optionalStr('VIEWER_API_TLS_CERT_FILE'),
  tlsKeyFile: optionalStr('VIEWER_API_TLS_KEY_FILE'),
  /** When set, `/metrics` is served only on this port (its own small HTTP server), not on the HTTP port. */
  metricsPort: optionalPort('METRICS_PORT'),
  /** HS256 key that verifies playback tokens of signed streams (the same as ingest's); unset = signed streams' media is refused (503). */
  playbackSigningKey: optionalSecret('PLAYBACK_SIGNING_KEY', { minBytes: PLAYBACK_SIGNING_KEY_MIN_BYTES }),
  /** POST /v1/events: events per request, body size, and how long to wait for Kafka's ack before 503. */
  eventsMaxBatch: int('EVENTS_MAX_BATCH', { default: 500, min: 1, max: 10_000 }),
  eventsMaxBodyBytes: int('EVENTS_MAX_BODY_BYTES', { default: 1024 * 1024, min: 1024, max: 64 * 1024 * 1024 }),
  eventsProduceTimeoutMs: int('EVENTS_PRODUCE_TIMEOUT_MS', { default: 10_000, min: 100, max: 120_000 }),
  /** Concurrent requests' events queued within this many ms go to Kafka in one produce. */
  eventsLingerMs: int('EVENTS_LINGER_MS', { default: 2, min: 0, max: 100 }),
  /** Shared produces in flight at once; the idempotent producer keeps partition order for up to 5. */
  eventsMaxInFlight: int('EVENTS_PRODUCE_MAX_IN_FLIGHT', { default: 4, min: 1, max: 5 }),
  /** Admission control: event bytes in flight to Kafka per replica; beyond it 503 + Retry-After. */
  eventsMaxInFlightBytes: int('EVENTS_MAX_IN_FLIGHT_BYTES', { default: 32 * MIB, min: 1024, max: 4096 * MIB }),
  /** Segments per rendition kept in the live sliding window (and listed in live media playlists). */
  hlsWindowSegments: int('HLS_WINDOW_SEGMENTS', { default: 6, min: 2, max: 100 }),
  /**
   * Low-latency HLS: requests that may wait at once for a part (blocking playlist reloads and
   * part requests, across streams); beyond it such a request is answered 503 at once.
   */
  hlsMaxBlockingRequests: int('HLS_MAX_BLOCKING_REQUESTS', { default: 20_000, min: 1, max: 1_000_000 }),
  /** Upper bound on segment bytes held in memory across all live windows (LRU across streams). */
  windowMaxBytes: int('VIEWER_WINDOW_MAX_BYTES', { default: 512 * MIB, min: 1024, max: 64 * 1024 * MIB }),
  /** How far back (seconds) the live window is re-read from Kafka after a (re)start. */
  windowRebuildSeconds: int('VIEWER_WINDOW_REBUILD_SECONDS', { default: 120, min: 1, max: 86_400 }),
  /** Bytes of replayed (VOD) segments cached in memory. */
  replayCacheBytes: int('VIEWER_REPLAY_CACHE_BYTES', { default: 128 * MIB, min: 1024, max: 16 * 1024 * MIB }),
};

export type ViewerApiConfig = ConfigOf<typeof viewer_apiEnvSpec> & { kafka: ReturnType<typeof parseKafkaConfig> };

/** What viewers hit: HLS playlists and segments, the web player, MJPEG preview, stream listing, playback events. Configuration, validated at start-up. */
export function loadViewerApiConfig(env: Env): ViewerApiConfig {
  const config = parseEnv(viewer_apiEnvSpec, env);
  if (config.tlsPort !== undefined && (!config.tlsCertFile || !config.tlsKeyFile)) {
    throw new Error('VIEWER_API_TLS_PORT needs VIEWER_API_TLS_CERT_FILE and VIEWER_API_TLS_KEY_FILE (PEM paths)');
  }
  return { ...config, kafka: parseKafkaConfig(env) };
}
