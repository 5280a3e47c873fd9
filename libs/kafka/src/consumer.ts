import type { Consumer, ConsumerConfig, EachBatchHandler, EachMessageHandler, Kafka } from 'kafkajs';
import type { KafkaLogger } from './logger';
import { instrumentConsumer, uninstrumented } from '@tributary/telemetry';

export interface ConsumerRunnerOptions {
  groupId: string;
  topics: string[];
  fromBeginning?: boolean;
  eachMessage?: EachMessageHandler;
  eachBatch?: EachBatchHandler;
  /** Commit automatically after each handled message/batch (kafkajs default) or manually. */
  autoCommit?: boolean;
  partitionsConsumedConcurrently?: number;
  /**
   * `false`: kafkajs instrumentation does not wrap `eachBatch` (no `poll` span per batch and no
   * `process` span per message); the handler makes its own batch spans, linked to each message's
   * producer span. For the event path, where a span per message costs more than the message.
   */
  messageSpans?: boolean;
  consumerConfig?: Partial<ConsumerConfig>;
  logger: KafkaLogger;
}

/**
 * A kafkajs consumer with the lifecycle services need: `start()` resolves once the consumer has
 * joined its group, `isJoined` feeds readiness, and `stop()` finishes the message in hand,
 * commits offsets and leaves the group, so a rolling restart neither loses nor replays work.
 */
export class KafkaConsumerRunner {
  readonly consumer: Consumer;
  private joined = false;
  private stopping = false;
  /** Consumed counters + lag sampling for this group (tributary_kafka_consumer_lag_messages). */
  private readonly stopMetrics: () => Promise<void>;

  constructor(
    kafka: Kafka,
    private readonly options: ConsumerRunnerOptions,
  ) {
    this.consumer = kafka.consumer({
      groupId: options.groupId,
      allowAutoTopicCreation: false,
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
      ...options.consumerConfig,
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, () => {
      this.joined = true;
    });
    this.stopMetrics = instrumentConsumer(kafka, this.consumer, options.groupId, options.topics);
    this.consumer.on(this.consumer.events.CRASH, (event) => {
      this.joined = false;
      options.logger.error(
        { component: 'kafka.consumer', groupId: options.groupId, error: String(event.payload.error), restart: event.payload.restart },
        'consumer crashed',
      );
    });
    this.consumer.on(this.consumer.events.REBALANCING, () => {
      this.joined = false;
    });
  }

  get isJoined(): boolean {
    return this.joined && !this.stopping;
  }

  async start(joinTimeoutMs = 60_000): Promise<void> {
    const joined = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`consumer group ${this.options.groupId} did not join within ${joinTimeoutMs} ms`)),
        joinTimeoutMs,
      );
      this.consumer.on(this.consumer.events.GROUP_JOIN, () => {
        clearTimeout(timer);
        resolve();
      });
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: this.options.topics, fromBeginning: this.options.fromBeginning ?? false });
    const run: Consumer['run'] = this.options.messageSpans === false ? uninstrumented(this.consumer, 'run') : (config) => this.consumer.run(config);
    await run({
      autoCommit: this.options.autoCommit ?? true,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 1,
      ...(this.options.eachBatch ? { eachBatch: this.options.eachBatch } : { eachMessage: this.options.eachMessage }),
    });
    await joined;
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    await this.consumer.disconnect();
    await this.stopMetrics();
  }
}
