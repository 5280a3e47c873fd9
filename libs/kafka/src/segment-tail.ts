import type { Kafka } from 'kafkajs';
import { VideoHeaders } from '@tributary/contracts';
import type { KafkaLogger } from './logger';
import { partitionForKey } from './partitioner';
import { headerString } from './trace-context';
import { fetchTopicOffsetsWithRetry } from './kafka-offsets';

export interface SegmentTail {
  /** Highest media sequence per rendition found for the stream. */
  lastSequence: Map<string, number>;
  /** How many messages of the partition were read. */
  scanned: number;
}

/**
 * Reads the last `lookback` messages of the `video.segments` partition that holds `streamId`
 * and returns the highest media sequence per rendition. A transcoder taking over a stream
 * (rebalance, crash) continues numbering after these, so sequences never repeat or go back.
 * Uses a throw-away consumer group (kafkajs cannot assign without a group) that it deletes.
 */
export async function readSegmentTail(
  kafka: Kafka,
  options: {
    topic: string;
    streamId: string;
    /** A throw-away group of the caller's (consumerGroupId of a per-replica group); deleted after. */
    groupId: string;
    lookback?: number;
    timeoutMs?: number;
    logger: KafkaLogger;
  },
): Promise<SegmentTail> {
  const lastSequence = new Map<string, number>();
  const admin = kafka.admin();
  await admin.connect();
  let partition: number;
  let start: bigint;
  let end: bigint;
  try {
    const offsets = await fetchTopicOffsetsWithRetry(admin, options.topic);
    partition = partitionForKey(options.topic, options.streamId, offsets.length);
    const found = offsets.find((entry) => entry.partition === partition);
    if (!found) throw new Error(`partition ${partition} of ${options.topic} not found`);
    end = BigInt(found.high);
    const low = BigInt(found.low);
    const lookback = BigInt(options.lookback ?? 2000);
    start = end - lookback > low ? end - lookback : low;
  } finally {
    await admin.disconnect();
  }
  if (end <= start) return { lastSequence, scanned: 0 };

  const { groupId } = options;
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false, maxBytesPerPartition: 16 * 1024 * 1024 });
  let scanned = 0;
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [options.topic], fromBeginning: false });
    const done = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`reading the tail of ${options.topic}[${partition}] took longer than ${options.timeoutMs ?? 30_000} ms`)),
        options.timeoutMs ?? 30_000,
      );
      void consumer.run({
        autoCommit: false,
        eachBatch: async (payload) => {
          const { batch } = payload;
          if (batch.partition !== partition) return;
          for (const message of batch.messages) {
            payload.resolveOffset(message.offset);
            scanned += 1;
            if (message.key?.toString() === options.streamId) {
              const rendition = headerString(message.headers, VideoHeaders.rendition);
              const sequence = Number(headerString(message.headers, VideoHeaders.mediaSequence));
              if (rendition && Number.isInteger(sequence) && sequence > (lastSequence.get(rendition) ?? -1)) {
                lastSequence.set(rendition, sequence);
              }
            }
            if (BigInt(message.offset) >= end - 1n) {
              clearTimeout(timer);
              resolve();
              return;
            }
          }
          await payload.heartbeat();
        },
      });
      // Segments are written in transactions: the partition's last offset is usually a commit
      // marker, which is never handed to eachBatch (a batch of markers only is not handed over
      // at all), so progress is taken from the batch's last offset, markers included.
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        if (payload.partition === partition && BigInt(payload.lastOffset) >= end - 1n) {
          clearTimeout(timer);
          resolve();
        }
      });
      consumer.on(consumer.events.GROUP_JOIN, () => consumer.seek({ topic: options.topic, partition, offset: start.toString() }));
    });
    await done;
  } finally {
    await consumer.disconnect().catch(() => undefined);
    try {
      await admin.connect();
      await admin.deleteGroups([groupId]);
    } catch {
      // best effort
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
  options.logger.debug(
    { component: 'segment-tail', streamId: options.streamId, partition, scanned, last: Object.fromEntries(lastSequence) },
    'read segment tail',
  );
  return { lastSequence, scanned };
}
