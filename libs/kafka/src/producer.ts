import { type Kafka, type Message, Partitioners, type Producer, type RecordMetadata } from 'kafkajs';
import type { Compression } from './config';
import { compressionType } from './compression';
import { observeProduce } from '@tributary/telemetry';

export interface ProducerOptions {
  compression: Compression;
}

/**
 * The one way Tributary writes to Kafka: idempotent, `acks=-1` (all in-sync replicas), so an
 * acknowledged message survives a broker failover and a retried send is never duplicated.
 * Callers get the promise back and must not report success before it resolves.
 */
export class KafkaProducer {
  private readonly producer: Producer;
  private connected = false;

  constructor(
    kafka: Kafka,
    private readonly options: ProducerOptions,
  ) {
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 5,
      allowAutoTopicCreation: false,
      // Murmur2, the Java client's partitioner: the same key lands on the same partition.
      createPartitioner: Partitioners.DefaultPartitioner,
    });
  }

  get isConnected(): boolean {
    return this.connected;
  }

  async connect(): Promise<void> {
    await this.producer.connect();
    this.connected = true;
  }

  async send(topic: string, messages: Message[]): Promise<RecordMetadata[]> {
    // Produce counters/errors per topic (tributary_kafka_produced_messages_total…).
    return observeProduce(topic, messages, this.producer.send({ topic, messages, acks: -1, compression: compressionType(this.options.compression) }));
  }

  /** Sends to several topics in one request per broker. */
  async sendBatch(topicMessages: { topic: string; messages: Message[] }[]): Promise<RecordMetadata[]> {
    const sent = this.producer.sendBatch({ topicMessages, acks: -1, compression: compressionType(this.options.compression) });
    // Every topic's messages count as sent or failed together (one request).
    for (const { topic, messages } of topicMessages) void observeProduce(topic, messages, sent).catch(() => undefined);
    return sent;
  }

  /** Waits for in-flight sends (kafkajs resolves them before disconnecting). */
  async disconnect(): Promise<void> {
    if (!this.connected) return;
    this.connected = false;
    await this.producer.disconnect();
  }
}
