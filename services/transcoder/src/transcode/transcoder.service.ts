import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { EachMessagePayload, Kafka } from 'kafkajs';
import {
  Headers,
  isStreamId,
  STREAM_STATUS_SCHEMA_ID,
  type StreamStatus,
  streamStatusValidator,
  TS_PACKET_SIZE,
  Topics,
  VideoHeaders,
} from '@tributary/contracts';
import { DeadLetterPublisher, headerString, injectTraceContext, KafkaConsumerRunner, KafkaProducer } from '@tributary/kafka';
import { type MediaTools, readSegmentTail, resolveMediaTools, StreamRegistryView } from '@tributary/media';
import { ReadinessRegistry, ROOT_LOGGER } from '@tributary/nest-common';
import { KAFKA_CLIENT, TopicNames } from '@tributary/nest-kafka';
import { type Logger, streamMetrics } from '@tributary/telemetry';
import { TRANSCODER_CONFIG, type TranscoderConfig } from '../config';
import { OffsetCommitTracker } from './offset-commit-tracker';
import { type OutgoingSegment, type PipelineSink, StreamPipeline } from './stream-pipeline';

/**
 * Runs one StreamPipeline per live stream on the partitions of `video.ingest` this replica owns
 * (consumer group `transcoder`: replicas scale by partitions), and commits input offsets only
 * when the output made from them is acknowledged.
 *
 * video.ingest is consumed with KafkaConsumerRunner, not Nest's @EventPattern transport, because
 * values are raw MPEG-TS bytes (Nest would try to decode them) and offsets must be committed
 * manually, long after the message was handled (when its segments are durable).
 */
