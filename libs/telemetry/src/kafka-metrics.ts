import type { Admin, Consumer, Kafka, Message } from 'kafkajs';
import { int, parseEnv, processEnv } from '@tributary/config';
import { kafkaMetrics } from './metrics';

// Type-only kafkajs imports: this file must not load kafkajs before startTelemetry has run.

export const kafkaMetricsEnvSpec = {
  /** How often consumer lag is sampled (committed offsets vs log-end offsets). */
  lagIntervalMs: int('METRICS_KAFKA_LAG_INTERVAL_MS', { default: 10_000, min: 200, max: 600_000 }),
};

/** Counts a send's messages as produced (when it resolves) or as errors (when it rejects). */
export async function observeProduce<T>(topic: string, messages: Message[], send: Promise<T>): Promise<T> {
  try {
    const result = await send;
    kafkaMetrics.produced().inc({ topic }, messages.length);
    let bytes = 0;
    for (const message of messages) {
      const value = message.value;
      bytes += value === null || value === undefined ? 0 : typeof value === 'string' ? Buffer.byteLength(value) : value.length;
    }
    kafkaMetrics.producedBytes().inc({ topic }, bytes);
    return result;
  } catch (error) {
    kafkaMetrics.produceErrors().inc({ topic }, messages.length);
    throw error;
  }
}

/**
 * Counts what a consumer processes (kafkajs' END_BATCH_PROCESS instrumentation event fires after
 * each fetched batch has been handled, for `eachMessage` and `eachBatch` alike).
 */
export function observeConsumer(consumer: Consumer, groupId: string): void {
  consumer.on(consumer.events.END_BATCH_PROCESS, (event) => {
    const { topic, batchSize, duration } = event.payload;
    kafkaMetrics.consumed().inc({ group: groupId, topic }, batchSize);
    kafkaMetrics.batchDuration().observe({ group: groupId, topic }, duration / 1000);
  });
}

interface TrackedGroup {
  groupId: string;
  topics: string[];
  kafka: Kafka;
}

/** What the lag sampler needs from a kafkajs admin client (a fake in unit tests). */
export type LagAdmin = Pick<Admin, 'connect' | 'disconnect' | 'fetchOffsets' | 'fetchTopicOffsets'>;

/**
 * Samples consumer lag for the groups this process consumes with: every interval, the group's
 * committed offsets (admin fetchOffsets) against each partition's log-end offset
 * (fetchTopicOffsets). Partitions the group has never committed on are not reported (a group
 * that starts at `latest` has no backlog there). Every replica of a group reports the same
 * numbers; aggregate with `max by (group, topic, partition)`.
 */
export class ConsumerLagMonitor {
  private readonly groups = new Map<string, TrackedGroup>();
  private readonly admins = new Map<Kafka, Promise<LagAdmin>>();
  private timer: NodeJS.Timeout | undefined;
  private sampling: Promise<void> | undefined;

  constructor(
    private readonly intervalMs: number,
    private readonly adminOf: (kafka: Kafka) => LagAdmin = (kafka) => kafka.admin(),
  ) {}

  track(kafka: Kafka, groupId: string, topics: string[]): void {
    this.groups.set(groupId, { groupId, topics, kafka });
    if (!this.timer) {
      this.timer = setInterval(() => void this.sampleOnce(), this.intervalMs);
      this.timer.unref();
    }
  }

  /** Stops sampling a group and removes its series (the group left: its lag is no longer ours). */
  async untrack(groupId: string): Promise<void> {
    const group = this.groups.get(groupId);
    if (!group) return;
    this.groups.delete(groupId);
    for (const topic of group.topics) {
      // Remove every partition series of this group/topic.
      const lag = kafkaMetrics.lag();
      const values = (await lag.get()).values.filter((value) => value.labels.group === groupId && value.labels.topic === topic);
      for (const value of values) lag.remove({ group: groupId, topic, partition: String(value.labels.partition) });
    }
    if (![...this.groups.values()].some((other) => other.kafka === group.kafka)) {
      const admin = this.admins.get(group.kafka);
      this.admins.delete(group.kafka);
      await admin?.then((client) => client.disconnect()).catch(() => undefined);
    }
    if (this.groups.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /** One sample of every tracked group (also called by tests). */
  async sampleOnce(): Promise<void> {
    if (this.sampling) return this.sampling;
    this.sampling = this.sampleAll().finally(() => {
      this.sampling = undefined;
    });
    return this.sampling;
  }

  private async sampleAll(): Promise<void> {
    for (const group of [...this.groups.values()]) {
      try {
        await this.sampleGroup(group);
      } catch {
        kafkaMetrics.lagScrapeErrors().inc({ group: group.groupId });
        // A broken admin connection is rebuilt on the next sample.
        this.admins.delete(group.kafka);
      }
    }
  }

  private async admin(kafka: Kafka): Promise<LagAdmin> {
    let admin = this.admins.get(kafka);
    if (!admin) {
      const client = this.adminOf(kafka);
      admin = client.connect().then(() => client);
      admin.catch(() => this.admins.delete(kafka));
      this.admins.set(kafka, admin);
    }
    return admin;
  }

  private async sampleGroup(group: TrackedGroup): Promise<void> {
    const admin = await this.admin(group.kafka);
    const committed = await admin.fetchOffsets({ groupId: group.groupId, topics: group.topics });
    const lag = kafkaMetrics.lag();
    for (const { topic, partitions } of committed) {
      const ends = await admin.fetchTopicOffsets(topic);
      const endOf = new Map(ends.map((end) => [end.partition, Number(end.high)]));
      for (const { partition, offset } of partitions) {
        const committedOffset = Number(offset);
        const end = endOf.get(partition);
        if (end === undefined || committedOffset < 0) continue;
        lag.set({ group: group.groupId, topic, partition: String(partition) }, Math.max(0, end - committedOffset));
      }
    }
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const admins = [...this.admins.values()];
    this.admins.clear();
    this.groups.clear();
    await Promise.all(admins.map((admin) => admin.then((client) => client.disconnect()).catch(() => undefined)));
  }
}

let lagMonitor: ConsumerLagMonitor | undefined;

/** The process's lag monitor (interval from METRICS_KAFKA_LAG_INTERVAL_MS, default 10 s). */
export function consumerLag(): ConsumerLagMonitor {
  if (!lagMonitor) {
    lagMonitor = new ConsumerLagMonitor(parseEnv(kafkaMetricsEnvSpec, processEnv()).lagIntervalMs);
  }
  return lagMonitor;
}

/**
 * Everything a consumer needs for metrics, in one call from where it is created: consumed
 * counters and lag sampling for its group. Returns the function to call when it stops.
 */
export function instrumentConsumer(kafka: Kafka, consumer: Consumer, groupId: string, topics: string[]): () => Promise<void> {
  observeConsumer(consumer, groupId);
  if (topics.length > 0) consumerLag().track(kafka, groupId, topics);
  return () => consumerLag().untrack(groupId);
}
