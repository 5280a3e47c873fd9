import { type BeforeApplicationShutdown, Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { ConsumerGroups, DashboardSocketEvents, type PlaybackStats, playbackStatsMessage, Topics } from '@tributary/contracts';
import { checkJsonMessage, consumerGroupId, DeadLetterPublisher, KafkaConsumerRunner, type KafkaConfig, rewindOnAssignment } from '@tributary/kafka';
import { ReadinessRegistry, ROOT_LOGGER } from '@tributary/nest-common';
import { KAFKA_CLIENT, KAFKA_CONFIG, TopicNames } from '@tributary/nest-kafka';
import type { Logger } from '@tributary/telemetry';
import type { EachBatchPayload, Kafka } from 'kafkajs';
import type { Socket } from 'socket.io';
import { ALL_STREAMS_ROOM, streamRoom } from '../playback/playback-subscriptions';
import { PlaybackGateway, type PlaybackGatewayExtension, SLOW_CLIENTS_ROOM } from '../playback/playback.gateway';
import { DASHBOARD_OPTIONS, type DashboardOptions } from './dashboard.options';
import { StatsHistory } from './stats-history';

/**
 * `playback.stats` → Socket.IO: every gateway replica reads all statistics (a group of its own that
 * never commits; on start it re-reads the last ten minutes so the charts are filled), keeps the
 * latest snapshot and chart points per stream (bounded: StatsHistory), sends both to a client when it connects and each
 * new snapshot to the clients of its stream.
 */
@Injectable()
export class StatsFeedService implements PlaybackGatewayExtension, OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger: Logger;
  private readonly history: StatsHistory;
  private readonly topic: string;
  private readonly groupId: string;
  private runner: KafkaConsumerRunner | undefined;

  constructor(
    private readonly gateway: PlaybackGateway,
    @Inject(DASHBOARD_OPTIONS) private readonly options: DashboardOptions,
    @Inject(KAFKA_CLIENT) private readonly kafka: Kafka,
    @Inject(KAFKA_CONFIG) kafkaConfig: KafkaConfig,
    @Inject(ROOT_LOGGER) rootLogger: Logger,
    private readonly deadLetters: DeadLetterPublisher,
    private readonly readiness: ReadinessRegistry,
    topics: TopicNames,
  ) {
    this.logger = rootLogger.child({ component: 'dashboard.stats' });
    this.history = new StatsHistory({ historyMs: options.statsHistoryMs, maxStreams: options.statsStreams });
    this.topic = topics.resolve(Topics.playbackStats);
    this.groupId = consumerGroupId(ConsumerGroups.eventGatewayStatsFeed, kafkaConfig.topicPrefix);
  }

  async onApplicationBootstrap(): Promise<void> {
    this.gateway.extend(this);
    const runner = new KafkaConsumerRunner(this.kafka, {
      groupId: this.groupId,
      topics: [this.topic],
      autoCommit: false,
      eachBatch: (payload) => this.onBatch(payload),
      logger: this.logger,
    });
    this.runner = runner;
    rewindOnAssignment({ kafka: this.kafka, consumer: runner.consumer, topic: this.topic, lookbackMs: () => this.options.statsHistoryMs, logger: this.logger });
    this.readiness.register('dashboard-stats-feed', () => runner.isJoined);
    await runner.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.runner?.stop();
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    for (const message of batch.messages) {
      if (!payload.isRunning() || payload.isStale()) return;
      const checked = checkJsonMessage(message, playbackStatsMessage);
      if (checked.ok) {
        this.accept(checked.value);
      } else {
        this.logger.warn({ partition: batch.partition, offset: message.offset, reason: checked.reason }, 'invalid playback stats: sent to the dead-letter topic');
        await this.deadLetters.publish({ topic: batch.topic, partition: batch.partition, message, groupId: this.groupId }, checked.reason);
      }
      payload.resolveOffset(message.offset);
    }
    await payload.heartbeat();
  }

  private accept(stats: PlaybackStats): void {
    if (!this.history.accept(stats)) return; // older (re-read) snapshot
    this.gateway.namespace
      ?.to([ALL_STREAMS_ROOM, streamRoom(stats.stream_id)])
      .except(SLOW_CLIENTS_ROOM)
      .emit(DashboardSocketEvents.stats, stats);
  }

  onConnection(socket: Socket): void {
    const all = socket.rooms.has(ALL_STREAMS_ROOM);
    for (const [streamId, entry] of this.history.entries()) {
      if (!all && !socket.rooms.has(streamRoom(streamId))) continue;
      socket.emit(DashboardSocketEvents.statsHistory, { stream_id: streamId, points: entry.points });
      socket.emit(DashboardSocketEvents.stats, entry.latest);
    }
  }

  /** The latest snapshot of a stream (tests, debugging). */
  latest(streamId: string): PlaybackStats | undefined {
    return this.history.latest(streamId);
  }
}
