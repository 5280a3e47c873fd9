import type { Consumer, Kafka } from 'kafkajs';
import { waitForProgress } from './progress';

/**
 * A kafkajs consumer that only counts what it reads (eachBatch), from the beginning of its topic:
 * the raw baseline's consumer, and the reader beside viewer-api in bench:events' ingest phase.
 */
export class DiscardingConsumer {
  consumed = 0;
  /** Bytes of Fetch responses (kafkajs reports each response's size): the record batches as the broker stores them. */
  wireBytes = 0;

  private constructor(private readonly consumer: Consumer) {}

  static async start(kafka: Kafka, topic: string, groupId: string): Promise<DiscardingConsumer> {
    const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false });
    const counter = new DiscardingConsumer(consumer);
    consumer.on(consumer.events.REQUEST, ({ payload }) => {
      if (payload.apiName === 'Fetch') counter.wireBytes += payload.size;
    });
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        counter.consumed += batch.messages.length;
      },
    });
    await joined;
    return counter;
  }

  reset(): void {
    this.consumed = 0;
    this.wireBytes = 0;
  }

  waitFor(count: number, what: string): Promise<void> {
    return waitForProgress(() => this.consumed >= count, () => this.consumed, 30_000, what);
  }

  stop(): Promise<void> {
    return this.consumer.disconnect();
  }
}
