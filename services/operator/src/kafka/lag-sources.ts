import { Global, Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import { KAFKA_CLIENT } from '@tributary/nest-kafka';
import { OPERATOR_CONFIG, type OperatorConfig } from '../config';
import { KafkaLagSource } from './kafka-lag-source';

/**
 * One KafkaLagSource per (group, topic) for the whole operator: the status observer (lag per
 * stream) and the lag autoscaler measure the same transcoder group, and share its readings for the
 * shorter of their two intervals instead of each reading the broker.
 */
@Injectable()
export class LagSources implements OnApplicationShutdown {
  private readonly sources = new Map<string, KafkaLagSource>();
  private readonly freshForMs: number;

  constructor(
    @Inject(KAFKA_CLIENT) private readonly kafka: Kafka,
    @Inject(OPERATOR_CONFIG) config: OperatorConfig,
  ) {
    this.freshForMs = config.lagAutoscaler ? Math.min(config.statusIntervalMs, config.pollingIntervalMs) : config.statusIntervalMs;
  }

  for(group: string, topic: string): KafkaLagSource {
    const key = `${group}\n${topic}`;
    let source = this.sources.get(key);
    if (!source) {
      source = new KafkaLagSource(this.kafka, group, topic, this.freshForMs);
      this.sources.set(key, source);
    }
    return source;
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([...this.sources.values()].map((source) => source.close()));
    this.sources.clear();
  }
}

@Global()
@Module({ providers: [LagSources], exports: [LagSources] })
export class LagSourcesModule {}
