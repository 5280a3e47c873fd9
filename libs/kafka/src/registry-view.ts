import type { Consumer, Kafka } from 'kafkajs';
import { type StreamRecord, streamRecordValidator } from '@tributary/contracts';
import type { KafkaLogger } from './logger';
import { fetchTopicOffsetsWithRetry } from './kafka-offsets';

export interface StreamRegistryViewOptions {
  /** The physical `stream.registry` topic. */
  topic: string;
  /** This process's own throw-away group (libs/kafka consumerGroupId of a per-replica group). */
  groupId: string;
  logger: KafkaLogger;
  catchUpTimeoutMs?: number;
}

/**
 * A service's in-memory view of the compacted `stream.registry` topic (there is no database).
 *
 * Every replica needs the *whole* registry, so this is a full read of every partition, not a
 * share of a consumer group. kafkajs has no group-less `assign()`, so each process uses its own
 * throw-away group, never commits, reads from the beginning and deletes the
 * group when it stops. `caughtUp` turns true once it has read up to the end offsets that existed
 * at start-up (readiness waits for it); `apply()` lets the writing replica see its own write
 * immediately, before the record comes back from Kafka.
 */
export class StreamRegistryView {
  private readonly records = new Map<string, StreamRecord>();
  /** stream_key_sha256 → stream id: ingest finds a publisher's stream in O(1). */
  private readonly idsByKeyHash = new Map<string, string>();
  private readonly groupId: string;
  private consumer?: Consumer;
  private remaining = new Map<number, string>();
  private caught = false;
  private stopped = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly options: StreamRegistryViewOptions,
  ) {
    this.groupId = options.groupId;
  }

  get caughtUp(): boolean {
    return this.caught && !this.stopped;
  }

  get(id: string): StreamRecord | undefined {
    return this.records.get(id);
  }

  list(): StreamRecord[] {
    return [...this.records.values()];
  }

  /** The stream whose `stream_key_sha256` is this hex digest. */
  getByKeyHash(keySha256: string): StreamRecord | undefined {
    const id = this.idsByKeyHash.get(keySha256);
    return id === undefined ? undefined : this.records.get(id);
  }

  /** Records a write this process just made (read-your-writes); null deletes. */
  apply(id: string, record: StreamRecord | null): void {
    this.store(id, record);
  }

  private store(id: string, record: StreamRecord | null): void {
    const previous = this.records.get(id);
    if (previous && this.idsByKeyHash.get(previous.stream_key_sha256) === id) this.idsByKeyHash.delete(previous.stream_key_sha256);
    if (record) {
      this.records.set(id, record);
      this.idsByKeyHash.set(record.stream_key_sha256, id);
    } else {
      this.records.delete(id);
    }
  }

  async start(): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const offsets = await fetchTopicOffsetsWithRetry(admin, this.options.topic);
      for (const { partition, high, low } of offsets) {
        if (BigInt(high) > BigInt(low)) this.remaining.set(partition, (BigInt(high) - 1n).toString());
      }
    } finally {
      await admin.disconnect();
    }
    if (this.remaining.size === 0) this.caught = true;
    const consumer = this.kafka.consumer({ groupId: this.groupId, allowAutoTopicCreation: false, sessionTimeout: 30_000 });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topics: [this.options.topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      // eslint-disable-next-line @typescript-eslint/require-await -- kafkajs wants a promise; the work is synchronous.
      eachMessage: async ({ partition, message }) => {
        const id = message.key?.toString();
        if (id) this.ingest(id, message.value);
        const target = this.remaining.get(partition);
        if (target !== undefined && BigInt(message.offset) >= BigInt(target)) {
          this.remaining.delete(partition);
          if (this.remaining.size === 0 && !this.caught) {
            this.caught = true;
            this.options.logger.info({ component: 'stream-registry', streams: this.records.size }, 'stream registry loaded');
          }
        }
      },
    });
    const deadline = Date.now() + (this.options.catchUpTimeoutMs ?? 60_000);
    while (!this.caught) {
      if (Date.now() > deadline) throw new Error(`stream registry ${this.options.topic} not read to its end within the time limit`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  private ingest(id: string, value: Buffer | null): void {
    if (value === null) {
      this.store(id, null);
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(value.toString('utf8'));
    } catch {
      parsed = undefined;
    }
    const result = streamRecordValidator.validate(parsed);
    if (!result.ok) {
      // Every replica reads the registry in full; one DLQ copy per replica would be noise, so an
      // invalid record is logged and ignored (the previous record for the id stays in force).
      this.options.logger.warn({ component: 'stream-registry', streamId: id, issues: result.issues }, 'invalid stream record ignored');
      return;
    }
    this.store(id, result.value);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.consumer?.disconnect().catch(() => undefined);
    const admin = this.kafka.admin();
    try {
      await admin.connect();
      await admin.deleteGroups([this.groupId]);
    } catch {
      // best effort: an empty group expires on its own (offsets.retention.minutes)
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
}
