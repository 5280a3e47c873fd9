import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ROOT_CONTEXT } from '@opentelemetry/api';
import type { EachBatchPayload, Kafka } from 'kafkajs';
import { ConsumerGroups, isStreamId, Topics, VideoHeaders } from '@tributary/contracts';
import { consumerGroupId, contextFromHeaders, DeadLetterPublisher, type KafkaConsumerRunner } from '@tributary/kafka';
import { ReadinessRegistry, ROOT_LOGGER } from '@tributary/nest-common';
import { KAFKA_CLIENT, TopicNames } from '@tributary/nest-kafka';
import type { Logger } from '@tributary/telemetry';
import { StreamCatalogService } from '../streams/stream-catalog.service';
import { rewoundConsumer, startRewound } from '../hls/rewind';
import { FrameHub } from './frame-hub';

/** How far back the latest frame per stream is looked for after a restart. */
const REWIND_MS = 30_000;

/**
 * Feeds the FrameHub from `video.frames` (published frames and transcoder thumbnails alike).
 * KafkaConsumerRunner because values are binary JPEGs with metadata in headers; every replica
 * has its own group (every replica serves every stream) and commits nothing.
 */
@Injectable()
export class FramesService implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly hub = new FrameHub();
  private readonly logger: Logger;
  private readonly groupId: string;
  private runner?: KafkaConsumerRunner;

  constructor(
    @Inject(KAFKA_CLIENT) private readonly kafka: Kafka,
    private readonly topics: TopicNames,
    private readonly deadLetters: DeadLetterPublisher,
    @Inject(ROOT_LOGGER) rootLogger: Logger,
    readiness: ReadinessRegistry,
    catalog: StreamCatalogService,
  ) {
    this.logger = rootLogger.child({ component: 'frames' });
    // A deleted stream's latest frame goes at once (the hub's time-to-live covers ended streams).
    catalog.onChange((id) => {
      if (!catalog.get(id)) this.hub.forget(id);
    });
    this.groupId = consumerGroupId(ConsumerGroups.viewerApiFrames, topics.prefix);
    readiness.register('frames', () => this.runner?.isJoined ?? false);
  }

  async onApplicationBootstrap(): Promise<void> {
    const topic = this.topics.resolve(Topics.videoFrames);
    this.runner = rewoundConsumer(this.kafka, {
      groupId: this.groupId,
      topic,
      logger: this.logger,
      consumerConfig: { maxWaitTimeInMs: 100 },
      eachBatch: (payload) => this.handleBatch(payload),
    });
    await startRewound(this.kafka, this.runner, topic, Date.now() - REWIND_MS);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.runner?.stop();
  }

  private async handleBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    for (const message of batch.messages) {
      if (!payload.isRunning() || payload.isStale()) return;
      const streamId = message.key?.toString() ?? '';
      const value = message.value;
      const contentType = message.headers?.[VideoHeaders.contentType]?.toString() ?? 'image/jpeg';
      // JPEG SOI marker: anything else would corrupt the multipart stream.
      const isJpeg = value !== null && value.length > 3 && value[0] === 0xff && value[1] === 0xd8;
      if (!isStreamId(streamId) || !isJpeg || contentType !== 'image/jpeg') {
        await this.deadLetters.publish(
          { topic: batch.topic, partition: batch.partition, message, groupId: this.groupId },
          'frame must have a stream id key and a JPEG value (content-type image/jpeg)',
        );
        continue;
      }
      const headerTime = Number(message.headers?.[VideoHeaders.frameTimeMs]?.toString());
      this.hub.publish(streamId, {
        bytes: value,
        timeMs: Number.isFinite(headerTime) ? headerTime : Number(message.timestamp),
        // eachBatch runs in one poll span: take each frame's own trace from its headers.
        trace: contextFromHeaders(message.headers, ROOT_CONTEXT),
      });
    }
  }
}
