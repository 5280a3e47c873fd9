import type { Readable } from 'node:stream';
import { VideoHeaders } from '@tributary/contracts';
import { injectTraceContext, type KafkaProducer } from '@tributary/kafka';
import { firstMisalignedPacket, TsChunker } from '@tributary/media';
import {
  type Logger,
  linkToActiveSpan,
  recordSpanError,
  ROOT_CONTEXT,
  runInSpan,
  SpanKind,
  startLinkedSpan,
  streamMetrics,
} from '@tributary/telemetry';

export interface PublishSessionOptions {
  streamId: string;
  sessionId: string;
  /** The physical video.ingest topic. */
  topic: string;
  producer: KafkaProducer;
  chunkBytes: number;
  chunkMaxMs: number;
  maxInFlight: number;
  /** No bytes for this long (while not paused by backpressure) ends the publish as `idle`. */
  idleTimeoutMs: number;
  /** Cap on the body's bitrate, averaged over `bitrateWindowMs`; 0 = no cap. */
  maxBitrateKbps: number;
  bitrateWindowMs: number;
  logger: Logger;
}

/**
 * What a publish reads its MPEG-TS from: an HTTP request body (`complete` tells a finished body
 * from a broken one), or the output of the RTMP path's remuxer (ended = finished).
 */
export type PublishSource = Readable & { readonly complete?: boolean };

export interface PublishSummary {
  chunks: number;
  bytes: number;
  /**
   * How the body ended: the publisher finished, the connection broke / was cut, the publisher
   * went silent (idle timeout), sent faster than the bitrate cap, or sent bytes that are not
   * MPEG-TS (a packet without the 0x47 sync byte: nothing of it reaches video.ingest).
   */
  outcome: 'completed' | 'aborted' | 'idle' | 'bitrate-exceeded' | 'not-mpegts';
  /** Why ingest ended it (idle, bitrate), for the publisher's answer, the log and stream.status. */
  reason?: string;
  droppedRemainderBytes: number;
  nonTsPackets: number;
  error?: string;
}


/**
 * One publisher connection: reads the request body, cuts it into whole-packet chunks (size or
 * age bound, whichever comes first) and produces them in order to `video.ingest`, keyed by
 * stream id. While more than `maxInFlight` sends are unacknowledged the request is paused, so
 * memory per publisher is bounded by roughly (maxInFlight + 1) × chunkBytes.
 */
export class PublishSession {
  private readonly chunker: TsChunker;
  private sequence = 0;
  private bytes = 0;
  private inFlight = 0;
  private oldestPendingAt?: number;
  private failure?: Error;
  private readonly sends = new Set<Promise<void>>();
  /** Bytes of the chunks sent so far (where the next chunk starts in the body's packets). */
  private sequenceBytes = 0;
  private lastDataAt = Date.now();
  private windowStartedAt = Date.now();
  private windowBytes = 0;
  private stop?: (outcome: PublishSummary['outcome'], reason: string) => void;
  private stopReason?: string;

  constructor(private readonly options: PublishSessionOptions) {
    this.chunker = new TsChunker({ targetBytes: options.chunkBytes });
  }

  /** Pumps the request body to Kafka; resolves when the body ended or broke and every send settled. */
  async run(request: PublishSource): Promise<PublishSummary> {
    const timer = setInterval(() => {
      this.cutIfOld(request);
      this.endIfIdle(request);
    }, Math.max(10, Math.min(1_000, Math.floor(Math.min(this.options.chunkMaxMs, this.options.idleTimeoutMs) / 2))));
    let outcome: PublishSummary['outcome'] = 'aborted';
    streamMetrics.active().inc();
    try {
      outcome = await new Promise<PublishSummary['outcome']>((resolve) => {
        this.stop = (stopped, reason) => {
          if (this.stopReason !== undefined) return;
          this.stopReason = reason;
          // Nothing more is read; the caller answers (when it still can) and closes the connection.
          request.pause();
          resolve(stopped);
        };
        request.on('data', (data: Buffer) => {
          if (this.failure || this.stopReason !== undefined) return;
          if (this.oldestPendingAt === undefined) this.oldestPendingAt = Date.now();
          this.lastDataAt = Date.now();
          this.bytes += data.length;
          if (this.overBitrate(data.length)) return;
          for (const chunk of this.chunker.push(data)) this.send(chunk, request);
        });
        request.once('end', () => resolve('completed'));
        request.once('close', () => resolve((request.complete ?? request.readableEnded) ? 'completed' : 'aborted'));
        request.once('error', () => resolve('aborted'));
      });
    } finally {
      clearInterval(timer);
      streamMetrics.active().dec();
    }
    const last = this.chunker.drain();
    if (last && !this.failure) this.send(last, request);
    while (this.sends.size > 0) await Promise.allSettled([...this.sends]);
    return {
      chunks: this.sequence,
      bytes: this.bytes,
      outcome,
      droppedRemainderBytes: this.chunker.remainderBytes,
      nonTsPackets: this.chunker.misalignedPackets,
      ...(this.failure ? { error: this.failure.message } : {}),
      ...(this.stopReason !== undefined ? { reason: this.stopReason } : {}),
    };
  }

