import type { EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { KafkaConsumerRunner, type KafkaLogger } from '@tributary/kafka';

interface ReadOperation {
  partition: number;
  next: bigint;
  until: bigint;
  visit: (message: KafkaMessage) => boolean;
  resolve: () => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * Random access to `video.segments` by (partition, offset) for replay. kafkajs has no
 * "fetch at offset" call outside a consumer, and joining a new group per request is slow, so one
 * long-lived consumer (its own group, never commits) keeps every partition paused and, per read,
 * seeks one partition, resumes it, hands messages to the caller until `until`, and pauses it
 * again. Reads are serialised (one partition position at a time).
 */
export class ArchiveReader {
  private readonly runner: KafkaConsumerRunner;
  private current: ReadOperation | null = null;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    kafka: Kafka,
    private readonly topic: string,
    groupId: string,
    logger: KafkaLogger,
    private readonly readTimeoutMs = 15_000,
  ) {
    this.runner = new KafkaConsumerRunner(kafka, {
      groupId,
      topics: [topic],
      fromBeginning: false,
      autoCommit: false,
      logger,
      consumerConfig: { maxWaitTimeInMs: 100, maxBytesPerPartition: 32 * 1024 * 1024 },
      eachBatch: (payload) => {
        this.handleBatch(payload);
        return Promise.resolve();
      },
    });
    // Segments are written in transactions: a read's last offset is often a commit marker, never
    // handed to eachBatch, so a batch's last offset (markers included) also completes a read.
    this.runner.consumer.on(this.runner.consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      const op = this.current;
      if (!op || payload.partition !== op.partition || payload.firstOffset === null) return;
      if (BigInt(payload.firstOffset) <= op.next && BigInt(payload.lastOffset) >= op.until) {
        this.finish();
        op.resolve();
      }
    });
  }

  get isJoined(): boolean {
    return this.runner.isJoined;
  }

  async start(): Promise<void> {
    await this.runner.start();
    this.runner.consumer.pause([{ topic: this.topic }]);
  }

  async stop(): Promise<void> {
    this.current?.reject(new Error('archive reader stopped'));
    await this.runner.stop();
  }

  /**
   * Visits the messages of `partition` from `from` to `until` (inclusive) in order; `visit`
   * returns false to stop early. Offsets that no longer exist (retention, compaction) are skipped.
   */
  read(partition: number, from: bigint, until: bigint, visit: (message: KafkaMessage) => boolean): Promise<void> {
    if (from > until) return Promise.resolve();
    const run = () =>
      new Promise<void>((resolve, reject) => {
        const fail = (error: Error) => {
          this.finish();
          reject(error);
        };
        const timer = setTimeout(
          () => fail(new Error(`reading partition ${partition} offsets ${from}..${until} timed out after ${this.readTimeoutMs} ms`)),
          this.readTimeoutMs,
        );
        this.current = { partition, next: from, until, visit, resolve, reject: fail, timer };
        this.runner.consumer.seek({ topic: this.topic, partition, offset: from.toString() });
        this.runner.consumer.resume([{ topic: this.topic, partitions: [partition] }]);
      });
    const result = this.queue.then(run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private finish(): void {
    const op = this.current;
    if (!op) return;
    clearTimeout(op.timer);
    this.runner.consumer.pause([{ topic: this.topic, partitions: [op.partition] }]);
    this.current = null;
  }

  private handleBatch({ batch }: EachBatchPayload): void {
    const op = this.current;
    if (!op || batch.partition !== op.partition) return;
    for (const message of batch.messages) {
      const offset = BigInt(message.offset);
      if (offset < op.next) continue; // a batch fetched before the seek
      op.next = offset + 1n;
      let more = true;
      try {
        more = op.visit(message);
      } catch (error) {
        op.reject(error as Error);
        return;
      }
      if (!more || offset >= op.until) {
        this.finish();
        op.resolve();
        return;
      }
    }
    if (op.next > op.until || BigInt(batch.highWatermark) <= op.next) {
      this.finish();
      op.resolve();
    }
  }
}
