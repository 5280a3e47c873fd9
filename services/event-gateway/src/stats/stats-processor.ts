import { type BeforeApplicationShutdown, Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import {
  Headers,
  PLAYBACK_EVENT_SCHEMA_ID,
  PLAYBACK_STATS_SCHEMA_ID,
  type PlaybackEvent,
  playbackEventMessage,
  type PlaybackStats,
  Topics,
} from '@tributary/contracts';
import {
  carriesSchema,
  type CheckedMessage,
  checkJsonMessage,
  DeadLetterPublisher,
  injectTraceContext,
  KafkaConsumerRunner,
  type KafkaConfig,
  KafkaProducer,
  rewindOnAssignment,
} from '@tributary/kafka';
import { ReadinessRegistry, ROOT_LOGGER } from '@tributary/nest-common';
import { KAFKA_CLIENT, KAFKA_CONFIG, TopicNames } from '@tributary/nest-kafka';
import {
  BatchLinks,
  type Link,
  type Logger,
  ROOT_CONTEXT,
  SpanKind,
  startLinkedSpan,
  telemetryState,
  withMessageSpan,
} from '@tributary/telemetry';
import type { EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { type AddResult, StatsAggregator, DEFAULT_STATS_OPTIONS } from './stats-aggregator';
import { batchBySize } from './snapshot-batches';
import { readStatsEvent } from './stats-event';
import { StatsMetrics } from './stats-metrics';
import { type StatsConfig, statsConsumerGroup } from './stats.config';
import { STATS_CONFIG, STATS_METRICS_REGISTRY } from './stats.tokens';
import type { Registry } from 'prom-client';

const RESULTS: readonly AddResult[] = ['applied', 'duplicate', 'late', 'clamped'];
/** The span limit's default: a batch span carries at most this many links. */
const MAX_LINKS = 128;

/** Parses and validates one `playback.events` message; the reason goes to the dead-letter header. */
export function checkEventMessage(message: Pick<KafkaMessage, 'value' | 'headers'>): CheckedMessage<PlaybackEvent> {
  return checkJsonMessage(message, playbackEventMessage);
}

/**
 * The stats processor: its own consumer group (`stats-processor`), so it scales on lag
 * independently of the Socket.IO fan-out. KafkaConsumerRunner with eachBatch rather than Nest's
 * @EventPattern: batches for throughput and `seek` on assignment to rebuild the window. The
 * consumer runs without kafkajs instrumentation's per-message spans (`messageSpans: false`): at
 * tens of thousands of events/s a span per event cost more than the aggregation; each batch gets
 * one span linked to its events' producer spans instead.
 *
 * Restart semantics: state is not checkpointed. On every assignment each partition is sought back
 * to `now − (longest window + lateness)` by timestamp and re-read; the aggregator ignores event ids
 * it has seen, so a rebalance or retry never double-counts, and snapshots wait until the re-read
 * has caught up (at most STATS_CATCH_UP_TIMEOUT_MS) so a restart never reports a half-empty window.
 * Committed offsets only feed lag metrics (KEDA).
 */
@Injectable()
export class StatsProcessor implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly aggregator: StatsAggregator;
  private readonly logger: Logger;
  private readonly metrics: StatsMetrics;
  private readonly groupId: string;
  private readonly eventsTopic: string;
  private readonly statsTopic: string;
  private runner: KafkaConsumerRunner | undefined;
  private timer: NodeJS.Timeout | undefined;
  private emitting = false;
  /** Partition → stream ids last seen on it (to forget streams that moved to another replica). */
  private readonly streamsByPartition = new Map<number, Set<string>>();
  /** Partition → log-end offset at assignment; the re-read is complete once every one is reached. */
  private catchUp = new Map<number, bigint>();
  /** Per partition since the last join: the lowest batch start and highest batch end processed. */
  private readSinceJoin = new Map<number, { first: bigint; last: bigint }>();
  private seekOffsets = new Map<number, bigint>();
  private catchUpDeadline = 0;
  private awaitingAssignment = false;

  constructor(
    @Inject(STATS_CONFIG) private readonly config: StatsConfig,
    @Inject(KAFKA_CLIENT) private readonly kafka: Kafka,
    @Inject(KAFKA_CONFIG) kafkaConfig: KafkaConfig,
    @Inject(ROOT_LOGGER) rootLogger: Logger,
    @Inject(STATS_METRICS_REGISTRY) registry: Registry,
    private readonly producer: KafkaProducer,
    private readonly deadLetters: DeadLetterPublisher,
    private readonly readiness: ReadinessRegistry,
    topics: TopicNames,
  ) {
    this.logger = rootLogger.child({ component: 'stats.processor' });
    this.metrics = new StatsMetrics(registry);
    this.aggregator = new StatsAggregator({ ...DEFAULT_STATS_OPTIONS, allowedLatenessMs: config.allowedLatenessMs });
    this.groupId = statsConsumerGroup(config, kafkaConfig.topicPrefix);
    this.eventsTopic = topics.resolve(Topics.playbackEvents);
    this.statsTopic = topics.resolve(Topics.playbackStats);
  }

  private get lookbackMs(): number {
    const { windowsMs, activeWindowMs, allowedLatenessMs } = this.aggregator.options;
    return Math.max(...windowsMs, activeWindowMs) + allowedLatenessMs;
  }

  async onApplicationBootstrap(): Promise<void> {
    const runner = new KafkaConsumerRunner(this.kafka, {
      groupId: this.groupId,
      topics: [this.eventsTopic],
      eachBatch: (payload) => this.onBatch(payload),
      autoCommit: true,
      messageSpans: false,
      consumerConfig: { minBytes: this.config.fetchMinBytes, maxWaitTimeInMs: this.config.fetchMaxWaitMs },
      logger: this.logger,
    });
    this.runner = runner;
    rewindOnAssignment({
      kafka: this.kafka,
      consumer: runner.consumer,
      topic: this.eventsTopic,
      lookbackMs: () => this.lookbackMs,
      logger: this.logger,
      onAssigned: (assigned) => void this.onAssigned(assigned),
    });
    runner.consumer.on(runner.consumer.events.GROUP_JOIN, () => {
      this.awaitingAssignment = true;
      this.readSinceJoin = new Map();
      this.catchUpDeadline = Date.now() + this.config.catchUpTimeoutMs;
    });
    this.readiness.register('stats-processor', () => runner.isJoined);
    await runner.start();
    this.timer = setInterval(() => void this.emit(), this.config.emitIntervalMs);
    this.logger.info({ groupId: this.groupId, topic: this.eventsTopic }, 'stats processor consuming');
  }

  private async onAssigned(assigned: Map<number, string>): Promise<void> {
    for (const [partition, streams] of this.streamsByPartition) {
      if (assigned.has(partition)) continue;
      this.aggregator.forget(streams);
      this.streamsByPartition.delete(partition);
    }
    try {
      const admin = this.kafka.admin();
      await admin.connect();
      try {
        const ends = await admin.fetchTopicOffsets(this.eventsTopic);
        this.catchUp = new Map(
          ends
            .filter(({ partition, high }) => assigned.has(partition) && BigInt(high) > BigInt(assigned.get(partition)!))
            .map(({ partition, high }) => [partition, BigInt(high)]),
        );
      } finally {
        await admin.disconnect();
      }
    } catch (error) {
      this.logger.warn({ error: String(error) }, 'could not read log-end offsets: snapshots start without waiting for the re-read');
      this.catchUp = new Map();
    }
    this.seekOffsets = new Map([...assigned].map(([partition, offset]) => [partition, BigInt(offset)]));
    for (const partition of [...this.catchUp.keys()]) this.checkCaughtUp(partition);
    this.awaitingAssignment = false;
  }

  /** A partition is re-read once a batch started at (or before) its sought offset and one reached the log end seen at assignment. */
  private checkCaughtUp(partition: number): void {
    const target = this.catchUp.get(partition);
    const seek = this.seekOffsets.get(partition);
    const read = this.readSinceJoin.get(partition);
    if (target === undefined || seek === undefined || read === undefined) return;
    if (read.first <= seek && read.last + 1n >= target) this.catchUp.delete(partition);
  }

  /**
   * One pass over a fetched batch: read (or parse + validate) each value and add it to the aggregator, with
   * no per-message framework work (no span, no context switch, no promise, no offset bookkeeping
   * per message: the batch's offsets are resolved once). Tracing: one `process <topic>` span per
   * batch (per 128 producer spans), linked to each event's producer span (docs/observability.md).
   */
  private async onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const partition = batch.partition;
    let streams = this.streamsByPartition.get(partition);
    if (!streams) {
      streams = new Set();
      this.streamsByPartition.set(partition, streams);
    }
    const startedAt = Date.now();
    const tracing = telemetryState()?.enabled === true;
    const links = new BatchLinks();
    const counts: Record<AddResult, number> = { applied: 0, duplicate: 0, late: 0, clamped: 0 };
    const messages = batch.messages;
    let done = 0;
    try {
      // The loop only awaits for a dead letter: between awaits no seek or stop can happen, so the
      // batch is checked for staleness before it starts and after each await, not per message.
      let current = payload.isRunning() && !payload.isStale();
      while (current && done < messages.length) {
        const message = messages[done];
        // The plain form our producers write is read in place; anything else is parsed and validated.
        const fields = message.value !== null && carriesSchema(message, PLAYBACK_EVENT_SCHEMA_ID) ? readStatsEvent(message.value) : undefined;
        if (fields) {
          counts[this.aggregator.addEvent(fields, startedAt)] += 1;
          streams.add(fields.stream_id);
          if (tracing) links.add(message.headers);
          done += 1;
          continue;
        }
        const checked = checkEventMessage(message);
        if (checked.ok) {
          counts[this.aggregator.add(checked.value, startedAt)] += 1;
          streams.add(checked.value.stream_id);
          if (tracing) links.add(message.headers);
          done += 1;
          continue;
        }
        // Invalid (rare): what came before it is counted as handled; the dead letter is written in
        // the message's own trace. Throws if the write fails: the batch is retried from this
        // message (the aggregator ignores the event ids it has already seen), nothing is lost.
        if (done > 0) payload.resolveOffset(messages[done - 1].offset);
        this.metrics.events.inc({ result: 'invalid' });
        this.logger.warn({ partition, offset: message.offset, reason: checked.reason }, 'invalid playback event: sent to the dead-letter topic');
        await withMessageSpan(`process ${batch.topic}`, message.headers, { 'messaging.kafka.offset': message.offset }, () =>
          this.deadLetters.publish({ topic: batch.topic, partition, message, groupId: this.groupId }, checked.reason),
        );
        done += 1;
        current = payload.isRunning() && !payload.isStale();
      }
    } finally {
      for (const result of RESULTS) if (counts[result] > 0) this.metrics.events.inc({ result }, counts[result]);
      if (done > 0) payload.resolveOffset(messages[done - 1].offset);
      if (tracing) this.traceBatch(batch.topic, partition, links.links, done, startedAt);
    }
    if (done > 0) {
      const first = BigInt(batch.firstOffset() ?? messages[0].offset);
      const last = BigInt(messages[done - 1].offset);
      const read = this.readSinceJoin.get(partition);
      this.readSinceJoin.set(partition, read ? { first: first < read.first ? first : read.first, last: last > read.last ? last : read.last } : { first, last });
      this.checkCaughtUp(partition);
    }
    await payload.heartbeat();
  }

  /**
   * A `process <topic>` CONSUMER span per batch — one more per MAX_LINKS producer spans beyond the
   * first MAX_LINKS — linked to the producer spans of its events (each once: BatchLinks).
   */
  private traceBatch(topic: string, partition: number, links: readonly Link[], messages: number, startTime: number): void {
    let from = 0;
    do {
      startLinkedSpan(`process ${topic}`, links.slice(from, from + MAX_LINKS), {
        kind: SpanKind.CONSUMER,
        parent: ROOT_CONTEXT,
        startTime,
        attributes: { 'messaging.system': 'kafka', 'messaging.destination.partition.id': String(partition), 'messaging.batch.message_count': messages },
      }).end();
      from += MAX_LINKS;
    } while (from < links.length);
  }

  /** True while a fresh assignment is still being re-read (bounded by the catch-up timeout). */
  get catchingUp(): boolean {
    return (this.awaitingAssignment || this.catchUp.size > 0) && Date.now() < this.catchUpDeadline;
  }

  /** Computes every stream's snapshot and writes them to `playback.stats` (one round; never overlaps). */
  async emit(nowMs = Date.now()): Promise<PlaybackStats[]> {
    if (this.emitting || this.catchingUp) return [];
    this.emitting = true;
    const stop = this.metrics.emitDuration.startTimer();
    try {
      const snapshots = this.aggregator.snapshotAll(nowMs);
      this.forgetPrunedStreams();
      this.metrics.observe(snapshots);
      if (snapshots.length === 0) return snapshots;
      const headers = injectTraceContext({ [Headers.schema]: PLAYBACK_STATS_SCHEMA_ID, [Headers.contentType]: 'application/json' });
      const messages = snapshots.map((stats) => ({ key: stats.stream_id, value: JSON.stringify(stats), headers }));
      // Batched by size: one send of every snapshot could exceed the topic's max.message.bytes.
      const { batches, oversized } = batchBySize(messages, this.config.sendMaxBytes);
      if (oversized.length > 0) {
        this.logger.error(
          { streams: oversized.map((message) => message.key), sendMaxBytes: this.config.sendMaxBytes },
          'playback stats snapshots larger than STATS_SEND_MAX_BYTES were not written',
        );
      }
      for (const batch of batches) {
        await this.producer.send(this.statsTopic, batch);
        this.metrics.snapshots.inc(batch.length);
      }
      return snapshots;
    } catch (error) {
      // The next round recomputes from the same state: a failed write loses nothing but freshness.
      this.logger.error({ error: String(error) }, 'could not write playback.stats: retrying on the next round');
      return [];
    } finally {
      stop();
      this.emitting = false;
    }
  }

  /** Streams the aggregator pruned (idle past the horizon) leave the per-partition sets too, so they stay bounded. */
  private forgetPrunedStreams(): void {
    for (const streams of this.streamsByPartition.values()) {
      for (const streamId of streams) if (!this.aggregator.has(streamId)) streams.delete(streamId);
    }
  }

  /** Stream ids tracked per partition (bounded by the streams the aggregator holds). */
  get trackedStreams(): number {
    let count = 0;
    for (const streams of this.streamsByPartition.values()) count += streams.size;
    return count;
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.runner?.stop();
  }
}
