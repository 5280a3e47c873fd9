import { type ConfigOf, type Env, int, num, oneOf, optionalPort, optionalStr, parseEnv, port, str } from '@tributary/config';
import { ConsumerGroups } from '@tributary/contracts';
import { consumerGroupId, parseKafkaConfig } from '@tributary/kafka';

const transcoderEnvSpec = {
  port: port('TRANSCODER_PORT', 8083),
  /** When set, `/metrics` is served only on this port (its own small HTTP server), not on the HTTP port. */
  metricsPort: optionalPort('METRICS_PORT'),
  /** Consumer group on video.ingest; replicas share the partitions. Default `transcoder` under TOPIC_PREFIX. */
  groupId: optionalStr('TRANSCODER_GROUP_ID'),
  ffmpegPath: optionalStr('FFMPEG_PATH'),
  ffprobePath: optionalStr('FFPROBE_PATH'),
  /** Searched for ffmpeg/ffprobe when FFMPEG_PATH/FFPROBE_PATH are unset. */
  searchPath: optionalStr('PATH'),
  preset: str('TRANSCODER_PRESET', { default: 'veryfast', pattern: /^(ultrafast|superfast|veryfast|faster|fast|medium)$/ }),
  /** libx264 threads per stream (0 = ffmpeg decides). */
  threads: int('TRANSCODER_THREADS', { default: 2, min: 0, max: 64 }),
  /** Per-stream temp folders live under this (default: the OS temp dir). */
  workDir: optionalStr('TRANSCODER_WORK_DIR'),
  thumbnailIntervalSeconds: num('TRANSCODER_THUMBNAIL_INTERVAL_SECONDS', { default: 5, min: 0, max: 600 }),
  /** ffmpeg crashes tolerated per stream (with exponential backoff) before it is marked `error`. */
  maxRestarts: int('TRANSCODER_MAX_RESTARTS', { default: 3, min: 0, max: 100 }),
  /** Input bytes after which a stream ffprobe still cannot read is declared garbage. */
  probeMaxBytes: int('TRANSCODER_PROBE_MAX_BYTES', { default: 4 * 1024 * 1024, min: 64 * 1024, max: 64 * 1024 * 1024 }),
  /** No chunk for this long ends a stream (a publisher that vanished without `ended`). */
  idleTimeoutMs: int('TRANSCODER_IDLE_TIMEOUT_MS', { default: 30_000, min: 1_000, max: 3_600_000 }),
  /** Messages of video.segments read back on takeover to continue media sequences. */
  /** Consumer group session timeout: how long a crashed replica holds its partitions. */
  sessionTimeoutMs: int('TRANSCODER_SESSION_TIMEOUT_MS', { default: 30_000, min: 6_000, max: 300_000 }),
  segmentTailLookback: int('TRANSCODER_SEGMENT_TAIL_LOOKBACK', { default: 2000, min: 10, max: 1_000_000 }),
  /**
   * A publish session whose first chunk read here reached ingest longer ago than this (or whose
   * publisher ingest reported gone) is backlog, not live: catch-up work that never competes with live.
   */
  backlogAfterMs: int('TRANSCODER_BACKLOG_AFTER_MS', { default: 15_000, min: 1_000, max: 3_600_000 }),
  /** `replay`: transcode backlog at low priority (for replay); `skip`: commit past it and record the gap. */
  backlogPolicy: oneOf('TRANSCODER_BACKLOG_POLICY', ['replay', 'skip'] as const, { default: 'replay' }),
  /** Backlog sessions transcoded at once (each only while no live stream trails its bound). */
  backlogConcurrency: int('TRANSCODER_BACKLOG_CONCURRENCY', { default: 1, min: 1, max: 64 }),
  /** nice(1) value of backlog ffmpeg processes (0 = same priority as live). */
  backlogNice: int('TRANSCODER_BACKLOG_NICE', { default: 15, min: 0, max: 19 }),
  /** Input read from Kafka and not yet written to ffmpeg, across streams, before reading waits. */
  inputBufferBytes: int('TRANSCODER_INPUT_BUFFER_BYTES', { default: 256 * 1024 * 1024, min: 4 * 1024 * 1024, max: 16 * 1024 * 1024 * 1024 }),
  /** A live stream's bound: its output may trail its input by this many segment durations before it sheds work. */
  liveMaxTrailSegments: num('TRANSCODER_LIVE_MAX_TRAIL_SEGMENTS', { default: 3, min: 1, max: 100 }),
  /**
   * `off`: live streams never shed work (the edge delay is still measured, reported and exported);
   * for tests that check something else on a loaded machine, or a node sized for its streams.
   */
  shedding: oneOf('TRANSCODER_SHEDDING', ['on', 'off'] as const, { default: 'on' }),
  /** Low-latency mode (registry latency_mode low): target duration of an LL-HLS part (s); PART-TARGET is the longest part produced. */
  llPartSeconds: num('TRANSCODER_LL_PART_SECONDS', { default: 0.2, min: 0.05, max: 2 }),
  /** Low-latency mode: longest keyframe interval (s); the GOP divides the segment and is a whole number of parts. */
  llKeyframeSeconds: num('TRANSCODER_LL_KEYFRAME_SECONDS', { default: 1, min: 0.1, max: 10 }),
  /** Shed work comes back one step after the edge delay stayed under half the bound this long. */
  shedRestoreMs: int('TRANSCODER_SHED_RESTORE_MS', { default: 30_000, min: 1_000, max: 3_600_000 }),
  /** The preset a shedding stream switches to (its second step). */
  shedPreset: str('TRANSCODER_SHED_PRESET', { default: 'ultrafast', pattern: /^(ultrafast|superfast|veryfast|faster|fast)$/ }),
};

export type TranscoderConfig = Omit<ConfigOf<typeof transcoderEnvSpec>, 'groupId'> & {
  readonly groupId: string;
  kafka: ReturnType<typeof parseKafkaConfig>;
};

/** The transcoder's configuration, validated at start-up. */
export function loadTranscoderConfig(env: Env): TranscoderConfig {
  const parsed = parseEnv(transcoderEnvSpec, env);
  const kafka = parseKafkaConfig(env);
  // The same id as the chart's KafkaUser ACL and KEDA trigger (ScaledConsumerGroups in contracts).
  return { ...parsed, groupId: parsed.groupId ?? consumerGroupId(ConsumerGroups.transcoder, kafka.topicPrefix), kafka };
}

/** Injection token for the parsed TranscoderConfig. */
export const TRANSCODER_CONFIG = Symbol('TRANSCODER_CONFIG');
