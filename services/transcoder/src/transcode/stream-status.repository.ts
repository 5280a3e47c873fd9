import { Inject, Injectable } from '@nestjs/common';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { ConsumerGroups } from '@tributary/contracts';
import { consumerGroupId, KafkaConsumerRunner, KafkaProducer, StreamStatusProducer, type StreamStatusReport } from '@tributary/kafka';
import { ROOT_LOGGER } from '@tributary/nest-common';
import { KAFKA_CLIENT, TopicNames } from '@tributary/nest-kafka';
import type { Logger } from '@tributary/telemetry';
import { transcoderTopics } from './transcoder-topics';

/** A status report without the fields the reporter fills in. */
export type StatusReport = StreamStatusReport;

/** stream.status as the transcoder uses it (StreamStatusRepository in the service, fakes in tests). */
export interface StatusChannel {
  readonly isJoined: boolean;
  /** Reads the whole topic (and what follows), calling `onMessage` for each message. */
  start(onMessage: (message: KafkaMessage) => void): Promise<void>;
  publish(status: StatusReport): Promise<void>;
  stop(): Promise<void>;
}

/**
 * stream.status: the transcoder's reports (`live`, `ended`, `error`) and every ingest `ended`.
 * Every replica needs every ingest report (for the streams it owns now or takes over later), so
 * the topic is read in full with a per-replica group (small JSON, 7-day retention).
 */
@Injectable()
export class StreamStatusRepository implements StatusChannel {
  private readonly topic: string;
  private readonly reports: StreamStatusProducer;
  private readonly prefix: string;
  private runner?: KafkaConsumerRunner;

  constructor(
    @Inject(KAFKA_CLIENT) private readonly kafka: Kafka,
    topicNames: TopicNames,
    producer: KafkaProducer,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {
    this.topic = transcoderTopics(topicNames).status;
    this.prefix = topicNames.prefix;
    this.reports = new StreamStatusProducer(producer, this.topic, 'transcoder');
  }

  get isJoined(): boolean {
    return this.runner?.isJoined ?? false;
  }

  async start(onMessage: (message: KafkaMessage) => void): Promise<void> {
    this.runner = new KafkaConsumerRunner(this.kafka, {
      groupId: consumerGroupId(ConsumerGroups.transcoderStatus, this.prefix),
      topics: [this.topic],
      fromBeginning: true,
      eachMessage: ({ message }) => Promise.resolve(onMessage(message)),
      logger: this.logger,
    });
    await this.runner.start();
  }

  publish(status: StatusReport): Promise<void> {
    return this.reports.report(status);
  }

  async stop(): Promise<void> {
    await this.runner?.stop();
  }
}
