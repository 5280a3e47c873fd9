import { ConsumerGroups, type KafkaPosition, type PlaybackEventMessage, type ResumeRequest } from '@tributary/contracts';
import type { Kafka } from 'kafkajs';
import { consumerGroupId, traceIdFromHeaders } from '@tributary/kafka';
import { checkEventMessage } from '../stats/stats-processor';

export interface ReplayOptions {
  kafka: Kafka;
  topic: string;
  /** Group id prefix (TOPIC_PREFIX-qualified); each replay uses a fresh group that never commits. */
  groupPrefix: string;
  request: ResumeRequest;
  onMessage: (message: PlaybackEventMessage) => void;
  timeoutMs: number;
  isCancelled: () => boolean;
}

export interface ReplayPlan {
  /** Partition → [start, end) to re-read. */
  ranges: Map<number, { start: bigint; end: bigint }>;
}

/**
 * Which offsets a resuming client missed: after its last position per partition (or from `since`
 * for partitions it has no position on) up to the log end now. Below the log start (retention)
 * it starts at the log start: what retention deleted cannot be replayed.
 */
export async function planReplay(kafka: Kafka, topic: string, request: ResumeRequest): Promise<ReplayPlan> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const bySince = request.since ? new Map((await admin.fetchTopicOffsetsByTimestamp(topic, Date.parse(request.since))).map((o) => [o.partition, BigInt(o.offset)])) : undefined;
    const seen = new Map<number, KafkaPosition>(request.positions.map((position) => [position.partition, position]));
    const ranges = new Map<number, { start: bigint; end: bigint }>();
    for (const { partition, high, low } of ends) {
      const end = BigInt(high);
      const position = seen.get(partition);
      let start = position ? BigInt(position.offset) + 1n : (bySince?.get(partition) ?? end);
      if (start < BigInt(low)) start = BigInt(low);
      if (start < end) ranges.set(partition, { start, end });
    }
    return { ranges };
  } finally {
    await admin.disconnect();
  }
}

/**
 * Reads the planned ranges with a short-lived consumer (a fresh group that never commits: kafkajs
 * has no group-less assignment) and hands each valid event to `onMessage`, in partition order.
 * Resolves with the number of events handed over once every range is read.
 */
export async function replay(options: ReplayOptions, plan: ReplayPlan): Promise<number> {
  if (plan.ranges.size === 0) return 0;
  const consumer = options.kafka.consumer({
    groupId: consumerGroupId(ConsumerGroups.eventGatewayResume, options.groupPrefix),
    allowAutoTopicCreation: false,
    sessionTimeout: 10_000,
    heartbeatInterval: 1_000,
    maxWaitTimeInMs: 100,
  });
  const remaining = new Map(plan.ranges);
  let delivered = 0;
  let finish: () => void = () => undefined;
  let fail: (error: Error) => void = () => undefined;
  const done = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  const timer = setTimeout(() => fail(new Error(`replay did not finish within ${options.timeoutMs} ms`)), options.timeoutMs);
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [options.topic], fromBeginning: false });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const range = remaining.get(batch.partition);
        if (!range) return;
        // A batch fetched before the seek took effect starts at or after `end`: it proves nothing.
        let inRange = false;
        for (const message of batch.messages) {
          if (options.isCancelled()) return finish();
          const offset = BigInt(message.offset);
          if (offset < range.start) continue;
          if (offset >= range.end) break;
          inRange = true;
          const checked = checkEventMessage(message);
          if (checked.ok) {
            options.onMessage({
              event: checked.value,
              position: { partition: batch.partition, offset: message.offset },
              trace_id: traceIdFromHeaders(message.headers),
            });
            delivered += 1;
          }
          if (offset + 1n >= range.end) break;
        }
        const last = BigInt(batch.lastOffset());
        if (inRange && last + 1n >= range.end) {
          remaining.delete(batch.partition);
          if (remaining.size === 0) finish();
        }
        return Promise.resolve();
      },
    });
    for (const [partition, range] of plan.ranges) consumer.seek({ topic: options.topic, partition, offset: range.start.toString() });
    await done;
    return delivered;
  } finally {
    clearTimeout(timer);
    await consumer.disconnect().catch(() => undefined);
  }
}
