import { type Kafka, type Message, Partitioners, type Producer, type ProducerRecord, type RecordMetadata } from 'kafkajs';
import type { Compression } from './config';
import { compressionType } from './compression';
import { observeProduce, uninstrumented } from '@tributary/telemetry';

export interface ProducerOptions {
  compression: Compression;
}

/**
 * The one way Tributary writes to Kafka: idempotent, `acks=-1` (all in-sync replicas), so an
 * acknowledged message survives a broker failover and a retried send is never duplicated.
 * Callers get the promise back and must not report success before it resolves.
 *
 * After a failed send the kafkajs producer is replaced by a new one (a new producer id). kafkajs
 * rolls a failed request's sequence numbers back, but the broker may have appended that batch
 * before the connection broke (a broker killed mid-request): the next batch of the same size
 * would then carry the same sequence range, the broker would take it for a retry of the stored
 * one and answer success without writing it — an acknowledged message lost. A fresh producer id
 * starts a fresh sequence, so that can't happen (found by the broker-restart fault test).
 */
export class KafkaProducer {
  private producer: Producer;
  private connected = false;
  /** The replacement of a failed producer is connecting. */
  private replacing: Promise<void> | undefined;
  private replacementUnconnected = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly options: ProducerOptions,
  ) {
    this.producer = this.create();
  }

  get isConnected(): boolean {
    return this.connected;
  }

  async connect(): Promise<void> {
    await this.producer.connect();
    this.connected = true;
  }

  /**
   * `messageSpans: false`: the caller made the send spans and wrote their traceparents (e.g.
   * `startSendSpan`, one per request): kafkajs instrumentation's wrapper, which starts a span and
   * injects headers per message, is skipped.
   */
  async send(topic: string, messages: Message[], options: { messageSpans?: boolean } = {}): Promise<RecordMetadata[]> {
    const producer = await this.current();
    const send = options.messageSpans === false ? uninstrumented(producer, 'send') : (record: ProducerRecord) => producer.send(record);
    const sent = this.settle(producer, send({ topic, messages, acks: -1, compression: compressionType(this.options.compression) }));
    // Produce counters/errors per topic (tributary_kafka_produced_messages_total…).
    return observeProduce(topic, messages, sent);
  }

  /** Sends to several topics in one request per broker. */
  async sendBatch(topicMessages: { topic: string; messages: Message[] }[]): Promise<RecordMetadata[]> {
    const producer = await this.current();
    const sent = this.settle(producer, producer.sendBatch({ topicMessages, acks: -1, compression: compressionType(this.options.compression) }));
    // Every topic's messages count as sent or failed together (one request).
    for (const { topic, messages } of topicMessages) void observeProduce(topic, messages, sent).catch(() => undefined);
    return sent;
  }

  /** Waits for in-flight sends (kafkajs resolves them before disconnecting). */
  async disconnect(): Promise<void> {
    if (!this.connected) return;
    this.connected = false;
    await this.replacing?.catch(() => undefined);
    await this.producer.disconnect();
  }

  private create(): Producer {
    return this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 5,
      allowAutoTopicCreation: false,
      // Murmur2, the Java client's partitioner: the same key lands on the same partition.
      createPartitioner: Partitioners.DefaultPartitioner,
    });
  }

  private async current(): Promise<Producer> {
    // Every send waits for the replacement's connect; when that failed (Kafka still down) the
    // next send tries to connect it again, so a send only ever goes out on a connected producer
    // with its own id.
    if (this.replacementUnconnected && !this.replacing) this.replacing = this.connectObserved(this.producer);
    const replacing = this.replacing;
    if (!replacing) return this.producer;
    try {
      await replacing;
      if (this.replacing === replacing) this.replacementUnconnected = false;
      return this.producer;
    } finally {
      if (this.replacing === replacing) this.replacing = undefined;
    }
  }

  private async settle<T>(producer: Producer, sending: Promise<T>): Promise<T> {
    try {
      return await sending;
    } catch (error) {
      this.replace(producer);
      throw error;
    }
  }

  /** Retires a producer whose send failed (once, however many of its sends fail). */
  private replace(failed: Producer): void {
    if (failed !== this.producer || !this.connected) return;
    const next = this.create();
    this.producer = next;
    // The old one's other in-flight sends settle on their own before it disconnects.
    void failed.disconnect().catch(() => undefined);
    this.replacementUnconnected = true;
    this.replacing = this.connectObserved(next);
  }

  /** Connects; a failure is observed here (never unhandled) and reported by current() to the next send. */
  private connectObserved(producer: Producer): Promise<void> {
    const connecting = producer.connect();
    connecting.catch(() => undefined);
    return connecting;
  }
}
