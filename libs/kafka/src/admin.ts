import type { Kafka } from 'kafkajs';
import { type TopicSpec, Topics } from '@tributary/contracts';
import type { KafkaLogger } from './logger';
import { retryKafka } from './retry';

/**
 * Keyed topics whose history is read back by partition: the transcoder reads a stream's last
 * segments from `partition(stream id)` of video.segments, replay and the live-window rebuild read
 * a stream's segments there, and a stream's unconsumed chunks wait in its video.ingest partition.
 * Adding partitions changes `murmur2(key) % partitions` for most keys, so the platform would look
 * for a stream's past in the wrong partition. Their partition count is therefore only grown by an
 * explicit migration (see docs/reliability.md), never silently at start-up.
 */
export const KEYED_HISTORY_TOPICS: readonly string[] = [Topics.videoSegments, Topics.videoIngest, Topics.videoFrames];

/** Whether `name` (with or without a TOPIC_PREFIX) is one of KEYED_HISTORY_TOPICS. */
export function isKeyedHistoryTopic(name: string): boolean {
  return KEYED_HISTORY_TOPICS.some((base) => name === base || name.endsWith(`.${base}`));
}

/** Thrown instead of growing a keyed-history topic without the migration flag. */
export class PartitionGrowthRefusedError extends Error {
  override readonly name = 'PartitionGrowthRefusedError';
}

/**
 * Which existing topics to grow to their spec's partition count. Growing a keyed-history topic is
 * refused (an error naming the topics) unless `allowKeyedGrowth` is set by a migration.
 */
export function planPartitionGrowth(
  specs: readonly TopicSpec[],
  currentPartitions: ReadonlyMap<string, number>,
  allowKeyedGrowth: boolean,
): TopicSpec[] {
  const toGrow = specs.filter((spec) => (currentPartitions.get(spec.name) ?? 0) < spec.partitions);
  const refused = allowKeyedGrowth ? [] : toGrow.filter((spec) => isKeyedHistoryTopic(spec.name));
  if (refused.length > 0) {
    const what = refused.map((spec) => `${spec.name} ${currentPartitions.get(spec.name)} → ${spec.partitions}`).join(', ');
    throw new PartitionGrowthRefusedError(
      `refusing to add partitions to keyed video topics (${what}): streams would be looked up in the wrong partition. ` +
        'Keep KAFKA_VIDEO_PARTITIONS at the current count, or migrate (docs/reliability.md) and set KAFKA_VIDEO_PARTITION_MIGRATION=true once.',
    );
  }
  return toGrow;
}

export interface EnsureTopicsResult {
  created: string[];
  existing: string[];
  /** Topics whose partition count was raised to the spec (partitions only grow). */
  grown: string[];
}

export interface EnsureTopicsOptions {
  replicationFactor: number;
  logger: KafkaLogger;
  /** Allow growing keyed-history topics (a deliberate migration; see KEYED_HISTORY_TOPICS). */
  allowKeyedPartitionGrowth?: boolean;
}

/**
 * Creates missing topics with their configs and grows partition counts that are below the spec
 * (except keyed-history topics: see planPartitionGrowth). Idempotent and safe to run from every
 * replica at start-up: a concurrent creation by another replica is treated as "existing".
 */
export async function ensureTopics(kafka: Kafka, specs: readonly TopicSpec[], options: EnsureTopicsOptions): Promise<EnsureTopicsResult> {
  // Right after creation a broker's metadata cache can still answer "does not host this
  // topic-partition" (retriable; kafkajs only retries "leader not available"). Ensuring is
  // idempotent, so the whole step is retried rather than failing the service's start-up.
  return retryKafka(() => ensureTopicsOnce(kafka, specs, options), {
    attempts: ENSURE_ATTEMPTS,
    delayMs: (attempt) => 500 * attempt,
    retriable: (error) => (error as { retriable?: unknown }).retriable === true,
    onRetry: (error, attempt) =>
      options.logger.warn({ component: 'kafka.admin', attempt, error: (error as Error).message }, 'ensuring topics hit a retriable error; retrying'),
  });
}

const ENSURE_ATTEMPTS = 5;

const SERVED_TIMEOUT_MS = 15_000;

/**
 * Waits until the broker answers metadata for every topic with a leader for every partition.
 * `createTopics({ waitForLeaders })` returns once the controller knows the leaders, but a broker's
 * metadata cache can lag behind it for a moment, and the service's producer or consumer, asking
 * right after, would get "does not host this topic-partition" and fail start-up (seen with two
 * services creating the same fresh topics).
 */
async function waitUntilServed(admin: ReturnType<Kafka['admin']>, topics: readonly string[]): Promise<void> {
  const deadline = Date.now() + SERVED_TIMEOUT_MS;
  for (;;) {
    try {
      const metadata = await admin.fetchTopicMetadata({ topics: [...topics] });
      const served = metadata.topics.every((topic) => topic.partitions.length > 0 && topic.partitions.every((partition) => partition.leader >= 0));
      if (served && metadata.topics.length === topics.length) return;
    } catch (error) {
      if ((error as { retriable?: unknown }).retriable !== true || Date.now() > deadline) throw error;
    }
    if (Date.now() > deadline) throw new Error(`Kafka did not serve the metadata of ${topics.join(', ')} within ${SERVED_TIMEOUT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function ensureTopicsOnce(kafka: Kafka, specs: readonly TopicSpec[], options: EnsureTopicsOptions): Promise<EnsureTopicsResult> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const present = new Set(await admin.listTopics());
    const missing = specs.filter((spec) => !present.has(spec.name));
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((spec) => ({
          topic: spec.name,
          numPartitions: spec.partitions,
          replicationFactor: options.replicationFactor,
          configEntries: Object.entries(spec.configs).map(([name, value]) => ({ name, value })),
        })),
      });
    }
    const existingSpecs = specs.filter((spec) => present.has(spec.name));
    const grown: string[] = [];
    if (existingSpecs.length > 0) {
      const metadata = await admin.fetchTopicMetadata({ topics: existingSpecs.map((spec) => spec.name) });
      const counts = new Map(metadata.topics.map((topic) => [topic.name, topic.partitions.length]));
      const toGrow = planPartitionGrowth(existingSpecs, counts, options.allowKeyedPartitionGrowth ?? false);
      if (toGrow.length > 0) {
        await admin.createPartitions({
          topicPartitions: toGrow.map((spec) => ({ topic: spec.name, count: spec.partitions })),
        });
        grown.push(...toGrow.map((spec) => spec.name));
      }
    }
    await waitUntilServed(admin, specs.map((spec) => spec.name));
    const result = {
      created: missing.map((spec) => spec.name),
      existing: existingSpecs.map((spec) => spec.name),
      grown,
    };
    options.logger.info({ component: 'kafka.admin', ...result }, 'topics ensured');
    return result;
  } finally {
    await admin.disconnect();
  }
}
