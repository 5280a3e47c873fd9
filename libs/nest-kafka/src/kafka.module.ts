import { type DynamicModule, Global, Module } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import { createKafkaClient, DeadLetterPublisher, type KafkaConfig, KafkaProducer } from '@tributary/kafka';
import { ROOT_LOGGER } from '@tributary/nest-common';
import type { Logger } from 'pino';
import { KAFKA_MODULE_OPTIONS, KafkaConnection, type KafkaModuleOptions } from './kafka-connection';
import { TopicNames } from './topic-names';
import { KAFKA_CLIENT, KAFKA_CONFIG } from './tokens';

/** The Kafka client, the shared idempotent producer, topic names and the dead-letter publisher. */
@Global()
@Module({})
export class KafkaModule {
  static forRoot(options: KafkaModuleOptions): DynamicModule {
    return {
      module: KafkaModule,
      providers: [
        { provide: KAFKA_MODULE_OPTIONS, useValue: options },
        { provide: KAFKA_CONFIG, useValue: options.config },
        {
          provide: KAFKA_CLIENT,
          inject: [ROOT_LOGGER],
          // No child component here: every kafkajs line gets its own (`kafkajs.<namespace>`).
          useFactory: (logger: Logger) => createKafkaClient(options.config, options.clientId, logger),
        },
        {
          provide: KafkaProducer,
          inject: [KAFKA_CLIENT, KAFKA_CONFIG],
          useFactory: (kafka: Kafka, config: KafkaConfig) => new KafkaProducer(kafka, { compression: config.compression }),
        },
        { provide: TopicNames, useValue: new TopicNames(options.config.topicPrefix ?? '') },
        { provide: DeadLetterPublisher, inject: [KafkaProducer], useFactory: (producer: KafkaProducer) => new DeadLetterPublisher(producer) },
        KafkaConnection,
      ],
      exports: [KAFKA_CONFIG, KAFKA_CLIENT, KafkaProducer, TopicNames, DeadLetterPublisher],
    };
  }
}
