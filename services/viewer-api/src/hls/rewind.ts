import type { Batch, ConsumerConfig, EachBatchHandler, Kafka } from 'kafkajs';
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

/**
 * Starts `runner` and rewinds it to `sinceMs` on every partition of `topic`: the positions are
 * looked up first, handed to `beforeStart` (the end offsets to reach before the rebuild is
 * complete; partitions with nothing to read are left out), and the seeks are issued as soon as the
 * consumer has joined. A consumer without committed offsets fetches from the latest offset until
 * the seek lands, and kafkajs may hand over such a batch even after the seek: its records are newer
 * than the rewound ones and would make them look stale. A handler that keeps windows in order skips
 * them with `RewindGate`, which `beforeStart` can set up. (Committing the positions for the group
 * before it joins avoids the race but costs a group join of its own, ~5 s, in kafkajs.)
 */
export async function startRewound(
  kafka: Kafka,
  runner: KafkaConsumerRunner,
  topic: string,
  sinceMs: number,
  beforeStart: (pending: Map<number, bigint>) => void = () => undefined,
): Promise<Map<number, bigint>> {
  const admin = kafka.admin();
  await admin.connect();
  let starts: { partition: number; offset: string }[];
  const pending = new Map<number, bigint>();
  try {
    starts = await retryKafka(() => admin.fetchTopicOffsetsByTimestamp(topic, sinceMs));
    const ends = await retryKafka(() => admin.fetchTopicOffsets(topic));
    for (const { partition, offset } of starts) {
      const end = ends.find((candidate) => candidate.partition === partition);
      if (end && BigInt(end.high) > BigInt(offset)) pending.set(partition, BigInt(end.high));
    }
  } finally {
    await admin.disconnect();
  }
  beforeStart(pending);
  await runner.start();
  for (const { partition, offset } of starts) runner.consumer.seek({ topic, partition, offset });
  return pending;
}

/**
 * Per partition with records to rebuild: the end offset seen before the consumer started. A batch
 * fetched from there on before any batch from below it is a pre-seek fetch from the latest offset
 * (see startRewound) and is skipped; the first batch from below it (the rewound range) opens the
 * partition for good.
 */
export class RewindGate {
  private readonly closed = new Map<number, bigint>();

  close(ends: Map<number, bigint>): void {
    for (const [partition, end] of ends) this.closed.set(partition, end);
  }

  /** Whether a batch that starts at `firstOffset` on `partition` may be handled. */
  passes(partition: number, firstOffset: string | bigint): boolean {
    const end = this.closed.get(partition);
    if (end === undefined) return true;
    if (BigInt(firstOffset) >= end) return false;
    this.closed.delete(partition);
    return true;
  }
}

/** Where a batch's fetch started (kafkajs Batch.fetchedOffset, not in its typings), else its first offset. */
export function batchStart(batch: Batch): string {
  const fetched = (batch as unknown as { fetchedOffset?: unknown }).fetchedOffset;
  return typeof fetched === 'string' || typeof fetched === 'number' ? String(fetched) : batch.firstOffset() ?? '0';
}
