import { type KafkaOptions, ServerKafka } from '@nestjs/microservices';
import { KafkaRequestDeserializer } from '@nestjs/microservices/deserializers/kafka-request.deserializer.js';
import type { Consumer, Kafka } from 'kafkajs';
import { createKafkaClient, type KafkaConfig, type KafkaLogger } from '@tributary/kafka';
import { instrumentConsumer } from '@tributary/telemetry';
import type { TopicNames } from './topic-names';

export interface TributaryKafkaServerOptions {
  kafka: KafkaConfig;
  clientId: string;
  /** The consumer group, used as is (Nest's "-server" postfix is not appended). */
  groupId: string;
  topics: TopicNames;
  logger: KafkaLogger;
  fromBeginning?: boolean;
  partitionsConsumedConcurrently?: number;
}

/** Handlers are registered under contract topic names; this maps prefixed topics back to them. */
class ContractTopicDeserializer extends KafkaRequestDeserializer {
  constructor(private readonly topics: TopicNames) {
    super();
  }

  override mapToSchema(data: never, options?: Record<string, unknown>) {
    const channel = typeof options?.channel === 'string' ? this.topics.baseOf(options.channel) : options?.channel;
    return super.mapToSchema(data, options ? { ...options, channel } : options);
  }
}

/**
 * The NestJS Kafka transport (`@EventPattern` handlers on kafkajs) with what Nest's stock server
 * lacks for us: TOPIC_PREFIX support, our kafkajs client settings (TLS, SASL, logging), an
 * exact group id, and a group-joined flag for readiness probes.
 */
export class TributaryKafkaServer extends ServerKafka {
  private joined = false;
  private stopMetrics: (() => Promise<void>) | undefined;

  constructor(private readonly settings: TributaryKafkaServerOptions) {
    super({
      client: { clientId: settings.clientId, brokers: settings.kafka.brokers },
      consumer: { groupId: settings.groupId, allowAutoTopicCreation: false, sessionTimeout: 30_000, heartbeatInterval: 3_000 },
      postfixId: '',
      subscribe: { fromBeginning: settings.fromBeginning ?? false },
      run: { partitionsConsumedConcurrently: settings.partitionsConsumedConcurrently ?? 1 },
      deserializer: new ContractTopicDeserializer(settings.topics),
    } satisfies KafkaOptions['options']);
  }

  get isJoined(): boolean {
    return this.joined;
  }

  /**
   * Nest looks up the handler of every message with JSON.parse(topic), which throws (building a
   * stack trace) for a plain topic name: about 5% of event-gateway's CPU under load in
   * bench/events.bench.ts. Patterns are a handful of topic names, so their routes are cached.
   */
  private routes?: Map<string, string>;
  protected override getRouteFromPattern(pattern: string): string {
    this.routes ??= new Map();
    let route = this.routes.get(pattern);
    if (route === undefined) {
      route = super.getRouteFromPattern(pattern);
      if (this.routes.size < 1_000) this.routes.set(pattern, route);
    }
    return route;
  }

  override createClient<T = unknown>(): T {
    return createKafkaClient(this.settings.kafka, this.settings.clientId, this.settings.logger) as T;
  }

  override async bindEvents(consumer: Consumer): Promise<void> {
    consumer.on(consumer.events.GROUP_JOIN, () => {
      this.joined = true;
    });
    consumer.on(consumer.events.REBALANCING, () => {
      this.joined = false;
    });
    consumer.on(consumer.events.STOP, () => {
      this.joined = false;
    });
    const topics = [...this.messageHandlers.keys()].map((pattern) => this.settings.topics.resolve(pattern));
    if (topics.length > 0) {
      await consumer.subscribe({ topics, fromBeginning: this.settings.fromBeginning ?? false });
    }
    // Consumed counters + lag sampling for this group (tributary_kafka_consumer_lag_messages).
    if (this.client) this.stopMetrics = instrumentConsumer(this.client as Kafka, consumer, this.settings.groupId, topics);
    await consumer.run({
      partitionsConsumedConcurrently: this.settings.partitionsConsumedConcurrently ?? 1,
      eachMessage: this.getMessageHandler(),
    });
  }

  override async close(): Promise<void> {
    this.joined = false;
    await super.close();
    await this.stopMetrics?.();
  }
}
