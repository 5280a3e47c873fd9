import { type Link, ROOT_CONTEXT, SpanKind } from '@opentelemetry/api';
import { transcodeMetrics } from './metrics';
import { type HeaderCarrier, linkFromHeaders, withSpan } from './spans';

/**
 * Tracing across ffmpeg, where one input does not map to one output: many `video.ingest` chunks
 * go into ffmpeg's stdin, and each rendition's segments come out later. A segment's span cannot
 * have a single parent, so it *links* to the `ingest chunk` spans of the chunks written since the
 * previous segment of the same rendition (OpenTelemetry's model for batch/fan-in).
 *
 * Use in the transcoder, one tracker per ffmpeg process:
 * ```ts
 * const links = new SegmentLinkTracker();
 * // for each video.ingest message written to ffmpeg's stdin:
 * links.chunkWritten(message.headers);
 * // when rendition `r` has a finished segment:
 * await publishSegmentTraced(
 *   { streamId, rendition: r, sequence, durationSeconds, chunks: links.segmentDone(r) },
 *   () => producer.send(segmentsTopic, [{ key: streamId, value: bytes, headers }]),
 * );
 * ```
 */
export class SegmentLinkTracker {
  private readonly chunks: { index: number; link: Link | undefined; writtenAt: number }[] = [];
  private nextIndex = 0;
  /** Per rendition: index of the first chunk not yet attributed to one of its segments. */
  private readonly cursors = new Map<string, number>();

  constructor(private readonly maxLinks = 128) {}

  /** Records a chunk written to ffmpeg (its headers carry the `ingest chunk` trace context). */
  chunkWritten(headers: HeaderCarrier | undefined, writtenAt = Date.now()): void {
    // Kept without a link too (tracing off): the encode-time metric still needs writtenAt.
    this.chunks.push({ index: this.nextIndex++, link: linkFromHeaders(headers), writtenAt });
    // Bounded, not trimmed per rendition: a rendition that has not produced yet still needs the
    // chunks since the start, and one that never produces (or a stalled ffmpeg) cannot grow this.
    const keep = this.maxLinks * 8;
    if (this.chunks.length > keep) this.chunks.splice(0, this.chunks.length - keep);
  }

  /**
   * The chunks that fed `rendition`'s segment that just finished: those written since its
   * previous segment (at most `maxLinks`, the most recent), and when the first of them was written.
   */
  segmentDone(rendition: string): { links: Link[]; firstWrittenAt: number | undefined } {
    const from = this.cursors.get(rendition) ?? 0;
    this.cursors.set(rendition, this.nextIndex);
    const fed = this.chunks.filter((chunk) => chunk.index >= from);
    const links = fed.map((chunk) => chunk.link).filter((link): link is Link => link !== undefined);
    return { links: links.slice(-this.maxLinks), firstWrittenAt: fed[0]?.writtenAt };
  }
}

export interface SegmentTraceInfo {
  streamId: string;
  rendition: string;
  sequence: number;
  /** Media duration of the segment (seconds). */
  durationSeconds: number;
  /** From SegmentLinkTracker.segmentDone(). */
  chunks: { links: Link[]; firstWrittenAt: number | undefined };
  /** Override the encode time (seconds); default now − first chunk written. */
  encodeSeconds?: number;
}

/**
 * Publishes one segment inside `transcode segment` (a new trace, linked to its input chunks) →
 * `segment published` → kafkajs' `send video.segments`, whose traceparent goes into the segment's
 * Kafka headers (viewer-api's `segment served` spans link to it). Also records the transcoder
 * metrics: segments produced, encode time, speed (× real time).
 */
export async function publishSegmentTraced<T>(info: SegmentTraceInfo, publish: () => Promise<T>): Promise<T> {
  const encodeSeconds =
    info.encodeSeconds ?? (info.chunks.firstWrittenAt !== undefined ? (Date.now() - info.chunks.firstWrittenAt) / 1000 : undefined);
  const attributes = {
    'tributary.stream_id': info.streamId,
    'tributary.rendition': info.rendition,
    'tributary.segment.sequence': info.sequence,
    'tributary.segment.duration_s': info.durationSeconds,
    'tributary.segment.chunks': info.chunks.links.length,
    ...(encodeSeconds !== undefined ? { 'tributary.segment.encode_s': encodeSeconds } : {}),
  };
  const result = await withSpan('transcode segment', { parent: ROOT_CONTEXT, links: info.chunks.links, attributes }, () =>
    withSpan('segment published', { kind: SpanKind.PRODUCER, attributes: { 'tributary.rendition': info.rendition } }, publish),
  );
  transcodeMetrics.segments().inc({ rendition: info.rendition });
  if (encodeSeconds !== undefined && encodeSeconds > 0) {
    transcodeMetrics.encodeSeconds().observe({ rendition: info.rendition }, encodeSeconds);
    transcodeMetrics.speed().set({ rendition: info.rendition }, info.durationSeconds / encodeSeconds);
  }
  return result;
}
