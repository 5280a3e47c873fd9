import type { KafkaMessage } from 'kafkajs';
import { parseVideoSegment, type SegmentKind } from '@tributary/contracts';

/** The metadata of one `video.segments` message (headers only; the value is the bytes). */
export interface SegmentMeta {
  streamId: string;
  rendition: string;
  kind: SegmentKind;
  /** Media sequence (init segments: the sequence of the media segment they precede, or 0). */
  sequence: number;
  durationSeconds: number;
  /** Low-latency HLS parts only (kind `part`): index within segment `sequence`, sync-sample start. */
  part: { index: number; independent: boolean } | null;
  programTime: string | null;
  discontinuity: boolean;
  transcodeSession: string | null;
  contentType: string;
  partition: number;
  offset: string;
  /** Kafka timestamp (ms). */
  timestampMs: number;
  /** W3C traceparent of the transcoder span that published the segment (serving spans link to it). */
  traceparent: string | null;
}

/**
 * Reads and validates a segment's headers (the contract's parseVideoSegment) and where it sits in
 * Kafka. Throws with a reason for the dead-letter topic when the message does not follow the
 * video contract.
 */
export function parseSegmentMeta(message: KafkaMessage, partition: number): SegmentMeta {
  const { publishSessionId: _publishSessionId, ...segment } = parseVideoSegment(message.key, message.headers, message.value);
  return { ...segment, partition, offset: message.offset, timestampMs: Number(message.timestamp) };
}

/** fMP4 media segments are served as .m4s, MPEG-TS as .ts. */
export function segmentExtension(meta: Pick<SegmentMeta, 'kind' | 'contentType'>): 'ts' | 'm4s' | 'mp4' {
  if (meta.kind === 'init') return 'mp4';
  return meta.contentType === 'video/mp2t' ? 'ts' : 'm4s';
}
