import { HttpException, Inject, Injectable } from '@nestjs/common';
import { Headers, PLAYBACK_EVENT_SCHEMA_ID, type PlaybackEvent, playbackEventKey, Topics } from '@tributary/contracts';
import { injectTraceContext, KafkaProducer } from '@tributary/kafka';
import { TopicNames } from '@tributary/nest-kafka';
import { runUntraced, startSendSpan, viewerMetrics } from '@tributary/telemetry';
import type { Message } from 'kafkajs';
import { parseEventBatch } from './event-batch';
import { EventsUnavailableError } from './events.errors';
import { EVENTS_OPTIONS, type EventsOptions } from './events.options';
import { ProduceBatcher } from './produce-batcher';

/**
 * Kafka rejects a record batch larger than the topic's max.message.bytes (1 MiB for
 * playback.events); one request's messages for one partition form one batch, so larger requests
 * are written in several sends of at most this many bytes, in order.
 */
export const MAX_SEND_BYTES = 512 * 1024;

/** Validates playback events and writes them to `playback.events`, keyed by stream id. */
@Injectable()
export class EventsService {
  private readonly topic: string;
  private inFlightBytes = 0;
  private readonly batcher: ProduceBatcher;

  constructor(
    producer: KafkaProducer,
    topics: TopicNames,
    @Inject(EVENTS_OPTIONS) private readonly options: EventsOptions,
  ) {
    this.topic = topics.resolve(Topics.playbackEvents);
    // Each request's send span was made in its own context (startSendSpan, one per request): the
    // shared send itself must not make others or overwrite their traceparent headers (it skips
    // kafkajs instrumentation's per-message wrapper and runs with tracing suppressed).
    this.batcher = new ProduceBatcher((messages) => runUntraced(() => producer.send(this.topic, messages, { messageSpans: false })), {
      lingerMs: options.lingerMs,
      maxSendBytes: MAX_SEND_BYTES,
      maxInFlight: options.maxInFlightSends,
    });
  }

  /** The valid events of a parsed body, or the 400/413 that says what is wrong with it. */
  parse(body: unknown): PlaybackEvent[] {
    const result = parseEventBatch(body, this.options.maxBatch);
    if (result.ok) return result.events;
    const error = result.status === 413 ? 'Payload Too Large' : 'Bad Request';
    throw new HttpException({ statusCode: result.status, error, message: result.message, issues: result.issues }, result.status);
  }

  /**
   * Resolves once Kafka has acknowledged every event (acks=-1); throws EventsUnavailableError
   * otherwise. A failed or timed-out write may still have stored some events: the client
   * retries the whole batch and consumers de-duplicate on event_id.
   */
  async publish(events: readonly PlaybackEvent[]): Promise<number> {
    const chunks = toMessageChunks(events);
    const bytes = messageBytes(chunks);
    // Admission control: refuse at once rather than queue. One request alone is always admitted
    // (its size is bounded by EVENTS_MAX_BODY_BYTES).
    if (this.inFlightBytes > 0 && this.inFlightBytes + bytes > this.options.maxInFlightBytes) {
      viewerMetrics.eventsRefused().inc();
      throw new EventsUnavailableError(
        `too many events in flight to Kafka on this replica (${this.inFlightBytes} bytes, limit ${this.options.maxInFlightBytes}); retry later`,
      );
    }
    this.inFlightBytes += bytes;
    // Released when Kafka settles the sends, not when this request gives up waiting.
    const sending = this.send(chunks, bytes);
    const release = (): void => {
      this.inFlightBytes -= bytes;
    };
    sending.then(release, release);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () => reject(new EventsUnavailableError(`Kafka did not acknowledge the events within ${this.options.produceTimeoutMs} ms; retry later`)),
        this.options.produceTimeoutMs,
      );
    });
    try {
      await Promise.race([sending, timeout]);
    } catch (error) {
      if (error instanceof EventsUnavailableError) throw error;
      throw new EventsUnavailableError('events could not be written to Kafka; retry later', error);
    } finally {
      clearTimeout(timer);
    }
    return events.length;
  }

  /**
   * Queues the chunks (in order: one stream's events keep the order they had in the request) for
   * the batcher, which sends them with other requests' events; resolves when all are acknowledged.
   */
  private async send(chunks: Message[][], bytes: number): Promise<void> {
    const end = startSendSpan(this.topic, chunks.flat());
    const perChunk = bytes / chunks.length;
    try {
      await Promise.all(chunks.map((messages) => this.batcher.send(messages, perChunk)));
      end();
    } catch (error) {
      end(error);
      throw error;
    }
  }
}

/** Bytes the messages hold (keys and values). */
function messageBytes(chunks: Message[][]): number {
  let bytes = 0;
  for (const messages of chunks) {
    for (const message of messages) bytes += String(message.value ?? '').length + String(message.key ?? '').length;
  }
  return bytes;
}

/** Kafka messages for the events, grouped in sends of at most MAX_SEND_BYTES. */
export function toMessageChunks(events: readonly PlaybackEvent[], maxBytes = MAX_SEND_BYTES): Message[][] {
  const chunks: Message[][] = [];
  let current: Message[] = [];
  let bytes = 0;
  // One headers object for the request's messages (kafkajs only reads it): the request's trace
  // context; the send span (startSendSpan) then puts its own traceparent in it.
  const headers = injectTraceContext({
    [Headers.schema]: PLAYBACK_EVENT_SCHEMA_ID,
    [Headers.contentType]: 'application/json',
  });
  for (const event of events) {
    const value = JSON.stringify(event);
    const size = value.length + event.stream_id.length + 200;
    if (current.length > 0 && bytes + size > maxBytes) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push({ key: playbackEventKey(event), value, headers });
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
