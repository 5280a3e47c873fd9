import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import { ConsumerGroups, type StreamRecord, Topics } from '@tributary/contracts';
import { consumerGroupId, KafkaProducer, StreamRegistryView, streamRecordMessage, streamTombstoneMessage } from '@tributary/kafka';
import { ReadinessRegistry, ROOT_LOGGER } from '@tributary/nest-common';
import { KAFKA_CLIENT, TopicNames } from '@tributary/nest-kafka';
import type { Logger } from '@tributary/telemetry';
import { OPERATOR_CONFIG, type OperatorConfig } from '../config';

/** What the reconciler needs of stream.registry (a fake in unit tests). */
export interface RegistryPort {
  /** Read to the end once: only then is "no entry" an answer. */
  readonly ready: boolean;
  get(id: string): StreamRecord | undefined;
  put(record: StreamRecord): Promise<void>;
  remove(id: string): Promise<void>;
}

function withTimeout<T>(work: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: Kafka did not acknowledge within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The operator's view of `stream.registry` (the same StreamRegistryView every service reads it
 * with) and its writes, through the one message format of libs/kafka (streamRecordMessage),
 * exactly as ingest's admin API writes. Reads its own writes at once.
 */
@Injectable()
export class StreamRegistryClient implements RegistryPort, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly view: StreamRegistryView;
  private readonly topic: string;
  private readonly logger: Logger;

  constructor(
    @Inject(KAFKA_CLIENT) kafka: Kafka,
    topics: TopicNames,
    private readonly producer: KafkaProducer,
    readiness: ReadinessRegistry,
    @Inject(ROOT_LOGGER) rootLogger: Logger,
    @Inject(OPERATOR_CONFIG) private readonly config: Pick<OperatorConfig, 'kafkaWriteTimeoutMs'>,
  ) {
    this.logger = rootLogger.child({ component: 'stream-registry' });
    this.topic = topics.resolve(Topics.streamRegistry);
    this.view = new StreamRegistryView(kafka, {
      topic: this.topic,
      groupId: consumerGroupId(ConsumerGroups.operatorRegistry, topics.prefix),
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

  async put(record: StreamRecord): Promise<void> {
    await withTimeout(this.producer.send(this.topic, [streamRecordMessage(record)]), this.config.kafkaWriteTimeoutMs, `writing stream ${record.id} to ${this.topic}`);
    this.view.apply(record.id, record);
    // No stream key here: only its hash is in the record, and the record is not logged.
    this.logger.info({ streamId: record.id, managedBy: record.managed_by }, 'stream registered');
  }

  async remove(id: string): Promise<void> {
    await withTimeout(this.producer.send(this.topic, [streamTombstoneMessage(id)]), this.config.kafkaWriteTimeoutMs, `deleting stream ${id} from ${this.topic}`);
    this.view.apply(id, null);
    this.logger.info({ streamId: id }, 'stream deleted from the registry');
  }
}
