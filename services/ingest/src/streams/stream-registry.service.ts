import { createHash, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import { ConsumerGroups, type StreamRecord, Topics } from '@tributary/contracts';
import { consumerGroupId, KafkaProducer, StreamRegistryView, streamRecordMessage, streamTombstoneMessage } from '@tributary/kafka';
import { ReadinessRegistry, ROOT_LOGGER } from '@tributary/nest-common';
import { KAFKA_CLIENT, TopicNames } from '@tributary/nest-kafka';
import type { Logger } from '@tributary/telemetry';

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/**
 * ingest's view of `stream.registry` (rebuilt from the compacted topic at start-up; not ready
 * until read to the end) and the only writer of it. Writes are applied to the local view as soon
 * as Kafka acknowledges them, so this replica reads its own writes at once.
 */
@Injectable()
export class StreamRegistryService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly view: StreamRegistryView;
  private readonly topic: string;
  private readonly logger: Logger;

  constructor(
    @Inject(KAFKA_CLIENT) kafka: Kafka,
    topics: TopicNames,
    private readonly producer: KafkaProducer,
    readiness: ReadinessRegistry,
    @Inject(ROOT_LOGGER) rootLogger: Logger,
  ) {
    this.logger = rootLogger.child({ component: 'stream-registry' });
    this.topic = topics.resolve(Topics.streamRegistry);
    this.view = new StreamRegistryView(kafka, {
      topic: this.topic,
      groupId: consumerGroupId(ConsumerGroups.ingestRegistry, topics.prefix),
      logger: this.logger,
    });
    readiness.register('stream-registry', () => this.view.caughtUp);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.view.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.view.stop();
  }

  get ready(): boolean {
    return this.view.caughtUp;
  }

  get(id: string): StreamRecord | undefined {
    return this.view.get(id);
  }

  /**
   * The stream whose key hashes to this: O(1) through the view's index by key hash, then a
   * constant-time comparison of the stored hash with the presented one. (The map lookup is keyed
   * by a SHA-256 of a 256-bit random key, so its timing tells an attacker nothing usable.)
   */
  findByStreamKey(streamKey: string): StreamRecord | undefined {
    const hex = sha256Hex(streamKey);
    const record = this.view.getByKeyHash(hex);
    if (!record) return undefined;
    const stored = Buffer.from(record.stream_key_sha256, 'hex');
    const presented = Buffer.from(hex, 'hex');
    return stored.length === presented.length && timingSafeEqual(stored, presented) ? record : undefined;
  }

  async put(record: StreamRecord): Promise<void> {
    await this.producer.send(this.topic, [streamRecordMessage(record)]);
    this.view.apply(record.id, record);
    this.logger.info({ streamId: record.id }, 'stream registered');
  }

  async remove(id: string): Promise<void> {
    await this.producer.send(this.topic, [streamTombstoneMessage(id)]);
    this.view.apply(id, null);
    this.logger.info({ streamId: id }, 'stream deleted');
  }
}
