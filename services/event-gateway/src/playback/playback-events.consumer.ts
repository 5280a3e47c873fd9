import { type BeforeApplicationShutdown, Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { Topics } from '@tributary/contracts';
import { DeadLetterPublisher, KafkaConsumerRunner } from '@tributary/kafka';
import { ReadinessRegistry, ROOT_LOGGER } from '@tributary/nest-common';
import { KAFKA_CLIENT, TopicNames } from '@tributary/nest-kafka';
import { fanoutDelayMetrics, gatewayMetrics, type Logger, telemetryState } from '@tributary/telemetry';
import type { EachBatchPayload, Kafka } from 'kafkajs';
import { DeliveredOffsets } from './delivered-offsets';
import { readPlaybackValue } from './playback-message';
import { type OutgoingEvent, PlaybackGateway } from './playback.gateway';
import { PLAYBACK_CONSUMER_GROUP } from './playback.tokens';
import { messageJson } from './room-fanout';
import { TraceHeaderReader } from './trace-headers';

/**
 * Consumes `playback.events` (this replica's own group, from latest) and hands the valid events
 * to the Socket.IO gateway in consume order. An invalid message goes to `playback.events.dlq`
 * with the reason, and the partition moves on. Messages re-read after a rebalance are not
 * emitted again (DeliveredOffsets).
 *
 * Why `eachBatch` through libs/kafka and not the Nest Kafka transport (`@EventPattern`): the fan-out
 * is the one path whose cost is paid per event × client, and the Nest transport costs per message
 * what this path should cost per batch — a deserialise into objects, a handler invocation through
 * Nest's router and an OpenTelemetry `process` span per message. Here a whole fetched batch is
 * read in one loop, each value is parsed once to validate it and its bytes are kept as the socket
 * payload (never re-serialised), and the gateway coalesces what arrives within a few ms into one
 * packet per room. Tracing keeps one trace per event with links (see docs/observability.md).
 */
@Injectable()
export class PlaybackEventsConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger: Logger;
  private readonly delivered = new DeliveredOffsets();
  private readonly runner: KafkaConsumerRunner;
  private readonly topic: string;

  constructor(
    private readonly gateway: PlaybackGateway,
    private readonly deadLetters: DeadLetterPublisher,
    @Inject(PLAYBACK_CONSUMER_GROUP) private readonly groupId: string,
    @Inject(KAFKA_CLIENT) kafka: Kafka,
    topics: TopicNames,
    readiness: ReadinessRegistry,
    @Inject(ROOT_LOGGER) rootLogger: Logger,
  ) {
    this.logger = rootLogger.child({ component: 'playback.consumer' });
    this.topic = topics.resolve(Topics.playbackEvents);
    this.runner = new KafkaConsumerRunner(kafka, {
      groupId,
      topics: [this.topic],
      // A live view has no use for history: a new group starts at the end.
      fromBeginning: false,
      eachBatch: (payload) => this.onBatch(payload),
      // The `emit playback.events` span of each flush links to the events' producer spans; a
      // kafkajs `process` span per message on top cost ~15 % of the gateway's CPU per delivery.
      messageSpans: false,
      logger: this.logger,
    });
    readiness.register('playback-consumer-joined', () => this.runner.isJoined);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.runner.start();
    this.logger.info({ groupId: this.groupId }, 'playback consumer joined');
  }

  /** Leaves the group (the batch in hand finishes), then the gateway flushes what it holds. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.runner.stop();
    this.gateway.flush();
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const { partition } = batch;
    const tracing = telemetryState()?.enabled === true;
    const out: OutgoingEvent[] = [];
    const trace = new TraceHeaderReader();
    for (const message of batch.messages) {
      if (!payload.isRunning() || payload.isStale()) break;
      // A re-read after a rebalance: these clients already have it (exactly once per process).
      if (!this.delivered.firstDelivery(partition, message.offset)) {
        gatewayMetrics.dropped().inc({ reason: 'redelivered' });
        payload.resolveOffset(message.offset);
        continue;
      }
      const read = readPlaybackValue(message.value, message.headers);
      if (read.ok) {
        const position = { partition, offset: message.offset };
        trace.read(message.headers, tracing);
        const { traceId } = trace;
        out.push({
          message: { event: read.event, position, ...(traceId ? { trace_id: traceId } : {}) },
          json: messageJson(read.json, position, traceId),
          link: trace.link,
          producedAt: Number(message.timestamp),
        });
        payload.resolveOffset(message.offset);
        continue;
      }
      // Invalid: what came before it goes out first, in order; then the dead letter.
      this.emit(out.splice(0));
      gatewayMetrics.dropped().inc({ reason: 'invalid' });
      this.logger.warn({ topic: batch.topic, partition, offset: message.offset, reason: read.reason }, 'invalid playback event: sent to the dead-letter topic');
      // Throws when the dead-letter write fails: kafkajs then re-reads from this message rather than lose it.
      await this.deadLetters.publish({ topic: batch.topic, partition, groupId: this.groupId, message }, read.reason);
      payload.resolveOffset(message.offset);
      await payload.heartbeat();
    }
    if (out.length > 0 && out[0].producedAt !== undefined) fanoutDelayMetrics.delay().observe({ stage: 'consumed' }, (Date.now() - out[0].producedAt) / 1000);
    this.emit(out);
  }

  private emit(items: OutgoingEvent[]): void {
    if (items.length === 0) return;
    try {
      this.gateway.broadcast(items);
    } catch (error) {
      // The live view is best effort: a failed emit must never stall the partition.
      gatewayMetrics.dropped().inc({ reason: 'emit_failed' }, items.length);
      this.logger.error({ err: error, events: items.length }, 'emitting playback events failed; skipped them');
    }
  }
}
