import { type Logger, ROOT_CONTEXT, SegmentLinkTracker, SpanKind, traceHeaders, transcodeMetrics, withSpan } from '@tributary/telemetry';
import type { PipelineSink } from '../transcode/pipeline-sink';
import type { PartClock } from './part-clock';
import type { RenditionOutput } from './low-latency-run';
import type { PartNumbering, PartPlace } from './part-numbering';

export interface PartPublisherOptions {
  streamId: string;
  publishSessionId: string;
  sink: PipelineSink;
  numbering: PartNumbering;
  logger: Logger;
  /** Clock of RenditionOutput.writtenAt (ms; performance.now by default). */
  now?: () => number;
}

/** What one publication did (for the pipeline's bookkeeping). */
export interface PublishedOutput {
  delivered: boolean;
  place?: PartPlace;
  /** ms from ffmpeg writing the last byte to Kafka acknowledging the record. */
  produceDelayMs: number;
}

/**
 * Publishes a low-latency stream's init segments and parts to video.segments through the
 * pipeline's sink (the service's fenced, transactional segment output), numbered by PartNumbering,
 * inside a `transcode part` span linked to the input chunks written since the rendition's
 * previous output (→ `part published` → kafkajs `send`, whose traceparent the record carries).
 */
export class PartPublisher {
  private readonly chunkLinks = new SegmentLinkTracker();
  /** The newest chunk's trace context (for output made when no span is active). */
  lastTraceparent?: string;
  private readonly now: () => number;

  constructor(private readonly options: PartPublisherOptions) {
    this.now = options.now ?? (() => performance.now());
  }

  /** A chunk went to ffmpeg: the next output of each rendition links to its span. */
  chunkWritten(traceparent: string | undefined): void {
    this.chunkLinks.chunkWritten(traceparent ? { traceparent } : undefined);
  }

  /**
   * Publishes `output` of run `run`, dated by the run's PartClock; a part that cannot start a
   * segment is dropped (logged).
   */
  async publish(run: { session: string; clock: PartClock }, output: RenditionOutput): Promise<PublishedOutput> {
    const { numbering, streamId } = this.options;
    let place: PartPlace | undefined;
    if (output.kind === 'fragment') {
      place = numbering.place(output.rendition, output.durationSeconds, output.independent);
      if (!place) {
        this.options.logger.warn({ rendition: output.rendition, startSeconds: output.startSeconds }, 'part before the first keyframe dropped (no segment can start with it)');
        return { delivered: false, produceDelayMs: 0 };
      }
    }
    const sequence = place ? place.sequence : numbering.nextSequence(output.rendition);
    const discontinuity = place ? place.discontinuity : numbering.nextDiscontinuity(output.rendition);
    const durationSeconds = output.kind === 'fragment' ? output.durationSeconds : 0;
    const chunks = this.chunkLinks.segmentDone(output.rendition);
    const attributes = {
      'tributary.stream_id': streamId,
      'tributary.rendition': output.rendition,
      'tributary.segment.sequence': sequence,
      'tributary.segment.kind': output.kind === 'fragment' ? 'part' : 'init',
      ...(place ? { 'tributary.part.index': place.index, 'tributary.part.independent': output.kind === 'fragment' && output.independent } : {}),
    };
    const delivered = await withSpan('transcode part', { parent: ROOT_CONTEXT, links: chunks.links, attributes }, () =>
      withSpan('part published', { kind: SpanKind.PRODUCER, attributes: { 'tributary.rendition': output.rendition } }, () => {
        const traceparent = traceHeaders().traceparent ?? this.lastTraceparent;
        return this.options.sink.segment({
          streamId,
          publishSessionId: this.options.publishSessionId,
          rendition: output.rendition,
          sequence,
          durationSeconds,
          // The wall clock of the part's first frame, by media time (see PartClock).
          programTime: new Date(output.kind === 'fragment' ? run.clock.programTimeMs(output.startSeconds, durationSeconds) : Date.now()).toISOString(),
          discontinuity,
          transcodeSession: run.session,
          ...(traceparent ? { traceparent } : {}),
          data: output.data,
          kind: output.kind === 'fragment' ? 'part' : 'init',
          ...(place && output.kind === 'fragment' ? { part: { index: place.index, independent: output.independent } } : {}),
        });
      }),
    );
    const produceDelayMs = this.now() - output.writtenAt;
    if (!delivered) return { delivered, ...(place ? { place } : {}), produceDelayMs };
    if (place) numbering.published(output.rendition, place);
    transcodeMetrics.partProduceDelay().observe({ kind: output.kind === 'fragment' ? 'part' : 'init' }, produceDelayMs / 1000);
    if (output.kind === 'fragment') transcodeMetrics.partDuration().observe(output.durationSeconds);
    return { delivered, ...(place ? { place } : {}), produceDelayMs };
  }
}
