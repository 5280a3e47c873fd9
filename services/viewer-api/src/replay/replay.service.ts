import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { consumerGroupId, partitionForKey } from '@tributary/kafka';
import { ConsumerGroups, Topics } from '@tributary/contracts';
import { ReadinessRegistry, ROOT_LOGGER } from '@tributary/nest-common';
import { KAFKA_CLIENT, TopicNames } from '@tributary/nest-kafka';
import type { Logger } from '@tributary/telemetry';
import type { ViewerApiConfig } from '../config';
import { VIEWER_CONFIG } from '../hls/tokens';
import { parseSegmentMeta, type SegmentMeta } from '../hls/segment-message';
import { retryKafka } from '../streams/retry';
import { ArchiveReader } from './archive-reader';
import { LRUCache } from 'lru-cache';
import { ReplayIndex } from './replay-index';
import { ReplayIndexCache } from './replay-index-cache';

const READ_AHEAD = 4n;

export interface FetchedSegment {
  meta: SegmentMeta;
  bytes: Buffer;
}

/**
 * Replay from Kafka: the archive of a stream is `video.segments` itself (retention bounds how far
 * back). Playlists are built from segment headers read from the stream's partition, starting at
 * the offset admin.fetchTopicOffsetsByTimestamp gives for the stream's creation (or `from`);
 * bytes are fetched by (partition, offset) on request through a byte-bounded LRU cache. Both
 * caches are lru-cache instances with fixed bounds (indexes: count, segments, idle time).
 */
@Injectable()
export class ReplayService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger: Logger;
  private reader?: ArchiveReader;
  private readonly indexes = new ReplayIndexCache();
  /** Builds in flight (bounded by concurrent requests). */
  private readonly building = new Map<string, Promise<ReplayIndex>>();
  private readonly cache: LRUCache<string, FetchedSegment>;
  private readonly topic: string;
  private readonly prefix: string;

  constructor(
    @Inject(KAFKA_CLIENT) private readonly kafka: Kafka,
    @Inject(VIEWER_CONFIG) config: ViewerApiConfig,
    topics: TopicNames,
    @Inject(ROOT_LOGGER) rootLogger: Logger,
    readiness: ReadinessRegistry,
  ) {
    this.logger = rootLogger.child({ component: 'replay' });
    this.topic = topics.resolve(Topics.videoSegments);
    this.prefix = topics.prefix;
    this.cache = new LRUCache<string, FetchedSegment>({ maxSize: config.replayCacheBytes, sizeCalculation: (entry) => Math.max(1, entry.bytes.length) });
    readiness.register('replay-reader', () => this.reader?.isJoined ?? false);
  }

  async onApplicationBootstrap(): Promise<void> {
    this.reader = new ArchiveReader(this.kafka, this.topic, consumerGroupId(ConsumerGroups.viewerApiReplay, this.prefix), this.logger);
    await this.reader.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.reader?.stop();
  }

  /** The partition a stream's segments are on (libs/kafka's one stream → partition lookup). */
  private async partitionOf(streamId: string): Promise<number> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const metadata = await retryKafka(() => admin.fetchTopicMetadata({ topics: [this.topic] }));
      return partitionForKey(this.topic, streamId, metadata.topics[0].partitions.length);
    } finally {
      await admin.disconnect();
    }
  }

  /**
   * The index of a stream's archive from `sinceMs` (a segment-production time), extended to the
   * current end of the partition. Indexes (metadata only) are cached and extended incrementally.
   */
  async index(streamId: string, sinceMs: number): Promise<ReplayIndex> {
    const key = `${streamId}@${sinceMs}`;
    this.indexes.purgeStale(); // at most maxIndexes entries to look at
    const inFlight = this.building.get(key);
    if (inFlight) return inFlight;
    const work = this.buildIndex(key, streamId, sinceMs).finally(() => this.building.delete(key));
    this.building.set(key, work);
    return work;
  }

  private async buildIndex(key: string, streamId: string, sinceMs: number): Promise<ReplayIndex> {
    const admin = this.kafka.admin();
    let index = this.indexes.get(key);
    let until: bigint;
    await admin.connect();
    try {
      const partition = index?.partition ?? (await this.partitionOf(streamId));
      const offsets = await retryKafka(() => admin.fetchTopicOffsets(this.topic));
      const bounds = offsets.find((o) => o.partition === partition)!;
      until = BigInt(bounds.high) - 1n;
      if (!index) {
        const starts = await retryKafka(() => admin.fetchTopicOffsetsByTimestamp(this.topic, Math.max(0, sinceMs)));
        const start = BigInt(starts.find((s) => s.partition === partition)!.offset);
        const low = BigInt(bounds.low);
        index = new ReplayIndex(streamId, partition, start > low ? start : low);
      }
    } finally {
      await admin.disconnect();
    }
    this.indexes.put(key, index);
    if (index.nextOffset <= until) {
      const started = Date.now();
      const target = index;
      await this.reader!.read(index.partition, index.nextOffset, until, (message) => {
        target.nextOffset = BigInt(message.offset) + 1n;
        if (message.key?.toString() !== streamId) return true;
        try {
          target.add(parseSegmentMeta(message, target.partition));
        } catch (error) {
          this.logger.debug({ offset: message.offset, err: error }, 'skipping an invalid archived segment');
        }
        return true;
      });
      target.nextOffset = until + 1n > target.nextOffset ? until + 1n : target.nextOffset;
      this.indexes.put(key, target); // re-weighed: it grew
      this.logger.debug({ streamId, partition: index.partition, until: until.toString(), ms: Date.now() - started }, 'replay index extended');
    }
    return index;
  }

  /** A segment's bytes by its Kafka position; undefined when it is not this stream's/rendition's. */
  async segment(streamId: string, rendition: string, partition: number, offset: bigint): Promise<FetchedSegment | undefined> {
    const key = `${partition}:${offset}`;
    const cached = this.cache.get(key);
    if (cached) return this.belongs(cached, streamId, rendition) ? cached : undefined;
    const admin = this.kafka.admin();
    await admin.connect();
    let high: bigint;
    let low: bigint;
    try {
      const bounds = (await retryKafka(() => admin.fetchTopicOffsets(this.topic))).find((o) => o.partition === partition);
      if (!bounds) return undefined;
      high = BigInt(bounds.high);
      low = BigInt(bounds.low);
    } finally {
      await admin.disconnect();
    }
    if (offset < low || offset >= high) return undefined;
    const until = offset + READ_AHEAD < high - 1n ? offset + READ_AHEAD : high - 1n;
    await this.reader!.read(partition, offset, until, (message: KafkaMessage) => {
      // Read-ahead: keep this stream's next segments too (sequential playback asks for them next).
      if (message.key?.toString() === streamId && message.value) {
        try {
          const meta = parseSegmentMeta(message, partition);
          this.cache.set(`${partition}:${message.offset}`, { meta, bytes: message.value });
        } catch {
          // not a valid segment: never served
        }
      }
      return true;
    });
    const fetched = this.cache.get(key);
    return fetched && this.belongs(fetched, streamId, rendition) ? fetched : undefined;
  }

  private belongs(segment: FetchedSegment, streamId: string, rendition: string): boolean {
    return segment.meta.streamId === streamId && segment.meta.rendition === rendition;
  }
}
