import type { IHeaders, KafkaMessage } from 'kafkajs';
import { deadLetterTopicOf, Headers } from '@tributary/contracts';
import type { KafkaProducer } from './producer';

export interface DeadLetterSource {
  topic: string;
  partition: number;
  message: KafkaMessage;
  groupId: string;
}

/**
 * Moves a message that cannot be processed (fails validation, cannot be parsed) to
 * `<topic>.dlq` with the reason and origin in headers, so the partition keeps moving and an
 * operator can inspect or replay it later.
 */
export class DeadLetterPublisher {
  constructor(private readonly producer: KafkaProducer) {}

  async publish(source: DeadLetterSource, reason: string): Promise<void> {
    const headers: IHeaders = {
      ...source.message.headers,
      [Headers.deadLetterReason]: reason.slice(0, 2000),
      [Headers.deadLetterTopic]: source.topic,
      [Headers.deadLetterPartition]: String(source.partition),
      [Headers.deadLetterOffset]: source.message.offset,
      [Headers.deadLetterConsumerGroup]: source.groupId,
    };
    await this.producer.send(deadLetterTopicOf(source.topic), [
      { key: source.message.key, value: source.message.value, headers },
    ]);
  }
}
