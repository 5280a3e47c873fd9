import type { Consumer, ConsumerConfig, EachBatchHandler, Kafka } from 'kafkajs';
import { KafkaConsumerRunner, type KafkaLogger } from '@tributary/kafka';
import { retryKafka } from '../streams/retry';

export interface RewoundConsumerOptions {
  /** This replica's own group (libs/kafka `consumerGroupId`). */
  groupId: string;
  topic: string;
  logger: KafkaLogger;
  consumerConfig?: Partial<ConsumerConfig>;
  eachBatch: EachBatchHandler;
}

/**
 * A batch consumer of `topic` for this replica alone: its own group, no commits, no starting
 * position of its own (`startRewound` gives it one). Keep the runner before starting it, so
 * shutdown stops it even if the start fails.
 */
export function rewoundConsumer(kafka: Kafka, options: RewoundConsumerOptions): KafkaConsumerRunner {
  return new KafkaConsumerRunner(kafka, {
    groupId: options.groupId,
    topics: [options.topic],
    fromBeginning: false,
    autoCommit: false,
    logger: options.logger,
    consumerConfig: options.consumerConfig,
    eachBatch: options.eachBatch,
  });
}

/** Starts `runner` and rewinds it to `sinceMs` on every partition of `topic` (see `rewindTo`). */
export async function startRewound(kafka: Kafka, runner: KafkaConsumerRunner, topic: string, sinceMs: number): Promise<Map<number, bigint>> {
  await runner.start();
  return rewindTo(kafka, runner.consumer, topic, sinceMs);
}

/**
 * Points a just-started consumer (its own group, nothing committed) at `sinceMs` on every
 * partition of `topic`, so a restarted replica rebuilds what it keeps in memory from Kafka.
 * Returns the end offsets to reach before the rebuild is complete (partitions with nothing to
 * read are left out).
 */
export async function rewindTo(kafka: Kafka, consumer: Consumer, topic: string, sinceMs: number): Promise<Map<number, bigint>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const starts = await retryKafka(() => admin.fetchTopicOffsetsByTimestamp(topic, sinceMs));
    const ends = await retryKafka(() => admin.fetchTopicOffsets(topic));
    const pending = new Map<number, bigint>();
    for (const { partition, offset } of starts) {
      consumer.seek({ topic, partition, offset });
      const end = ends.find((candidate) => candidate.partition === partition);
      if (end && BigInt(end.high) > BigInt(offset)) pending.set(partition, BigInt(end.high));
    }
    return pending;
  } finally {
    await admin.disconnect();
  }
}
