import { Module } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import { ConsumerGroups } from '@tributary/contracts';
import { consumerGroupId, StreamRegistryView } from '@tributary/kafka';
import { ROOT_LOGGER } from '@tributary/nest-common';
import { KAFKA_CLIENT, TopicNames } from '@tributary/nest-kafka';
import type { Logger } from '@tributary/telemetry';
import { StreamPipelineFactory } from './stream-pipeline.factory';
import { StreamStatusRepository } from './stream-status.repository';
import { TranscodeOutputRepository } from './transcode-output.repository';
import { transcoderTopics } from './transcoder-topics';
import { STREAM_RECORDS, TranscoderService } from './transcoder.service';
import { VideoIngestRepository } from './video-ingest.repository';

/** video.ingest → ffmpeg ABR ladder → video.segments / video.frames / stream.status. */
@Module({
  providers: [
    VideoIngestRepository,
    StreamStatusRepository,
    TranscodeOutputRepository,
    StreamPipelineFactory,
    {
      provide: STREAM_RECORDS,
      inject: [KAFKA_CLIENT, TopicNames, ROOT_LOGGER],
      useFactory: (kafka: Kafka, topicNames: TopicNames, logger: Logger) =>
        new StreamRegistryView(kafka, {
          topic: transcoderTopics(topicNames).registry,
          groupId: consumerGroupId(ConsumerGroups.transcoderRegistry, topicNames.prefix),
          logger: logger.child({ component: 'transcoder' }),
        }),
    },
    TranscoderService,
  ],
})
export class TranscodeModule {}
