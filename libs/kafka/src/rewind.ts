import type { Consumer, Kafka } from 'kafkajs';
import type { KafkaLogger } from './logger';

/** The offset of each partition's first message at or after `timestampMs` (the log end when there is none). */
export async function offsetsAtTimestamp(kafka: Kafka, topic: string, timestampMs: number): Promise<Map<number, string>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsetsByTimestamp(topic, timestampMs);
    return new Map(offsets.map(({ partition, offset }) => [partition, offset]));
  } finally {
    await admin.disconnect();
  }
}

export interface RewindOnAssignmentOptions {
  kafka: Kafka;
  consumer: Consumer;
  topic: string;
  /** How far back to re-read, from the moment partitions are assigned. */
  lookbackMs: () => number;
  logger: KafkaLogger;
  /** Called with the partitions of `topic` assigned in the new generation and the offsets sought to. */
  onAssigned?: (assigned: Map<number, string>) => void;
}

/**
 * On every group join, seeks each partition of `topic` assigned to this member back to the first
 * message of the last `lookbackMs`. For consumers whose state is a function of a recent time
 * window (windowed statistics, "latest value" caches): state is rebuilt from Kafka instead of
 * being checkpointed, so a restart or a rebalance costs one window of re-reading and never loses
 * the window. The consumer must be idempotent for re-read messages (e.g. de-duplicate by id).
 * kafkajs discards messages of batches in flight for a partition that is sought.
 */
export function rewindOnAssignment(options: RewindOnAssignmentOptions): void {
  const { consumer } = options;
  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    const partitions = event.payload.memberAssignment[options.topic] ?? [];
    const timestamp = Date.now() - options.lookbackMs();
    offsetsAtTimestamp(options.kafka, options.topic, timestamp)
      .then((offsets) => {
        const assigned = new Map<number, string>();
        for (const partition of partitions) {
          const offset = offsets.get(partition);
          if (offset === undefined) continue;
          consumer.seek({ topic: options.topic, partition, offset });
          assigned.set(partition, offset);
        }
        options.logger.info(
          { component: 'kafka.rewind', topic: options.topic, partitions, since: new Date(timestamp).toISOString() },
          'partitions assigned: re-reading the recent window',
        );
        options.onAssigned?.(assigned);
      })
      .catch((error: unknown) => {
        options.logger.error(
          { component: 'kafka.rewind', topic: options.topic, error: String(error) },
          'could not look up offsets by timestamp: continuing from the committed offsets (state covers less than the window)',
        );
        options.onAssigned?.(new Map());
      });
  });
}
