import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import { buildVideoSegmentHeaders, ConsumerGroups, Headers, VideoHeaders } from '@tributary/contracts';
import { consumerGroupId, injectTraceContext, KafkaProducer, readSegmentTail, TransactionalProducer } from '@tributary/kafka';
import { ROOT_LOGGER } from '@tributary/nest-common';
import { KAFKA_CLIENT, TopicNames } from '@tributary/nest-kafka';
import type { Logger } from '@tributary/telemetry';
import { TRANSCODER_CONFIG, type TranscoderConfig } from '../config';
import type { OutgoingSegment } from './stream-pipeline';
import { transcoderTopics } from './transcoder-topics';

/** Where transcoded output goes (TranscodeOutputRepository in the service, fakes in tests). */
export interface TranscodeOutput {
  /**
   * Takes over the output of the input partitions this replica was assigned (fencing whoever
   * wrote for them before) and lets go of the others. Resolves with the partitions it kept from
   * before whose previous writer was fenced meanwhile (another replica owned them in between:
   * their streams must restart from the committed input).
   */
  own(partitions: ReadonlySet<number>): Promise<Set<number>>;
  /**
   * Publishes a segment made from input partition `partition`, with the input position
   * `commitInput` (if any) in the same transaction; resolves once committed. Rejects with
   * ProducerFencedError when another replica took the partition over.
   */
  segment(partition: number, segment: OutgoingSegment, commitInput?: string): Promise<void>;
  /** Commits the input position of `partition` (same fencing as segments). */
  commitInput(partition: number, offset: string): Promise<void>;
  thumbnail(streamId: string, data: Buffer, traceparent?: string): Promise<void>;
  /** The last media sequence per rendition already on video.segments for a stream. */
  lastSequences(streamId: string): Promise<Map<string, number>>;
}

/** Segment headers (the contract's; the metadata viewer-api builds playlists from). */
export function segmentHeaders(segment: OutgoingSegment): Record<string, string> {
  const headers = buildVideoSegmentHeaders({
    rendition: segment.rendition,
    kind: segment.kind ?? 'media',
    part: segment.part ?? null,
    sequence: segment.sequence,
    durationSeconds: segment.durationSeconds,
    programTime: segment.programTime,
    discontinuity: segment.discontinuity,
    transcodeSession: segment.transcodeSession,
    publishSessionId: segment.publishSessionId,
    contentType: (segment.kind ?? 'media') === 'media' ? 'video/mp2t' : 'video/mp4',
    traceparent: segment.traceparent ?? null,
  });
  return segment.traceparent ? headers : injectTraceContext(headers);
}

/**
 * video.segments through one transactional producer per input partition (transactional.id
 * `<group>-<video.ingest topic>-<partition>`): whoever owns an input partition writes its
 * segments and commits its input offsets in transactions, and a replica taking the partition
 * over fences the previous writer, whose later transactions fail (viewers read committed, so
 * nothing of a zombie's is ever seen). Thumbnails (video.frames) go through the shared
 * idempotent producer: they are best-effort previews, not fenced.
 */
@Injectable()
export class TranscodeOutputRepository implements TranscodeOutput, OnApplicationShutdown {
  private readonly topics;
  private readonly prefix: string;
  private readonly producers = new Map<number, TransactionalProducer>();

  constructor(
    @Inject(TRANSCODER_CONFIG) private readonly config: TranscoderConfig,
    @Inject(KAFKA_CLIENT) private readonly kafka: Kafka,
    topicNames: TopicNames,
    private readonly producer: KafkaProducer,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {
    this.topics = transcoderTopics(topicNames);
    this.prefix = topicNames.prefix;
  }

  transactionalId(partition: number): string {
    return `${this.config.groupId}-${this.topics.ingest}-${partition}`;
  }

  async own(partitions: ReadonlySet<number>): Promise<Set<number>> {
    const released = [...this.producers.entries()].filter(([partition]) => !partitions.has(partition));
    for (const [partition] of released) this.producers.delete(partition);
    await Promise.all(released.map(([, producer]) => producer.disconnect().catch(() => undefined)));
    const lostMeanwhile = new Set<number>();
    await Promise.all(
      [...partitions].map(async (partition) => {
        const current = this.producers.get(partition);
        if (current && !current.isFenced && (await current.stillOwner(this.config.groupId))) return;
        if (current) {
          lostMeanwhile.add(partition);
          await current.disconnect().catch(() => undefined);
        }
        const producer = new TransactionalProducer(this.kafka, this.transactionalId(partition), { compression: this.config.kafka.compression });
        await producer.connect();
        this.producers.set(partition, producer);
      }),
    );
    this.logger.info({ component: 'transcoder', partitions: [...partitions], lostMeanwhile: [...lostMeanwhile] }, 'segment output fenced and owned');
    return lostMeanwhile;
  }

  async segment(partition: number, segment: OutgoingSegment, commitInput?: string): Promise<void> {
    await this.writer(partition).commit(
      [{ topic: this.topics.segments, messages: [{ key: segment.streamId, value: segment.data, headers: segmentHeaders(segment) }] }],
      commitInput === undefined ? [] : [this.inputOffset(partition, commitInput)],
    );
  }

  async commitInput(partition: number, offset: string): Promise<void> {
    await this.writer(partition).commit([], [this.inputOffset(partition, offset)]);
  }

  async onApplicationShutdown(): Promise<void> {
    const producers = [...this.producers.values()];
    this.producers.clear();
    await Promise.all(producers.map((producer) => producer.disconnect().catch(() => undefined)));
  }

  private writer(partition: number): TransactionalProducer {
    const producer = this.producers.get(partition);
    if (!producer) throw new Error(`partition ${partition} of ${this.topics.ingest} is not owned by this replica`);
    return producer;
  }

  private inputOffset(partition: number, offset: string) {
    return { consumerGroupId: this.config.groupId, topic: this.topics.ingest, partition, offset };
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
      groupId: consumerGroupId(ConsumerGroups.transcoderSegmentTail, this.prefix),
      lookback: this.config.segmentTailLookback,
      logger: this.logger,
    });
    return tail.lastSequence;
  }
}
