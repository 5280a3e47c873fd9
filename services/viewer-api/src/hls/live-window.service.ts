import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { EachBatchPayload, Kafka } from 'kafkajs';
import { ConsumerGroups, Topics } from '@tributary/contracts';
import { consumerGroupId, DeadLetterPublisher, type KafkaConsumerRunner } from '@tributary/kafka';
import { ReadinessRegistry, ROOT_LOGGER } from '@tributary/nest-common';
import { KAFKA_CLIENT, TopicNames } from '@tributary/nest-kafka';
import type { Logger } from '@tributary/telemetry';
import type { ViewerApiConfig } from '../config';
import { StreamCatalogService } from '../streams/stream-catalog.service';
import { PartWaiters } from './blocking-reload';
import { batchStart, RewindGate, rewoundConsumer, startRewound } from './rewind';
import { parseSegmentMeta } from './segment-message';
import { type RenditionWindow, SegmentWindowStore } from './segment-window';
import { VIEWER_CONFIG } from './tokens';

/**
 * Feeds the live window from `video.segments`. KafkaConsumerRunner (not @EventPattern) because
 * values are binary, metadata is in headers, batches are handled without JSON decoding, and the
 * consumer must seek back by timestamp after a restart. Every replica has its own group (it
 * serves every stream) and commits nothing; on start it rewinds VIEWER_WINDOW_REBUILD_SECONDS so
 * the window is rebuilt from Kafka.
 */
@Injectable()
export class LiveWindowService implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly store: SegmentWindowStore;
  /** Low-latency requests waiting for a rendition's next part: notified once per new part. */
  readonly waiters: PartWaiters;
  private readonly logger: Logger;
  private readonly groupId: string;
  private runner?: KafkaConsumerRunner;
  private pending: Map<number, bigint> | null = null;
  private rebuilt = false;
  /** Skips batches fetched from the latest offset before the rewind's seek landed (startRewound). */
  private readonly gate = new RewindGate();

  constructor(
    @Inject(KAFKA_CLIENT) private readonly kafka: Kafka,
    @Inject(VIEWER_CONFIG) private readonly config: ViewerApiConfig,
    private readonly topics: TopicNames,
    private readonly deadLetters: DeadLetterPublisher,
    catalog: StreamCatalogService,
    @Inject(ROOT_LOGGER) rootLogger: Logger,
    readiness: ReadinessRegistry,
  ) {
    this.logger = rootLogger.child({ component: 'hls-window' });
    this.groupId = consumerGroupId(ConsumerGroups.viewerApiSegments, topics.prefix);
    this.store = new SegmentWindowStore(config.hlsWindowSegments, config.windowMaxBytes);
    this.waiters = new PartWaiters(config.hlsMaxBlockingRequests);
    readiness.register('hls-window', () => this.rebuilt && (this.runner?.isJoined ?? false));
    catalog.onChange((id) => {
      if (!catalog.get(id)) this.store.remove(id);
      // Ended or deleted: blocked requests answer now (parameters are ignored after ENDLIST).
      this.waiters.notifyStream(id);
    });
  }

  rendition(streamId: string, rendition: string): RenditionWindow | undefined {
    return this.store.rendition(streamId, rendition);
  }

  async onApplicationBootstrap(): Promise<void> {
    const topic = this.topics.resolve(Topics.videoSegments);
    this.runner = rewoundConsumer(this.kafka, {
      groupId: this.groupId,
      topic,
      logger: this.logger,
      consumerConfig: { maxWaitTimeInMs: 250, maxBytesPerPartition: 32 * 1024 * 1024, maxBytes: 64 * 1024 * 1024 },
      eachBatch: (payload) => this.handleBatch(payload),
    });
    // Segments are written in transactions: a partition's last offset is usually a commit marker,
    // never handed to eachBatch, so rebuild progress counts each batch's last offset (markers included).
    this.runner.consumer.on(this.runner.consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      if (this.gate.passes(payload.partition, payload.firstOffset ?? payload.lastOffset)) this.markProgress(payload.partition, payload.lastOffset);
    });
    this.pending = await startRewound(this.kafka, this.runner, topic, Date.now() - this.config.windowRebuildSeconds * 1000, (ends) => this.gate.close(ends));
    this.rebuilt = this.pending.size === 0;
    this.logger.info({ groupId: this.groupId, rebuildPartitions: this.pending.size }, 'live window consumer started');
  }

  async onApplicationShutdown(): Promise<void> {
    await this.runner?.stop();
  }

  private async handleBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    if (!this.gate.passes(batch.partition, batchStart(batch))) return;
    for (const message of batch.messages) {
      if (!payload.isRunning() || payload.isStale()) return;
      try {
        const meta = parseSegmentMeta(message, batch.partition);
        const result = this.store.add(meta, message.value!);
        if (result === 'added' || result === 'reset') {
          // Blocked part and playlist requests of the rendition, and (FirstMediaService) a held master playlist.
          this.waiters.notify(PartWaiters.key(meta.streamId, meta.rendition));
          if (meta.kind !== 'init') this.waiters.notify(PartWaiters.streamKey(meta.streamId));
        }
      } catch (error) {
        this.logger.warn({ partition: batch.partition, offset: message.offset, err: error }, 'dead-lettering an invalid segment message');
        await this.deadLetters.publish(
          { topic: batch.topic, partition: batch.partition, message, groupId: this.groupId },
          (error as Error).message,
        );
      }
      this.markProgress(batch.partition, message.offset);
    }
    await payload.heartbeat();
  }

  private markProgress(partition: number, offset: string): void {
    if (this.rebuilt || !this.pending) return;
    const target = this.pending.get(partition);
    if (target !== undefined && BigInt(offset) + 1n >= target) this.pending.delete(partition);
    if (this.pending.size === 0) {
      this.rebuilt = true;
      this.logger.info({ streams: this.store.streamCount, bytes: this.store.bytes }, 'live window rebuilt from Kafka');
    }
  }
}
