import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { EachMessagePayload, Kafka } from 'kafkajs';
import { ConsumerGroups, isStreamId, streamRecordValidator, streamStatusValidator, Topics } from '@tributary/contracts';
import { consumerGroupId, DeadLetterPublisher, KafkaConsumerRunner } from '@tributary/kafka';
import { ReadinessRegistry, ROOT_LOGGER } from '@tributary/nest-common';
import { KAFKA_CLIENT, TopicNames } from '@tributary/nest-kafka';
import type { Logger } from '@tributary/telemetry';
import { retryKafka } from './retry';
import { StreamCatalog, type StreamView } from './stream-catalog';

/**
 * Keeps this replica's full view of the streams: reads `stream.registry` (compacted) and
 * `stream.status` from the beginning with a consumer group of its own (KafkaConsumerRunner, not
 * @EventPattern: we need tombstones (null values) and a per-replica group that never commits).
 * Ready once it has caught up with the end offsets seen at start-up.
 */
@Injectable()
export class StreamCatalogService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly catalog = new StreamCatalog();
  private readonly logger: Logger;
  private readonly groupId: string;
  private runner?: KafkaConsumerRunner;
  /** topic:partition → offset (exclusive) to reach before the view counts as caught up. */
  private readonly pending = new Map<string, bigint>();
  private caughtUp = false;
  private readonly listeners = new Set<(id: string) => void>();

  constructor(
    @Inject(KAFKA_CLIENT) private readonly kafka: Kafka,
    private readonly topics: TopicNames,
    private readonly deadLetters: DeadLetterPublisher,
    @Inject(ROOT_LOGGER) rootLogger: Logger,
    readiness: ReadinessRegistry,
  ) {
    this.logger = rootLogger.child({ component: 'stream-catalog' });
    this.groupId = consumerGroupId(ConsumerGroups.viewerApiCatalog, topics.prefix);
    readiness.register('stream-catalog', () => this.caughtUp && (this.runner?.isJoined ?? false));
  }

  get(id: string): StreamView | undefined {
    return this.catalog.get(id);
  }

  list(): StreamView[] {
    return this.catalog.list();
  }

  /** Called with a stream id whenever its record or status changes. */
  onChange(listener: (id: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async onApplicationBootstrap(): Promise<void> {
    const registry = this.topics.resolve(Topics.streamRegistry);
    const status = this.topics.resolve(Topics.streamStatus);
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      for (const topic of [registry, status]) {
        for (const { partition, high, low } of await retryKafka(() => admin.fetchTopicOffsets(topic))) {
          if (BigInt(high) > BigInt(low)) this.pending.set(`${topic}:${partition}`, BigInt(high));
        }
      }
    } finally {
      await admin.disconnect();
    }
    this.caughtUp = this.pending.size === 0;
    this.runner = new KafkaConsumerRunner(this.kafka, {
      groupId: this.groupId,
      topics: [registry, status],
      fromBeginning: true,
      autoCommit: false,
      logger: this.logger,
      consumerConfig: { maxWaitTimeInMs: 500 },
      eachMessage: (payload) => this.handle(payload, registry),
    });
    await this.runner.start();
    this.logger.info({ groupId: this.groupId }, 'stream catalogue consumer started');
  }

  async onApplicationShutdown(): Promise<void> {
    await this.runner?.stop();
  }

  private async handle(payload: EachMessagePayload, registryTopic: string): Promise<void> {
    const { topic, partition, message } = payload;
    try {
      const key = message.key?.toString() ?? '';
      if (topic === registryTopic) {
        if (message.value === null) {
          if (isStreamId(key)) this.catalog.applyTombstone(key);
        } else {
          const record = streamRecordValidator.validate(JSON.parse(message.value.toString()));
          if (!record.ok) throw new Error(`invalid stream record: ${record.issues.map((e) => `${e.field} ${e.message}`).join('; ')}`);
          this.catalog.applyRecord(record.value);
        }
      } else if (message.value !== null) {
        const status = streamStatusValidator.validate(JSON.parse(message.value.toString()));
        if (!status.ok) throw new Error(`invalid stream status: ${status.issues.map((e) => `${e.field} ${e.message}`).join('; ')}`);
        this.catalog.applyStatus(status.value);
      }
      if (isStreamId(key)) for (const listener of this.listeners) listener(key);
    } catch (error) {
      this.logger.warn({ topic, partition, offset: message.offset, err: error }, 'dead-lettering an invalid catalogue message');
      await this.deadLetters.publish({ topic, partition, message, groupId: this.groupId }, (error as Error).message);
    } finally {
      this.markProgress(topic, partition, message.offset);
    }
  }

  private markProgress(topic: string, partition: number, offset: string): void {
    if (this.caughtUp) return;
    const key = `${topic}:${partition}`;
    const target = this.pending.get(key);
    if (target !== undefined && BigInt(offset) + 1n >= target) this.pending.delete(key);
    if (this.pending.size === 0) {
      this.caughtUp = true;
      this.logger.info({ streams: this.catalog.list().length }, 'stream catalogue caught up');
    }
  }
}
