import type { Admin, Kafka } from 'kafkajs';
import { fetchTopicOffsetsWithRetry } from '@tributary/kafka';
import type { PartitionOffsets } from '../lag-autoscaler/keda-formula';
import type { LagSource } from '../lag-autoscaler/lag-autoscaler';

/**
 * The group's committed offsets and the topic's log-end offsets, read with one admin client. Unlike
 * telemetry's ConsumerLagMonitor (which skips partitions without a commit and only sets gauges), it
 * returns every partition with `committed: -1` where the group has none, because KEDA counts those
 * (keda-formula.ts partitionLag). RBAC on Kafka: Describe on the group and the topic.
 *
 * Readers share it (LagSources): a reading younger than `freshForMs` — or one under way — is
 * handed to every caller, so the status observer and the lag autoscaler do not each ask the broker.
 */
export class KafkaLagSource implements LagSource {
  private admin: Promise<Admin> | undefined;
  private latest: { at: number; reading: Promise<PartitionOffsets[]> } | undefined;

  constructor(
    private readonly kafka: Kafka,
    readonly group: string,
    readonly topic: string,
    private readonly freshForMs = 0,
    private readonly now: () => number = Date.now,
  ) {}

  read(): Promise<PartitionOffsets[]> {
    const latest = this.latest;
    if (latest && this.now() - latest.at < this.freshForMs) return latest.reading;
    const reading = this.readFromBroker();
    const entry = { at: this.now(), reading };
    this.latest = entry;
    // A failed reading is not shared: the next caller asks again.
    reading.catch(() => {
      if (this.latest === entry) this.latest = undefined;
    });
    return reading;
  }

  private async readFromBroker(): Promise<PartitionOffsets[]> {
    const admin = await this.connect();
    try {
      const [committed] = await admin.fetchOffsets({ groupId: this.group, topics: [this.topic] });
      const ends = await fetchTopicOffsetsWithRetry(admin, this.topic, 3);
      const committedOf = new Map((committed?.partitions ?? []).map((entry) => [entry.partition, Number(entry.offset)]));
      return ends
        .map((end) => ({ partition: end.partition, committed: committedOf.get(end.partition) ?? -1, end: Number(end.high) }))
        .sort((a, b) => a.partition - b.partition);
    } catch (error) {
      // A broken connection is rebuilt on the next read.
      this.admin = undefined;
      await admin.disconnect().catch(() => undefined);
      throw error;
    }
  }

  private connect(): Promise<Admin> {
    if (!this.admin) {
      const admin = this.kafka.admin();
      this.admin = admin.connect().then(() => admin);
      this.admin.catch(() => {
        this.admin = undefined;
      });
    }
    return this.admin;
  }

  async close(): Promise<void> {
    const admin = this.admin;
    this.admin = undefined;
    this.latest = undefined;
    await admin?.then((client) => client.disconnect()).catch(() => undefined);
  }
}
