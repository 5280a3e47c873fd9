import type { IHeaders, KafkaMessage } from 'kafkajs';
import { isStreamId, type SegmentKind, VideoHeaders } from '@tributary/contracts';
import { RENDITION_REGEX } from '../streams/stream-id';

/** The metadata of one `video.segments` message (headers only; the value is the bytes). */
export interface SegmentMeta {
  streamId: string;
  rendition: string;
  kind: SegmentKind;
  /** Media sequence (init segments: the sequence of the media segment they precede, or 0). */
  sequence: number;
  durationSeconds: number;
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

function header(headers: IHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  if (value === undefined || value === null) return undefined;
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}

/**
 * Reads and validates a segment's headers. Throws with a reason for the dead-letter topic when
 * the message does not follow the video contract.
 */
export function parseSegmentMeta(message: KafkaMessage, partition: number): SegmentMeta {
  const streamId = message.key?.toString() ?? '';
  if (!isStreamId(streamId)) throw new Error('key is not a valid stream id');
  const rendition = header(message.headers, VideoHeaders.rendition) ?? '';
  if (!RENDITION_REGEX.test(rendition)) throw new Error(`header ${VideoHeaders.rendition} is missing or invalid`);
  const kind = (header(message.headers, VideoHeaders.segmentKind) ?? 'media') as SegmentKind;
  if (kind !== 'media' && kind !== 'init') throw new Error(`header ${VideoHeaders.segmentKind} must be media or init`);
  const rawSequence = header(message.headers, VideoHeaders.mediaSequence) ?? (kind === 'init' ? '0' : '');
  if (!/^\d{1,15}$/.test(rawSequence)) throw new Error(`header ${VideoHeaders.mediaSequence} must be a non-negative integer`);
  const rawDuration = header(message.headers, VideoHeaders.durationSeconds) ?? (kind === 'init' ? '0' : '');
  const duration = Number(rawDuration);
  if (rawDuration === '' || !Number.isFinite(duration) || duration < 0 || duration > 120) {
    throw new Error(`header ${VideoHeaders.durationSeconds} must be a duration in seconds`);
  }
  if (kind === 'media' && duration <= 0) throw new Error(`header ${VideoHeaders.durationSeconds} must be > 0 for media segments`);
  const programTime = header(message.headers, VideoHeaders.programTime) ?? null;
  if (programTime !== null && Number.isNaN(Date.parse(programTime))) throw new Error(`header ${VideoHeaders.programTime} is not a date`);
  const contentType =
    header(message.headers, VideoHeaders.contentType) ?? (kind === 'init' ? 'video/mp4' : 'video/mp2t');
  if (!['video/mp2t', 'video/mp4', 'video/iso.segment'].includes(contentType)) {
    throw new Error(`header ${VideoHeaders.contentType} must be video/mp2t or video/mp4`);
  }
  if (message.value === null || message.value.length === 0) throw new Error('segment value is empty');
  return {
    streamId,
    rendition,
    kind,
    sequence: Number(rawSequence),
    durationSeconds: duration,
    programTime: programTime === null ? null : new Date(programTime).toISOString(),
    discontinuity: header(message.headers, VideoHeaders.discontinuity) === '1',
    transcodeSession: header(message.headers, VideoHeaders.transcodeSession) ?? null,
    contentType,
    partition,
    offset: message.offset,
    timestampMs: Number(message.timestamp),
    traceparent: header(message.headers, 'traceparent') ?? null,
  };
}

/** fMP4 media segments are served as .m4s, MPEG-TS as .ts. */
export function segmentExtension(meta: Pick<SegmentMeta, 'kind' | 'contentType'>): 'ts' | 'm4s' | 'mp4' {
  if (meta.kind === 'init') return 'mp4';
  return meta.contentType === 'video/mp2t' ? 'ts' : 'm4s';
}
