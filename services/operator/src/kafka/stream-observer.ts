import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Admin, EachMessagePayload, Kafka } from 'kafkajs';
import {
  ConsumerGroups,
  isStreamId,
  playbackStatsMessage,
  type StreamState,
  streamStatusValidator,
  Topics,
} from '@tributary/contracts';
import { checkJsonMessage, consumerGroupId, fetchTopicOffsetsWithRetry, KafkaConsumerRunner, type KafkaConfig, partitionForKey, rewindOnAssignment } from '@tributary/kafka';
import { ReadinessRegistry, ROOT_LOGGER } from '@tributary/nest-common';
import { KAFKA_CLIENT, KAFKA_CONFIG, TopicNames } from '@tributary/nest-kafka';
import type { Logger } from '@tributary/telemetry';
import { OPERATOR_CONFIG, type OperatorConfig } from '../config';
import { partitionLag } from '../lag-autoscaler/keda-formula';
import { measuredGroup } from '../lag-autoscaler/lag-autoscaler.config';
import type { KafkaLagSource } from './kafka-lag-source';
import { LagSources } from './lag-sources';

/** What Kafka shows about one stream. */
export interface StreamObservation {
  /** The latest stream.status state; undefined = never published (or before the retained history). */
  state?: StreamState;
  /** With `error` (the transcoder's reason) or an `ended` that was not clean. */
  reason?: string;
  /** Active viewers from the latest playback.stats snapshot. */
  viewers?: number;
  /** Messages of the stream's video.ingest partition the transcoder group has not consumed. */
  lag?: number;
}

/** What the reconciler needs of the observer (a fake in unit tests). */
export interface ObserverPort {
  /** stream.status has been read to its end once (before that, "no state" means "not known yet"). */
  readonly ready: boolean;
  observe(streamId: string): StreamObservation;
}

/** A (re)started operator re-reads this much of playback.stats (snapshots come every few seconds). */
const STATS_LOOKBACK_MS = 2 * 60_000;

/**
 * Status follows reality: reads `stream.status` (from the beginning: the latest state of every
 * stream) and the last two minutes of `playback.stats` (active viewers), each in a group of this
 * replica's own that never commits, and polls the transcoder group's committed offsets on
 * `video.ingest` for the lag of each stream's partition (libs/kafka partitionForKey).
 *
 * An invalid message is logged and skipped, not dead-lettered: the services that consume these
 * topics for real already dead-letter them, and one copy per operator replica would be noise.
 */