@Injectable()
export class TranscoderService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger: Logger;
  private readonly topics: { ingest: string; segments: string; frames: string; status: string; registry: string };
  private readonly registry: StreamRegistryView;
  private readonly tracker = new OffsetCommitTracker();
  private readonly pipelines = new Map<string, StreamPipeline>();
  /** Last media sequences of streams that finished here, while this replica keeps their partition. */
  private readonly lastSequences = new Map<string, { partition: number; sequences: Map<string, number> }>();
  private readonly commitTimers = new Map<number, NodeJS.Timeout>();
  private ingestRunner?: KafkaConsumerRunner;
  private statusRunner?: KafkaConsumerRunner;
  private tools?: MediaTools;
  private idleTimer?: NodeJS.Timeout;
  /** Closed while the group rebalances: no segment is produced until we know which partitions we keep. */
  private fence?: { promise: Promise<void>; open: () => void };
  private assigned = new Set<number>();
  private readonly highestSeen = new Map<number, bigint>();
  /** The latest ingest `ended` per stream (bounded), for pipelines created after it arrived. */
  private readonly endedPublishes = new Map<string, { session: string; lastChunkSequence?: number | undefined }>();

  constructor(
    @Inject(TRANSCODER_CONFIG) private readonly config: TranscoderConfig,
    @Inject(KAFKA_CLIENT) private readonly kafka: Kafka,
    topicNames: TopicNames,
    private readonly producer: KafkaProducer,
    private readonly deadLetters: DeadLetterPublisher,
    readiness: ReadinessRegistry,
    @Inject(ROOT_LOGGER) rootLogger: Logger,
  ) {
    this.logger = rootLogger.child({ component: 'transcoder' });
    streamMetrics.active(() => [...this.pipelines.values()].filter((pipeline) => !pipeline.isFinished).length);
    this.topics = {
      ingest: topicNames.resolve(Topics.videoIngest),
      segments: topicNames.resolve(Topics.videoSegments),
      frames: topicNames.resolve(Topics.videoFrames),
      status: topicNames.resolve(Topics.streamStatus),
      registry: topicNames.resolve(Topics.streamRegistry),
    };
    this.registry = new StreamRegistryView(kafka, { topic: this.topics.registry, groupIdPrefix: 'transcoder-registry', logger: this.logger });
    readiness.register('stream-registry', () => this.registry.caughtUp);
    readiness.register('video-ingest-consumer', () => this.ingestRunner?.isJoined ?? false);
    readiness.register('stream-status-consumer', () => this.statusRunner?.isJoined ?? false);
  }

  async onApplicationBootstrap(): Promise<void> {
    this.tools = resolveMediaTools({
      ...(this.config.ffmpegPath ? { ffmpegPath: this.config.ffmpegPath } : {}),
      ...(this.config.ffprobePath ? { ffprobePath: this.config.ffprobePath } : {}),
      ...(this.config.searchPath ? { searchPath: this.config.searchPath } : {}),
    });
    this.logger.info({ ffmpeg: this.tools.ffmpeg, ffprobe: this.tools.ffprobe, preset: this.config.preset }, 'media tools');
    await this.registry.start();
    // Every replica needs every ingest `ended` report (for the streams it owns now or takes over
    // later: a publish may have ended before this replica took its partition), so stream.status
    // is read in full with a per-replica group (small JSON, 7-day retention) and the latest
    // `ended` per stream is remembered.
    this.statusRunner = new KafkaConsumerRunner(this.kafka, {
      groupId: `transcoder-status-${randomUUID()}`,
      topics: [this.topics.status],
      fromBeginning: true,
      eachMessage: (payload) => Promise.resolve(this.onStatus(payload)),
      logger: this.logger,
    });
    await this.statusRunner.start();
    this.ingestRunner = new KafkaConsumerRunner(this.kafka, {
      groupId: this.config.groupId,
      topics: [this.topics.ingest],
      fromBeginning: true,
      autoCommit: false,
      partitionsConsumedConcurrently: this.config.kafka.videoPartitions,
      consumerConfig: {
        maxBytesPerPartition: 4 * 1024 * 1024,
        sessionTimeout: this.config.sessionTimeoutMs,
        heartbeatInterval: Math.floor(this.config.sessionTimeoutMs / 10),
      },
      eachMessage: (payload) => this.onChunk(payload),
      logger: this.logger,
    });
    const consumer = this.ingestRunner.consumer;
    consumer.on(consumer.events.REBALANCING, () => this.closeFence());
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      const partitions = event.payload.memberAssignment[this.topics.ingest] ?? [];
      void this.onAssigned(new Set(partitions));
    });
    await this.ingestRunner.start();
    this.idleTimer = setInterval(() => this.endIdleStreams(), 1000);
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.idleTimer) clearInterval(this.idleTimer);
    for (const timer of this.commitTimers.values()) clearTimeout(timer);
    this.commitTimers.clear();
    await this.ingestRunner?.stop();
    await this.statusRunner?.stop();
    // Uncommitted input is re-read by the partition's next owner; stop ffmpeg without output.
    await Promise.all([...this.pipelines.values()].map((pipeline) => pipeline.abandon()));
    await this.registry.stop();
  }

  private closeFence(): void {
    if (this.fence) return;
    let open!: () => void;
    const promise = new Promise<void>((resolve) => (open = resolve));
    this.fence = { promise, open };
  }

  private async onAssigned(partitions: Set<number>): Promise<void> {
    const lost = [...this.assigned].filter((partition) => !partitions.has(partition));
    this.assigned = partitions;
    for (const [streamId, pipeline] of this.pipelines) {
      if (!partitions.has(pipeline.partition)) {
        this.pipelines.delete(streamId);
        await pipeline.abandon();
      }
    }
    for (const [streamId, entry] of this.lastSequences) if (!partitions.has(entry.partition)) this.lastSequences.delete(streamId);
    for (const partition of lost) {
      this.tracker.drop(partition);
      this.highestSeen.delete(partition);
    }
    this.logger.info({ partitions: [...partitions], lost }, 'video.ingest partitions assigned');
    const fence = this.fence;
    this.fence = undefined;
    fence?.open();
  }

  private async onChunk({ topic, partition, message }: EachMessagePayload): Promise<void> {
    // After a rebalance kafkajs restarts a partition we kept from its committed offset, which
    // re-delivers chunks already fed to a running pipeline: feeding them twice would corrupt the
    // stream, so anything at or below the highest offset seen on the partition is skipped.
    const offset = BigInt(message.offset);
    const seen = this.highestSeen.get(partition);
    if (seen !== undefined && offset <= seen) return;
    this.highestSeen.set(partition, offset);
    this.tracker.track(partition, message.offset);
    const streamId = message.key?.toString() ?? '';
    const session = headerString(message.headers, VideoHeaders.publishSession);
    const sequence = Number(headerString(message.headers, VideoHeaders.chunkSequence));
    const problem = !isStreamId(streamId)
      ? 'key is not a valid stream id'
      : !session
        ? `missing ${VideoHeaders.publishSession} header`
        : !Number.isInteger(sequence) || sequence < 0
          ? `missing or invalid ${VideoHeaders.chunkSequence} header`
          : !message.value || message.value.length === 0 || message.value.length % TS_PACKET_SIZE !== 0
            ? `value is not a run of whole ${TS_PACKET_SIZE}-byte packets`
            : undefined;
    if (problem) {
      this.logger.warn({ partition, offset: message.offset, problem }, 'invalid video.ingest message; dead-lettering it');
      await this.deadLetters.publish({ topic, partition, message, groupId: this.config.groupId }, problem);
      this.chunkDone(partition, message.offset);
      return;
    }
    let pipeline = this.pipelines.get(streamId);
    if (pipeline && (pipeline.isFinished || pipeline.publishSessionId !== session)) {
      if (!pipeline.isFinished) {
        // A new publish of the stream: finish the previous one first, so numbering stays in order.
        await pipeline.endAfter(undefined, 'a new publish session started');
        await pipeline.finished;
      }
      this.remember(pipeline);
      this.pipelines.delete(streamId);
      pipeline = undefined;
    }
    if (!pipeline) {
      if (sequence > 0 && !this.lastSequences.has(streamId)) {
        this.logger.info({ streamId, publishSessionId: session, chunkSequence: sequence }, 'taking over a stream mid-publish');
      }
      pipeline = this.createPipeline(streamId, partition, session!);
      this.pipelines.set(streamId, pipeline);
      const ended = this.endedPublishes.get(streamId);
      if (ended && ended.session === session) this.endWhenComplete(pipeline, ended.lastChunkSequence);
    }
    await pipeline.feed({
      offset: message.offset,
      sequence,
      data: message.value!,
      ...(headerString(message.headers, Headers.traceparent) ? { traceparent: headerString(message.headers, Headers.traceparent)! } : {}),
    });
  }

  private remember(pipeline: StreamPipeline): void {
    const sequences = pipeline.sequencesAfter();
    if (sequences.size > 0) this.lastSequences.set(pipeline.streamId, { partition: pipeline.partition, sequences });
  }

  private createPipeline(streamId: string, partition: number, publishSessionId: string): StreamPipeline {
    const known = this.lastSequences.get(streamId);
    const lastSequences = known
      ? Promise.resolve(known.sequences)
      : readSegmentTail(this.kafka, {
          topic: this.topics.segments,
          streamId,
          lookback: this.config.segmentTailLookback,
          logger: this.logger,
        }).then((tail) => tail.lastSequence);
    // Avoid an unhandled rejection before the pipeline awaits it (it handles the error itself).
    lastSequences.catch(() => undefined);
    const record = this.registry.get(streamId);
    if (!record) this.logger.warn({ streamId }, 'stream not in the registry; using the default ladder and 2 s segments');
    return new StreamPipeline({
      streamId,
      partition,
      publishSessionId,
      ...(record ? { record } : {}),
      lastSequences,
      sink: this.sink(),
      logger: this.logger.child({ streamId, publishSessionId }),
      settings: {
        tools: this.tools!,
        workDir: this.config.workDir ?? join(tmpdir(), 'tributary-transcoder'),
        preset: this.config.preset,
        threads: this.config.threads,
        thumbnailIntervalSeconds: this.config.thumbnailIntervalSeconds,
        maxRestarts: this.config.maxRestarts,
        probeMaxBytes: this.config.probeMaxBytes,
      },
    });
  }

  private sink(): PipelineSink {
    return {
      segment: (segment) => this.produceSegment(segment),
      thumbnail: async (streamId, data, traceparent) => {
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
      },
      status: (status) => this.produceStatus(status),
      chunkDone: (partition, offset) => this.chunkDone(partition, offset),
    };
  }

  private async produceSegment(segment: OutgoingSegment): Promise<boolean> {
    while (this.fence) await this.fence.promise;
    const pipeline = this.pipelines.get(segment.streamId);
    if (!pipeline || !this.assigned.has(pipeline.partition)) return false;
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
    await this.producer.send(this.topics.segments, [{ key: segment.streamId, value: segment.data, headers }]);
    return true;
  }

  private async produceStatus(status: Omit<StreamStatus, 'reporter' | 'ts'>): Promise<void> {
    const value: StreamStatus = { ...status, reporter: 'transcoder', ts: new Date().toISOString() };
    await this.producer.send(this.topics.status, [
      {
        key: status.stream_id,
        value: JSON.stringify(value),
        headers: injectTraceContext({ [Headers.schema]: STREAM_STATUS_SCHEMA_ID, [Headers.contentType]: 'application/json' }),
      },
    ]);
  }

  private chunkDone(partition: number, offset: string): void {
    this.tracker.markDone(partition, offset);
    if (this.commitTimers.has(partition)) return;
    this.commitTimers.set(
      partition,
      setTimeout(() => {
        this.commitTimers.delete(partition);
        const next = this.tracker.committable(partition);
        if (next === undefined || !this.assigned.has(partition)) return;
        this.ingestRunner?.consumer
          .commitOffsets([{ topic: this.topics.ingest, partition, offset: next }])
          .catch((error: unknown) => this.logger.warn({ err: error, partition, offset: next }, 'offset commit failed (retried on the next one)'));
      }, 250),
    );
  }

  private onStatus({ message }: EachMessagePayload): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(message.value?.toString('utf8') ?? 'null');
    } catch {
      parsed = undefined;
    }
    const result = streamStatusValidator.validate(parsed);
    // Read by every replica: an invalid report is logged, not dead-lettered once per replica.
    if (!result.ok) {
      this.logger.warn({ offset: message.offset, issues: result.issues }, 'invalid stream.status message ignored');
      return;
    }
    const status = result.value;
    if (status.reporter !== 'ingest' || status.state !== 'ended' || !status.publish_session_id) return;
    const ended = { session: status.publish_session_id, lastChunkSequence: status.last_chunk_sequence };
    this.endedPublishes.delete(status.stream_id);
    this.endedPublishes.set(status.stream_id, ended);
    if (this.endedPublishes.size > 10_000) this.endedPublishes.delete(this.endedPublishes.keys().next().value!);
    const pipeline = this.pipelines.get(status.stream_id);
    if (pipeline && !pipeline.isFinished && pipeline.publishSessionId === ended.session) this.endWhenComplete(pipeline, ended.lastChunkSequence);
  }

  private endWhenComplete(pipeline: StreamPipeline, lastChunkSequence: number | undefined): void {
    pipeline.endAfter(lastChunkSequence, 'publisher ended').catch((error: unknown) => this.logger.error({ err: error }, 'ending stream failed'));
  }

  private endIdleStreams(): void {
    const now = Date.now();
    for (const [streamId, pipeline] of this.pipelines) {
      if (pipeline.isFinished) {
        // Keep only what the next publish of the stream needs: its last media sequences.
        this.remember(pipeline);
        this.pipelines.delete(streamId);
        continue;
      }
      if (!pipeline.isFinished && now - pipeline.lastChunkAt > this.config.idleTimeoutMs && pipeline.currentState !== 'ending') {
        this.logger.warn({ streamId: pipeline.streamId }, 'no input for the idle timeout; ending the stream');
        void pipeline.endAfter(undefined, 'input idle');
      }
    }
  }
}