  private endIfIdle(request: PublishSource): void {
    // Paused by backpressure (Kafka slow), the publisher cannot send: that is not idleness.
    if (request.isPaused()) this.lastDataAt = Date.now();
    const silentMs = Date.now() - this.lastDataAt;
    if (silentMs < this.options.idleTimeoutMs) return;
    this.stop?.('idle', `the publisher sent no data for ${Math.round(silentMs / 1000)} s (idle timeout ${this.options.idleTimeoutMs} ms)`);
  }

  /** Tumbling windows of `bitrateWindowMs`; true (and the session stopped) once a window's bytes exceed the cap. */
  private overBitrate(bytes: number): boolean {
    if (this.options.maxBitrateKbps <= 0) return false;
    const now = Date.now();
    if (now - this.windowStartedAt >= this.options.bitrateWindowMs) {
      this.windowStartedAt = now;
      this.windowBytes = 0;
    }
    this.windowBytes += bytes;
    const budget = (this.options.maxBitrateKbps * 1000 * this.options.bitrateWindowMs) / 1000 / 8;
    if (this.windowBytes <= budget) return false;
    const elapsedMs = Math.max(now - this.windowStartedAt, 1);
    const kbps = Math.round((this.windowBytes * 8) / elapsedMs);
    this.stop?.(
      'bitrate-exceeded',
      `the publisher exceeded the ingest bitrate cap of ${this.options.maxBitrateKbps} kbps (${this.windowBytes} bytes in ${elapsedMs} ms ≈ ${kbps} kbps)`,
    );
    return true;
  }

  private cutIfOld(request: PublishSource): void {
    if (this.oldestPendingAt === undefined || this.failure) return;
    if (Date.now() - this.oldestPendingAt < this.options.chunkMaxMs) return;
    const chunk = this.chunker.drain();
    if (chunk) this.send(chunk, request);
  }

  private send(chunk: Buffer, request: PublishSource): void {
    this.oldestPendingAt = this.chunker.pendingBytes > 0 ? Date.now() : undefined;
    // video.ingest carries whole MPEG-TS packets only (its contract; consumers audit it): a chunk
    // with a packet that lacks the sync byte ends the publish and is not written. Over HTTP (TCP)
    // a real encoder's stream never loses alignment, so this is a body that is not MPEG-TS.
    const misaligned = firstMisalignedPacket(chunk);
    if (misaligned !== undefined) {
      this.stop?.(
        'not-mpegts',
        `the body is not MPEG-TS: the packet at byte ${this.sequenceBytes + misaligned} does not start with the 0x47 sync byte`,
      );
      this.failure ??= new Error('the body is not MPEG-TS');
      return;
    }
    this.sequenceBytes += chunk.length;
    const sequence = this.sequence++;
    streamMetrics.ingestedBytes().inc({ kind: 'video' }, chunk.length);
    // One short trace per chunk (a publish request lasts for hours: one trace for all of it would
    // never end), linked to the publish request's span. Its `send video.ingest` child puts the
    // chunk's traceparent in the Kafka headers; the transcoder's segment span links back to it.
    const span = startLinkedSpan('ingest chunk', [linkToActiveSpan()], {
      parent: ROOT_CONTEXT,
      kind: SpanKind.PRODUCER,
      attributes: {
        'tributary.stream_id': this.options.streamId,
        'tributary.publish_session': this.options.sessionId,
        'tributary.chunk.sequence': sequence,
        'tributary.chunk.bytes': chunk.length,
      },
    });
    const headers = runInSpan(span, () => injectTraceContext({
      [VideoHeaders.publishSession]: this.options.sessionId,
      [VideoHeaders.chunkSequence]: String(sequence),
      [VideoHeaders.ingestTimeMs]: String(Date.now()),
      [VideoHeaders.contentType]: 'video/mp2t',
    }));
    this.inFlight += 1;
    if (this.inFlight >= this.options.maxInFlight) request.pause();
    const sent = runInSpan(span, () => this.options.producer.send(this.options.topic, [{ key: this.options.streamId, value: chunk, headers }]))
      .then(
        () => undefined,
        (error: unknown) => {
          // A chunk Kafka refused: stop this publish (a gap would corrupt the stream) and cut the connection.
          this.failure ??= error instanceof Error ? error : new Error(String(error));
          recordSpanError(span, error);
          this.options.logger.error(
            { err: error, streamId: this.options.streamId, sequence },
            'could not write a video chunk to Kafka; disconnecting the publisher',
          );
          request.destroy();
        },
      )
      .finally(() => {
        span.end();
        this.inFlight -= 1;
        this.sends.delete(sent);
        if (this.inFlight < this.options.maxInFlight && !this.failure && this.stopReason === undefined && request.isPaused()) request.resume();
      });
    this.sends.add(sent);
  }
}
