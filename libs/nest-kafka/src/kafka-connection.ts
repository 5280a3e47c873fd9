import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import { topicSpecs } from '@tributary/contracts';
import { ensureTopics, type KafkaConfig, KafkaProducer } from '@tributary/kafka';
import { ReadinessRegistry, ROOT_LOGGER } from '@tributary/nest-common';
import type { Logger } from 'pino';
import { KAFKA_CLIENT, KAFKA_CONFIG } from './tokens';

export const KAFKA_MODULE_OPTIONS = Symbol('KAFKA_MODULE_OPTIONS');

export interface KafkaModuleOptions {
  clientId: string;
  config: KafkaConfig;
  /** Create/grow Tributary's topics at start-up (idempotent; every replica may do it). */
  ensureTopics: boolean;
}

/**
 * Start-up and shutdown of the shared producer. The producer disconnects in
 * onApplicationShutdown, which Nest runs after the HTTP server has stopped and in-flight requests
 * have finished, so every request that was answered 202 has been acknowledged by Kafka.
 */
@Injectable()
export class KafkaConnection implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Inject(KAFKA_CLIENT) private readonly kafka: Kafka,
    @Inject(KAFKA_CONFIG) private readonly config: KafkaConfig,
    @Inject(KAFKA_MODULE_OPTIONS) private readonly options: KafkaModuleOptions,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
    private readonly producer: KafkaProducer,
    readiness: ReadinessRegistry,
  ) {
    readiness.register('kafka-producer', () => this.producer.isConnected);
  }

  async onModuleInit(): Promise<void> {
    if (this.options.ensureTopics && this.config.ensureTopics) {
      await ensureTopics(
        this.kafka,
        topicSpecs(this.config.topicPrefix ?? '', {
          eventPartitions: this.config.eventPartitions,
          videoPartitions: this.config.videoPartitions,
        }),
        { replicationFactor: this.config.replicationFactor, logger: this.logger, allowKeyedPartitionGrowth: this.config.videoPartitionMigration },
      );
    }
    await this.producer.connect();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.producer.disconnect();
  }
}
