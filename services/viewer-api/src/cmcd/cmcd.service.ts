import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown, type BeforeApplicationShutdown } from '@nestjs/common';
import { Headers, PLAYBACK_EVENT_SCHEMA_ID, parseCmcdRequest, type HeaderBag, playbackEventValidator, Topics, formatIssues } from '@tributary/contracts';
import { injectTraceContext, KafkaProducer } from '@tributary/kafka';
import { ROOT_LOGGER } from '@tributary/nest-common';
import { TopicNames } from '@tributary/nest-kafka';
import { registry, type Logger } from '@tributary/telemetry';
import { Counter, Gauge } from 'prom-client';
import { CmcdBatcher } from './cmcd-batcher';
import { cmcdToPlaybackEvent } from './cmcd-events';

export type CmcdOutcome = 'none' | 'event' | 'malformed' | 'no_session' | 'invalid' | 'dropped';

function metric<T>(name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}

/**
 * Turns the CMCD of playlist and segment requests into `source: "cmcd"` playback events on
 * `playback.events` (keyed by stream id), through a bounded batcher flushed every 200 ms: the
 * request never waits for Kafka, and malformed CMCD never fails a request (it is counted).
 */
@Injectable()
export class CmcdService implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger: Logger;
  private readonly topic: string;
  readonly batcher: CmcdBatcher;
  private readonly requests = metric(
    'tributary_cmcd_requests_total',
    () =>
      new Counter({
        name: 'tributary_cmcd_requests_total',
        help: 'HLS requests carrying CMCD, by outcome: event (queued), malformed (dropped), no_session (no sid), invalid (mapped event failed the schema), dropped (queue full).',
        labelNames: ['outcome'] as const,
        registers: [registry],
      }),
  );
  private readonly dropped = metric(
    'tributary_cmcd_events_dropped_total',
    () =>
      new Counter({
        name: 'tributary_cmcd_events_dropped_total',
        help: 'CMCD events not written to Kafka, by reason (queue_full, produce_failed).',
        labelNames: ['reason'] as const,
        registers: [registry],
      }),
  );
  private readonly produced = metric(
    'tributary_cmcd_events_produced_total',
    () => new Counter({ name: 'tributary_cmcd_events_produced_total', help: 'CMCD events acknowledged by Kafka.', registers: [registry] }),
  );

  private readonly queueLength = metric(
    'tributary_cmcd_queue_length',
    () => new Gauge({ name: 'tributary_cmcd_queue_length', help: 'CMCD events waiting for the next flush.', registers: [registry] }),
  );

  constructor(
    private readonly producer: KafkaProducer,
    topics: TopicNames,
    @Inject(ROOT_LOGGER) rootLogger: Logger,
  ) {
    this.logger = rootLogger.child({ component: 'cmcd' });
    this.topic = topics.resolve(Topics.playbackEvents);
    this.batcher = new CmcdBatcher({
      intervalMs: 200,
      maxQueued: 10_000,
      maxBatch: 1_000,
      send: (messages) => this.producer.send(this.topic, messages),
      onDropped: (reason, count) => {
        this.dropped.inc({ reason }, count);
        if (reason === 'produce_failed') this.logger.warn({ count }, 'CMCD events could not be written to Kafka: dropped');
      },
      onSent: (count) => this.produced.inc(count),
    });
  }

  onApplicationBootstrap(): void {
    this.batcher.start();
  }

  /**
   * Handles the CMCD of one request (query value and headers). Synchronous and never throws:
   * it only parses, validates and queues.
   */
  record(request: { streamId: string; query: string | string[] | undefined; headers: HeaderBag; userAgent?: string }): CmcdOutcome {
    const parsed = parseCmcdRequest(request.query, request.headers);
    if (parsed === undefined) return 'none';
    const outcome = this.toOutcome(parsed, request);
    this.requests.inc({ outcome });
    this.queueLength.set(this.batcher.queued);
    return outcome;
  }

  private toOutcome(parsed: NonNullable<ReturnType<typeof parseCmcdRequest>>, request: { streamId: string; userAgent?: string }): CmcdOutcome {
    if (!parsed.ok) {
      this.logger.debug({ error: parsed.error }, 'malformed CMCD: dropped');
      return 'malformed';
    }
    const event = cmcdToPlaybackEvent(parsed.data, { streamId: request.streamId, nowMs: Date.now(), userAgent: request.userAgent });
    if (!event) return 'no_session';
    const valid = playbackEventValidator.validate(event);
    if (!valid.ok) {
      this.logger.debug({ issues: formatIssues(valid.issues) }, 'CMCD values outside the event schema: dropped');
      return 'invalid';
    }
    const headers = injectTraceContext({ [Headers.schema]: PLAYBACK_EVENT_SCHEMA_ID, [Headers.contentType]: 'application/json' });
    const queued = this.batcher.push({ key: event.stream_id, value: JSON.stringify(event), headers });
    return queued ? 'event' : 'dropped';
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.batcher.stop();
  }

  async onApplicationShutdown(): Promise<void> {
    // Requests answered while the HTTP server drained may have queued more.
    await this.batcher.flush();
  }
}