@Injectable()
export class StreamObserver implements ObserverPort, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger: Logger;
  private readonly states = new Map<string, { state: StreamState; reason?: string }>();
  private readonly viewers = new Map<string, number>();
  private readonly lagByPartition = new Map<number, number>();
  private ingestPartitions = 0;
  private readonly pending = new Map<number, bigint>();
  private caughtUp = false;
  private statusRunner?: KafkaConsumerRunner;
  private statsRunner?: KafkaConsumerRunner;
  private admin?: Admin;
  private lagTimer?: NodeJS.Timeout;
  private readonly listeners = new Set<(streamId: string) => void>();
  private readonly topics: { status: string; stats: string; ingest: string };
  private readonly lagSource: KafkaLagSource;
  private readonly statusGroup: string;
  private readonly statsGroup: string;

  constructor(
    @Inject(KAFKA_CLIENT) private readonly kafka: Kafka,
    @Inject(KAFKA_CONFIG) kafkaConfig: KafkaConfig,
    @Inject(OPERATOR_CONFIG) private readonly config: OperatorConfig,
    topicNames: TopicNames,
    readiness: ReadinessRegistry,
    lagSources: LagSources,
    @Inject(ROOT_LOGGER) rootLogger: Logger,
  ) {
    this.logger = rootLogger.child({ component: 'stream-observer' });
    this.topics = {
      status: topicNames.resolve(Topics.streamStatus),
      stats: topicNames.resolve(Topics.playbackStats),
      ingest: topicNames.resolve(Topics.videoIngest),
    };
    // The same group the lag autoscaler measures (OPERATOR_LAG_AUTOSCALER_GROUP, default the transcoder's).
    this.lagSource = lagSources.for(measuredGroup(config, kafkaConfig.topicPrefix), this.topics.ingest);
    this.statusGroup = consumerGroupId(ConsumerGroups.operatorStatus, kafkaConfig.topicPrefix);
    this.statsGroup = consumerGroupId(ConsumerGroups.operatorStats, kafkaConfig.topicPrefix);
    readiness.register('stream-observer', () => this.caughtUp && (this.statusRunner?.isJoined ?? false));
  }

  get ready(): boolean {
    return this.caughtUp;
  }

  /** Called with a stream id when its stream.status state changes. */
  onStateChange(listener: (streamId: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  observe(streamId: string): StreamObservation {
    const status = this.states.get(streamId);
    const viewers = this.viewers.get(streamId);
    const lag = this.ingestPartitions > 0 ? this.lagByPartition.get(partitionForKey(this.topics.ingest, streamId, this.ingestPartitions)) : undefined;
    return {
      ...(status ? { state: status.state, ...(status.reason ? { reason: status.reason } : {}) } : {}),
      ...(viewers !== undefined ? { viewers } : {}),
      ...(lag !== undefined ? { lag } : {}),
    };
  }

  async onApplicationBootstrap(): Promise<void> {
    const admin = this.kafka.admin();
    this.admin = admin;
    await admin.connect();
    for (const { partition, high, low } of await fetchTopicOffsetsWithRetry(admin, this.topics.status)) {
      if (BigInt(high) > BigInt(low)) this.pending.set(partition, BigInt(high));
    }
    this.caughtUp = this.pending.size === 0;

    this.statusRunner = new KafkaConsumerRunner(this.kafka, {
      groupId: this.statusGroup,
      topics: [this.topics.status],
      fromBeginning: true,
      autoCommit: false,
      consumerConfig: { maxWaitTimeInMs: 250 },
      logger: this.logger,
      eachMessage: (payload) => this.onStatus(payload),
    });
    const statsRunner = new KafkaConsumerRunner(this.kafka, {
      groupId: this.statsGroup,
      topics: [this.topics.stats],
      autoCommit: false,
      logger: this.logger,
      eachMessage: (payload) => this.onStats(payload),
    });
    this.statsRunner = statsRunner;
    rewindOnAssignment({ kafka: this.kafka, consumer: statsRunner.consumer, topic: this.topics.stats, lookbackMs: () => STATS_LOOKBACK_MS, logger: this.logger });
    await Promise.all([this.statusRunner.start(), statsRunner.start()]);
    await this.refreshLag();
    this.scheduleLag();
  }

  async onApplicationShutdown(): Promise<void> {
    clearTimeout(this.lagTimer);
    this.lagTimer = undefined;
    await Promise.all([this.statusRunner?.stop(), this.statsRunner?.stop()]);
    // The groups are this replica's own and never committed: remove them now rather than leave them to expire.
    await this.admin?.deleteGroups([this.statusGroup, this.statsGroup]).catch(() => undefined);
    await this.admin?.disconnect().catch(() => undefined);
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- kafkajs wants a promise; the work is synchronous.
  private async onStatus({ partition, message }: EachMessagePayload): Promise<void> {
    const streamId = message.key?.toString() ?? '';
    try {
      if (message.value === null || !isStreamId(streamId)) return;
      let parsed: unknown;
      try {
        parsed = JSON.parse(message.value.toString('utf8'));
      } catch {
        parsed = undefined;
      }
      const result = streamStatusValidator.validate(parsed);
      if (!result.ok) {
        this.logger.warn({ partition, offset: message.offset, streamId, issues: result.issues }, 'invalid stream status skipped');
        return;
      }
      const previous = this.states.get(streamId);
      const next = { state: result.value.state, ...(result.value.reason ? { reason: result.value.reason } : {}) };
      this.states.set(streamId, next);
      if (this.caughtUp && (previous?.state !== next.state || previous.reason !== next.reason)) {
        for (const listener of this.listeners) listener(streamId);
      }
    } finally {
      this.markProgress(partition, message.offset);
    }
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- kafkajs wants a promise; the work is synchronous.
  private async onStats({ partition, message }: EachMessagePayload): Promise<void> {
    const checked = checkJsonMessage(message, playbackStatsMessage);
    if (!checked.ok) {
      this.logger.warn({ partition, offset: message.offset, reason: checked.reason }, 'invalid playback stats skipped');
      return;
    }
    this.viewers.set(checked.value.stream_id, checked.value.active_viewers);
  }

  private markProgress(partition: number, offset: string): void {
    if (this.caughtUp) return;
    const target = this.pending.get(partition);
    if (target !== undefined && BigInt(offset) + 1n >= target) this.pending.delete(partition);
    if (this.pending.size === 0) {
      this.caughtUp = true;
      this.logger.info({ streams: this.states.size }, 'stream.status read to its end');
      for (const streamId of this.states.keys()) for (const listener of this.listeners) listener(streamId);
    }
  }

  private scheduleLag(): void {
    this.lagTimer = setTimeout(() => {
      this.refreshLag()
        .catch((error: unknown) => this.logger.warn({ err: error, groupId: this.lagSource.group }, 'could not read the transcoder lag; the status keeps the last value'))
        .finally(() => {
          if (this.lagTimer) this.scheduleLag();
        });
    }, this.config.statusIntervalMs);
    this.lagTimer.unref();
  }

  /** One pass over the partitions: KEDA's lag per partition (a partition without a commit counts whole, as the transcoder starts at earliest). */
  private async refreshLag(): Promise<void> {
    const partitions = await this.lagSource.read();
    for (const offsets of partitions) this.lagByPartition.set(offsets.partition, Math.max(0, partitionLag(offsets, 'earliest')));
    this.ingestPartitions = partitions.length;
  }
}
