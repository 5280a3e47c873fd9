import { Inject, Injectable } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import { Headers, VideoHeaders } from '@tributary/contracts';
import { injectTraceContext, KafkaProducer } from '@tributary/kafka';
import { readSegmentTail } from '@tributary/media';
import { ROOT_LOGGER } from '@tributary/nest-common';
import { KAFKA_CLIENT, TopicNames } from '@tributary/nest-kafka';
import type { Logger } from '@tributary/telemetry';
import { TRANSCODER_CONFIG, type TranscoderConfig } from '../config';
import type { OutgoingSegment } from './stream-pipeline';
import { transcoderTopics } from './transcoder-topics';

/** Where transcoded output goes (TranscodeOutputRepository in the service, fakes in tests). */
export interface TranscodeOutput {
  /** Publishes a segment made from input partition `partition`; resolves once it is durable. */
  segment(partition: number, segment: OutgoingSegment): Promise<void>;
  thumbnail(streamId: string, data: Buffer, traceparent?: string): Promise<void>;
  /** The last media sequence per rendition already on video.segments for a stream. */
  lastSequences(streamId: string): Promise<Map<string, number>>;
}

/** Segment headers (the metadata viewer-api builds playlists from). */
export function segmentHeaders(segment: OutgoingSegment): Record<string, string> {
  const headers: Record<string, string> = {
    [VideoHeaders.rendition]: segment.rendition,
    [VideoHeaders.segmentKind]: 'media',
    [VideoHeaders.mediaSequence]: String(segment.sequence),
    [VideoHeaders.durationSeconds]: segment.durationSeconds.toFixed(3),
    [VideoHeaders.programTime]: segment.programTime,
    [VideoHeaders.discontinuity]: segment.discontinuity ? '1' : '0',
    [VideoHeaders.transcodeSession]: segment.transcodeSession,
    [VideoHeaders.publishSession]: segment.publishSessionId,
    [VideoHeaders.contentType]: 'video/mp2t',
  };
  if (segment.traceparent) headers[Headers.traceparent] = segment.traceparent;
  else injectTraceContext(headers);
  return headers;
}

/** video.segments and video.frames, through the shared idempotent producer. */
@Injectable()
export class TranscodeOutputRepository implements TranscodeOutput {
  private readonly topics;

  constructor(
    @Inject(TRANSCODER_CONFIG) private readonly config: TranscoderConfig,
    @Inject(KAFKA_CLIENT) private readonly kafka: Kafka,
    topicNames: TopicNames,
    private readonly producer: KafkaProducer,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {
    this.topics = transcoderTopics(topicNames);
  }

  async segment(_partition: number, segment: OutgoingSegment): Promise<void> {
    await this.producer.send(this.topics.segments, [{ key: segment.streamId, value: segment.data, headers: segmentHeaders(segment) }]);
  }

  async thumbnail(streamId: string, data: Buffer, traceparent?: string): Promise<void> {
    await this.producer.send(this.topics.frames, [
      {
        key: streamId,
        value: data,
        headers: {
          [VideoHeaders.frameKind]: 'thumbnail',
          [VideoHeaders.frameTimeMs]: String(Date.now()),
          [VideoHeaders.contentType]: 'image/jpeg',
          ...(traceparent ? { [Headers.traceparent]: traceparent } : {}),
        },
      },
    ]);
  }

  async lastSequences(streamId: string): Promise<Map<string, number>> {
    const tail = await readSegmentTail(this.kafka, {
      topic: this.topics.segments,
      streamId,
      lookback: this.config.segmentTailLookback,
      logger: this.logger,
    });
    return tail.lastSequence;
  }
}
