import type { Kafka } from 'kafkajs';
import type { TopicSpec } from '@tributary/contracts';
import type { KafkaLogger } from './logger';

export interface EnsureTopicsResult {
  created: string[];
  existing: string[];
  /** Topics whose partition count was raised to the spec (partitions only grow). */
  grown: string[];
}

/**
 * Creates missing topics with their configs and grows partition counts that are below the spec.
 * Idempotent and safe to run from every replica at start-up: a concurrent creation by another
 * replica is treated as "existing".
 */
export async function ensureTopics(
  kafka: Kafka,
  specs: readonly TopicSpec[],
  options: { replicationFactor: number; logger: KafkaLogger },
): Promise<EnsureTopicsResult> {
  // Right after creation a broker's metadata cache can still answer "does not host this
  // topic-partition" (retriable; kafkajs only retries "leader not available"). Ensuring is
  // idempotent, so the whole step is retried rather than failing the service's start-up.
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await ensureTopicsOnce(kafka, specs, options);
    } catch (error) {
      if (attempt >= ENSURE_ATTEMPTS || (error as { retriable?: unknown }).retriable !== true) throw error;
      options.logger.warn(
        { component: 'kafka.admin', attempt, error: (error as Error).message },
        'ensuring topics hit a retriable error; retrying',
      );
      await new Promise((wait) => setTimeout(wait, 500 * attempt));
    }
  }
}

const ENSURE_ATTEMPTS = 5;

async function ensureTopicsOnce(
  kafka: Kafka,
  specs: readonly TopicSpec[],
  options: { replicationFactor: number; logger: KafkaLogger },
): Promise<EnsureTopicsResult> {
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
      const toGrow = existingSpecs.filter((spec) => (counts.get(spec.name) ?? 0) < spec.partitions);
      if (toGrow.length > 0) {
        await admin.createPartitions({
          topicPartitions: toGrow.map((spec) => ({ topic: spec.name, count: spec.partitions })),
        });
        grown.push(...toGrow.map((spec) => spec.name));
      }
    }
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
