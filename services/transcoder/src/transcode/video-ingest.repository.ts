import { Inject, Injectable } from '@nestjs/common';
import type { EachMessagePayload, Kafka } from 'kafkajs';
import { KafkaConsumerRunner } from '@tributary/kafka';
import { ROOT_LOGGER } from '@tributary/nest-common';
import { KAFKA_CLIENT, TopicNames } from '@tributary/nest-kafka';
import type { Logger } from '@tributary/telemetry';
import { TRANSCODER_CONFIG, type TranscoderConfig } from '../config';
import { transcoderTopics } from './transcoder-topics';

export interface IngestHandlers {
  chunk(payload: EachMessagePayload): Promise<void>;
  /** The group started rebalancing: partitions may be about to move. */
  rebalancing(): void;
  /** The partitions of video.ingest this replica owns after a (re)join. */
  assigned(partitions: Set<number>): Promise<void>;
}

/** The input side the transcoder needs (VideoIngestRepository in the service, fakes in tests). */
export interface IngestSource {
  readonly topic: string;
  readonly groupId: string;
  readonly isJoined: boolean;
  start(handlers: IngestHandlers): Promise<void>;
  stop(): Promise<void>;
}

/**
 * video.ingest through consumer group `TRANSCODER_GROUP_ID` (replicas share its partitions).
 * Read with KafkaConsumerRunner, not Nest's @EventPattern transport: values are raw MPEG-TS bytes
 * (Nest would try to decode them) and offsets are committed by the output side, in its
 * transactions, long after a message was handled (when its segments are durable), so the consumer
 * never commits itself (auto-commit off).
 */
@Injectable()
export class VideoIngestRepository implements IngestSource {
  readonly topic: string;
  readonly groupId: string;
  private runner?: KafkaConsumerRunner;

  constructor(
    @Inject(TRANSCODER_CONFIG) private readonly config: TranscoderConfig,
    @Inject(KAFKA_CLIENT) private readonly kafka: Kafka,
    topicNames: TopicNames,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {
    this.topic = transcoderTopics(topicNames).ingest;
    this.groupId = config.groupId;
  }

  get isJoined(): boolean {
    return this.runner?.isJoined ?? false;
  }

  async start(handlers: IngestHandlers): Promise<void> {
    this.runner = new KafkaConsumerRunner(this.kafka, {
      groupId: this.groupId,
      topics: [this.topic],
      fromBeginning: true,
      autoCommit: false,
      partitionsConsumedConcurrently: this.config.kafka.videoPartitions,
      consumerConfig: {
        maxBytesPerPartition: 4 * 1024 * 1024,
        sessionTimeout: this.config.sessionTimeoutMs,
        heartbeatInterval: Math.floor(this.config.sessionTimeoutMs / 10),
      },
      eachMessage: (payload) => handlers.chunk(payload),
      logger: this.logger,
    });
    const consumer = this.runner.consumer;
    consumer.on(consumer.events.REBALANCING, () => handlers.rebalancing());
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      const partitions = event.payload.memberAssignment[this.topic] ?? [];
      void handlers.assigned(new Set(partitions));
    });
    await this.runner.start();
  }

  async stop(): Promise<void> {
    await this.runner?.stop();
  }
}
