import { bool, ConfigError, type ConfigOf, type Env, int, oneOf, optionalPort, optionalSecret, optionalStr, parseEnv, port, str } from '@tributary/config';
import { PLAYBACK_SIGNING_KEY_MIN_BYTES } from '@tributary/contracts';
import { parseKafkaConfig } from '@tributary/kafka';

const ingestEnvSpec = {
  port: port('INGEST_PORT', 8081),
  /** When set, `/metrics` is served only on this port (its own small HTTP server), not on the HTTP port. */
  metricsPort: optionalPort('METRICS_PORT'),
  /** Bearer token for the /v1/streams admin API; unset = open (development only). */
  adminToken: optionalStr('ADMIN_TOKEN'),
  /** `none` = run the admin API without a token even in production (an explicit, logged choice). */
  adminAuth: oneOf('ADMIN_AUTH', ['token', 'none'] as const, { default: 'token' }),
  nodeEnv: optionalStr('NODE_ENV'),
  /** HS256 key for playback tokens of signed streams (shared with viewer-api and event-gateway); unset = minting is refused. */
  playbackSigningKey: optionalSecret('PLAYBACK_SIGNING_KEY', { minBytes: PLAYBACK_SIGNING_KEY_MIN_BYTES }),
  ingestPublicUrl: str('INGEST_PUBLIC_URL', { default: 'http://localhost:8081', pattern: /^https?:\/\/\S+$/ }),
  viewerPublicUrl: str('VIEWER_PUBLIC_URL', { default: 'http://localhost:8080', pattern: /^https?:\/\/\S+$/ }),
  /** A video.ingest chunk is cut at this many bytes (rounded down to whole 188-byte TS packets)… */
  chunkBytes: int('INGEST_CHUNK_BYTES', { default: 128 * 1024, min: 188, max: 3 * 1024 * 1024 }),
  /** …or when the oldest pending byte is this old, whichever comes first. */
  chunkMaxMs: int('INGEST_CHUNK_MAX_MS', { default: 200, min: 10, max: 10_000 }),
  /** Kafka sends outstanding per publisher before the request stream is paused (backpressure). */
  maxInFlightChunks: int('INGEST_MAX_IN_FLIGHT_CHUNKS', { default: 4, min: 1, max: 64 }),
  /** A publisher that sends no bytes for this long is disconnected; the publish ends as `ended`. */
  publishIdleTimeoutMs: int('INGEST_IDLE_TIMEOUT_MS', { default: 15_000, min: 100, max: 3_600_000 }),
  /** Concurrent publish connections on this replica; more are refused 503 with Retry-After. */
  maxPublishers: int('INGEST_MAX_PUBLISHERS', { default: 50, min: 1, max: 100_000 }),
  /** Per-stream ingest bitrate cap, averaged over INGEST_BITRATE_WINDOW_MS; 0 = no cap. */
  maxBitrateKbps: int('INGEST_MAX_BITRATE_KBPS', { default: 25_000, min: 0, max: 10_000_000 }),
  bitrateWindowMs: int('INGEST_BITRATE_WINDOW_MS', { default: 5_000, min: 100, max: 600_000 }),
  framesMaxBytes: int('FRAMES_MAX_BYTES', { default: 2 * 1024 * 1024, min: 1024, max: 3 * 1024 * 1024 }),
  /** A publish holds its stream cluster-wide (stream.claims) while it renews this lease… */
  claimLeaseMs: int('CLAIM_LEASE_MS', { default: 10_000, min: 500, max: 300_000 }),
  /** …with a heartbeat this often (well under the lease). */
  claimHeartbeatMs: int('CLAIM_HEARTBEAT_MS', { default: 2_000, min: 100, max: 60_000 }),
  /** How long a publish request waits for its claim to come back from Kafka before a 503. */
  claimWaitMs: int('CLAIM_WAIT_MS', { default: 5_000, min: 100, max: 60_000 }),
  /**
   * The RTMP (and RTMPS) publish server. Off unless set (the chart and `npm start` turn it on): a
   * fixed port 1935 would collide between the many ingest processes tests start on one machine.
   */
  rtmpEnabled: bool('INGEST_RTMP_ENABLED', { default: false }),
  rtmpPort: port('INGEST_RTMP_PORT', 1935),
  /** RTMPS (RTMP over TLS) port; unset = no RTMPS. Needs INGEST_RTMPS_CERT_FILE and INGEST_RTMPS_KEY_FILE. */
  rtmpsPort: optionalPort('INGEST_RTMPS_PORT'),
  rtmpsCertFile: optionalStr('INGEST_RTMPS_CERT_FILE'),
  rtmpsKeyFile: optionalStr('INGEST_RTMPS_KEY_FILE'),
  /** The server URL publishers put in OBS (stream creation answers it as `rtmpUrl`). */
  rtmpPublicUrl: str('INGEST_RTMP_PUBLIC_URL', { default: 'rtmp://localhost:1935/live', pattern: /^rtmps?:\/\/\S+$/ }),
  /** TCP accept → publish accepted (handshake, connect, createStream, publish, claim) must take at most this long. */
  rtmpSetupTimeoutMs: int('INGEST_RTMP_SETUP_TIMEOUT_MS', { default: 10_000, min: 100, max: 600_000 }),
  /** After publish, no audio/video message for this long ends the publish. */
  rtmpMediaTimeoutMs: int('INGEST_RTMP_MEDIA_TIMEOUT_MS', { default: 10_000, min: 100, max: 600_000 }),
  /** A message (one video frame, typically) may not be larger; a bigger claim closes the connection. */
  rtmpMaxMessageBytes: int('INGEST_RTMP_MAX_MESSAGE_BYTES', { default: 4 * 1024 * 1024, min: 64 * 1024, max: 64 * 1024 * 1024 }),
  /** ffmpeg, which remuxes RTMP's FLV to MPEG-TS (else the one on PATH, else @ffmpeg-installer's). */
  ffmpegPath: optionalStr('FFMPEG_PATH'),
  searchPath: optionalStr('PATH'),
};

export type IngestConfig = ConfigOf<typeof ingestEnvSpec> & { kafka: ReturnType<typeof parseKafkaConfig> };

/** Publishers push live video (MPEG-TS over HTTP) and JPEG frames Configuration, validated at start-up. */
export function loadIngestConfig(env: Env): IngestConfig {
  const config = { ...parseEnv(ingestEnvSpec, env), kafka: parseKafkaConfig(env) };
  if (config.nodeEnv === 'production' && !config.adminToken && config.adminAuth !== 'none') {
    throw new ConfigError([
      'ADMIN_TOKEN is required when NODE_ENV=production (the /v1/streams admin API would be open); set ADMIN_TOKEN, or ADMIN_AUTH=none to run it without authentication on purpose',
    ]);
  }
  if (config.rtmpsPort !== undefined && (!config.rtmpsCertFile || !config.rtmpsKeyFile)) {
    throw new ConfigError(['INGEST_RTMPS_PORT is set but INGEST_RTMPS_CERT_FILE and INGEST_RTMPS_KEY_FILE are not: RTMPS needs a certificate and its key (PEM files)']);
  }
  return config;
}

/** Injection token for the parsed IngestConfig. */
export const INGEST_CONFIG = Symbol('INGEST_CONFIG');
