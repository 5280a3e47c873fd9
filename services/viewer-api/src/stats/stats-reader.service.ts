import { type BeforeApplicationShutdown, Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { ConsumerGroups, type PlaybackStats, playbackStatsMessage, Topics } from '@tributary/contracts';
import { type CheckedMessage, checkJsonMessage, consumerGroupId, DeadLetterPublisher, KafkaConsumerRunner, type KafkaConfig, rewindOnAssignment } from '@tributary/kafka';
import { ReadinessRegistry, ROOT_LOGGER } from '@tributary/nest-common';
import { KAFKA_CLIENT, KAFKA_CONFIG, TopicNames } from '@tributary/nest-kafka';
import type { Logger } from '@tributary/telemetry';
import type { EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { ViewerCountProvider } from '../streams/viewer-count';
import { StatsStore } from './stats-store';

/** How far back a (re)started replica re-reads `playback.stats` (snapshots come every few seconds). */
const LOOKBACK_MS = 2 * 60_000;

export function checkStatsMessage(message: Pick<KafkaMessage, 'value' | 'headers'>): CheckedMessage<PlaybackStats> {
  return checkJsonMessage(message, playbackStatsMessage);
}

/**
 * Keeps the latest statistics of every stream for `GET /v1/streams/:id/stats`. Every replica needs
 * every stream, so each reads `playback.stats` in a group of its own that never commits (the broker
 * drops it when the replica leaves) and, on assignment, re-reads the last two minutes.
 * KafkaConsumerRunner (not @EventPattern) for the seek-on-assignment and batches.
 */
@Injectable()
export class StatsReaderService implements OnApplicationBootstrap, BeforeApplicationShutdown, ViewerCountProvider {
  readonly store = new StatsStore();
  private readonly logger: Logger;
  private readonly groupId: string;
  private readonly topic: string;
  private runner: KafkaConsumerRunner | undefined;

  constructor(
    @Inject(KAFKA_CLIENT) private readonly kafka: Kafka,
    @Inject(KAFKA_CONFIG) kafkaConfig: KafkaConfig,
    @Inject(ROOT_LOGGER) rootLogger: Logger,
    private readonly deadLetters: DeadLetterPublisher,
    private readonly readiness: ReadinessRegistry,
    topics: TopicNames,
  ) {
    this.logger = rootLogger.child({ component: 'stats.reader' });
    this.groupId = consumerGroupId(ConsumerGroups.viewerApiStats, kafkaConfig.topicPrefix);
    this.topic = topics.resolve(Topics.playbackStats);
  }

  async onApplicationBootstrap(): Promise<void> {
    const runner = new KafkaConsumerRunner(this.kafka, {
      groupId: this.groupId,
      topics: [this.topic],
      autoCommit: false,
      eachBatch: (payload) => this.onBatch(payload),
      logger: this.logger,
    });
    this.runner = runner;
    rewindOnAssignment({ kafka: this.kafka, consumer: runner.consumer, topic: this.topic, lookbackMs: () => LOOKBACK_MS, logger: this.logger });
    this.readiness.register('stats-reader', () => runner.isJoined);
    await runner.start();
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    for (const message of batch.messages) {
      if (!payload.isRunning() || payload.isStale()) return;
      const checked = checkStatsMessage(message);
      if (checked.ok) {
        this.store.put(checked.value);
      } else {
        this.logger.warn({ partition: batch.partition, offset: message.offset, reason: checked.reason }, 'invalid playback stats: sent to the dead-letter topic');
        await this.deadLetters.publish({ topic: batch.topic, partition: batch.partition, message, groupId: this.groupId }, checked.reason);
      }
      payload.resolveOffset(message.offset);
    }
    await payload.heartbeat();
  }

  /** Active viewers of a stream from its latest snapshot (`GET /v1/streams` shows them), null when unknown. */
  viewers(streamId: string): number | null {
    return this.store.get(streamId)?.active_viewers ?? null;
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.runner?.stop();
  }
}
