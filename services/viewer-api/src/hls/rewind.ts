import type { Consumer, Kafka } from 'kafkajs';
import { retryKafka } from '../streams/retry';

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
