/**
 * Topic names and their configurations: part of Tributary's public contract. Services never
 * spell a topic name themselves; they resolve one of these through `topicName()` so an optional
 * TOPIC_PREFIX (for shared clusters) applies everywhere at once.
 */

export const Topics = {
  /** Player and CMCD playback events (JSON), keyed by stream id. */
  playbackEvents: 'playback.events',
  /** Per-stream windowed statistics (JSON), keyed by stream id. */
  playbackStats: 'playback.stats',
  /** The registry of streams (JSON), keyed by stream id; compacted, a tombstone deletes. */
  streamRegistry: 'stream.registry',
  /** Stream lifecycle changes (live, ended, error), keyed by stream id. */
  streamStatus: 'stream.status',
  /** Publish claims, heartbeats and releases of ingest replicas (JSON), keyed by stream id. */
  streamClaims: 'stream.claims',
  /** Raw MPEG-TS chunks from publishers, keyed by stream id. */
  videoIngest: 'video.ingest',
  /** JPEG frames (published frames and thumbnails), keyed by stream id. */
  videoFrames: 'video.frames',
  /** Finished HLS segments with their metadata in headers, keyed by stream id. */
  videoSegments: 'video.segments',
} as const;

export type TopicKey = keyof typeof Topics;
export type BaseTopic = (typeof Topics)[TopicKey];

export const DEAD_LETTER_SUFFIX = '.dlq';

/** Where messages that fail validation on `topic` go, with the reason in a header. */
export function deadLetterTopicOf(topic: string): string {
  return `${topic}${DEAD_LETTER_SUFFIX}`;
}

/** The physical topic name for a base topic under an optional prefix (`acme.` + `playback.events`). */
export function topicName(base: string, prefix = ''): string {
  if (prefix === '') return base;
  return prefix.endsWith('.') ? `${prefix}${base}` : `${prefix}.${base}`;
}

export interface TopicSpec {
  readonly name: string;
  readonly partitions: number;
  /** Broker-side topic configs, applied on creation. */
  readonly configs: Readonly<Record<string, string>>;
}

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;
const MIB = 1024 * 1024;

/** Partition counts are the unit of consumer scaling (and KEDA's replica cap). */
export interface TopicSizing {
  readonly eventPartitions: number;
  readonly videoPartitions: number;
}

export const DEFAULT_TOPIC_SIZING: TopicSizing = { eventPartitions: 6, videoPartitions: 6 };

function dataTopics(sizing: TopicSizing): TopicSpec[] {
  return [
    {
      name: Topics.playbackEvents,
      partitions: sizing.eventPartitions,
      configs: { 'retention.ms': String(7 * DAY_MS), 'max.message.bytes': String(1 * MIB), 'cleanup.policy': 'delete' },
    },
    {
      name: Topics.playbackStats,
      partitions: sizing.eventPartitions,
      configs: { 'retention.ms': String(1 * DAY_MS), 'max.message.bytes': String(1 * MIB), 'cleanup.policy': 'delete' },
    },
    {
      name: Topics.streamRegistry,
      partitions: 1,
      // A registry: the latest record per stream id is the truth; tombstones delete after a day.
      configs: {
        'cleanup.policy': 'compact',
        'min.compaction.lag.ms': '0',
        'delete.retention.ms': String(1 * DAY_MS),
        'max.message.bytes': String(256 * 1024),
      },
    },
    {
      name: Topics.streamStatus,
      partitions: 1,
      configs: { 'retention.ms': String(7 * DAY_MS), 'max.message.bytes': String(256 * 1024), 'cleanup.policy': 'delete' },
    },
    {
      name: Topics.streamClaims,
      partitions: 3,
      // Every ingest replica re-reads the last few leases at start-up, never more: an hour is
      // plenty. LogAppendTime: leases are measured on the partition leader's clock, not on the
      // writers' (replicas' clocks may disagree).
      configs: {
        'retention.ms': String(1 * HOUR_MS),
        'max.message.bytes': String(64 * 1024),
        'cleanup.policy': 'delete',
        'message.timestamp.type': 'LogAppendTime',
      },
    },
    {
      name: Topics.videoIngest,
      partitions: sizing.videoPartitions,
      configs: { 'retention.ms': String(6 * HOUR_MS), 'max.message.bytes': String(4 * MIB), 'cleanup.policy': 'delete' },
    },
    {
      name: Topics.videoFrames,
      partitions: sizing.videoPartitions,
      configs: { 'retention.ms': String(1 * HOUR_MS), 'max.message.bytes': String(4 * MIB), 'cleanup.policy': 'delete' },
    },
    {
      name: Topics.videoSegments,
      partitions: sizing.videoPartitions,
      // Segments are the replay archive: retention bounds how far back a viewer can rewind.
      configs: { 'retention.ms': String(1 * DAY_MS), 'max.message.bytes': String(16 * MIB), 'cleanup.policy': 'delete' },
    },
  ];
}

/** Every topic Tributary uses, including one dead-letter topic per data topic. */
export function topicSpecs(prefix = '', sizing: TopicSizing = DEFAULT_TOPIC_SIZING): TopicSpec[] {
  const specs = dataTopics(sizing);
  const deadLetters: TopicSpec[] = specs.map((spec) => ({
    name: deadLetterTopicOf(spec.name),
    partitions: 1,
    configs: {
      'retention.ms': String(14 * DAY_MS),
      'max.message.bytes': spec.configs['max.message.bytes'] ?? String(1 * MIB),
      'cleanup.policy': 'delete',
    },
  }));
  return [...specs, ...deadLetters].map((spec) => ({ ...spec, name: topicName(spec.name, prefix) }));
}
