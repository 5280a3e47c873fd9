import { isStreamId } from '../ids';
import { type SegmentKind, VideoHeaders } from './video';

/** Rendition names (`720p`, `360p`, `audio_en`…): a path segment in playlist URLs. */
export const RENDITION_NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/;

const SEGMENT_CONTENT_TYPES = ['video/mp2t', 'video/mp4', 'video/iso.segment'] as const;

/** The metadata of one `video.segments` message, carried in its headers (the value is the bytes). */
export interface VideoSegmentHeaders {
  rendition: string;
  kind: SegmentKind;
  /** HLS media sequence within the rendition (init segments: the media segment they precede, or 0; parts: the segment they belong to). */
  sequence: number;
  /** Duration of the segment, or of the part for kind `part`. */
  durationSeconds: number;
  /**
   * Low-latency HLS (kind `part` only, else null): the part's index within segment `sequence` and
   * whether it starts with a sync sample. A segment is the concatenation of its parts in index order,
   * after the rendition's init segment; it is complete when a part of a later segment (or the
   * stream's end) arrives — no separate whole-segment record is written.
   */
  part: { index: number; independent: boolean } | null;
  /** ISO-8601 time of the first frame, or null. */
  programTime: string | null;
  discontinuity: boolean;
  transcodeSession: string | null;
  publishSessionId: string | null;
  contentType: string;
  /** W3C traceparent of the span that published the segment, or null. */
  traceparent: string | null;
}

/** Kafka headers as any client hands them over (kafkajs IHeaders is one). */
export type RawHeaders = Readonly<Record<string, Buffer | string | (Buffer | string)[] | undefined | null>>;

function header(headers: RawHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  if (value === undefined || value === null) return undefined;
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}

/** The headers of a `video.segments` message (without traceparent when it is null: the producer injects one). */
export function buildVideoSegmentHeaders(segment: VideoSegmentHeaders): Record<string, string> {
  const headers: Record<string, string> = {
    [VideoHeaders.rendition]: segment.rendition,
    [VideoHeaders.segmentKind]: segment.kind,
    [VideoHeaders.mediaSequence]: String(segment.sequence),
    [VideoHeaders.durationSeconds]: segment.durationSeconds.toFixed(3),
    [VideoHeaders.discontinuity]: segment.discontinuity ? '1' : '0',
    [VideoHeaders.contentType]: segment.contentType,
  };
  if (segment.part !== null) {
    headers[VideoHeaders.partIndex] = String(segment.part.index);
    headers[VideoHeaders.partIndependent] = segment.part.independent ? '1' : '0';
  }
  if (segment.programTime !== null) headers[VideoHeaders.programTime] = segment.programTime;
  if (segment.transcodeSession !== null) headers[VideoHeaders.transcodeSession] = segment.transcodeSession;
  if (segment.publishSessionId !== null) headers[VideoHeaders.publishSession] = segment.publishSessionId;
  if (segment.traceparent !== null) headers.traceparent = segment.traceparent;
  return headers;
}

/**
 * Reads and validates a `video.segments` message (key, headers, value). Throws with a reason for
 * the dead-letter topic when it does not follow the video contract.
 */
export function parseVideoSegment(
  key: Buffer | string | null | undefined,
  headers: RawHeaders | undefined,
  value: Buffer | null | undefined,
): { streamId: string } & VideoSegmentHeaders {
  const streamId = key?.toString() ?? '';
  if (!isStreamId(streamId)) throw new Error('key is not a valid stream id');
  const rendition = header(headers, VideoHeaders.rendition) ?? '';
  if (!RENDITION_NAME.test(rendition)) throw new Error(`header ${VideoHeaders.rendition} is missing or invalid`);
  const kind = (header(headers, VideoHeaders.segmentKind) ?? 'media') as SegmentKind;
  if (kind !== 'media' && kind !== 'init' && kind !== 'part') throw new Error(`header ${VideoHeaders.segmentKind} must be media, init or part`);
  const rawSequence = header(headers, VideoHeaders.mediaSequence) ?? (kind === 'init' ? '0' : '');
  if (!/^\d{1,15}$/.test(rawSequence)) throw new Error(`header ${VideoHeaders.mediaSequence} must be a non-negative integer`);
  const rawDuration = header(headers, VideoHeaders.durationSeconds) ?? (kind === 'init' ? '0' : '');
  const duration = Number(rawDuration);
  if (rawDuration === '' || !Number.isFinite(duration) || duration < 0 || duration > 120) {
    throw new Error(`header ${VideoHeaders.durationSeconds} must be a duration in seconds`);
  }
  if (kind !== 'init' && duration <= 0) throw new Error(`header ${VideoHeaders.durationSeconds} must be > 0 for media segments and parts`);
  let part: VideoSegmentHeaders['part'] = null;
  if (kind === 'part') {
    const rawIndex = header(headers, VideoHeaders.partIndex) ?? '';
    if (!/^\d{1,6}$/.test(rawIndex)) throw new Error(`header ${VideoHeaders.partIndex} must be a non-negative integer for parts`);
    const independent = header(headers, VideoHeaders.partIndependent) ?? '';
    if (independent !== '0' && independent !== '1') throw new Error(`header ${VideoHeaders.partIndependent} must be 0 or 1 for parts`);
    part = { index: Number(rawIndex), independent: independent === '1' };
  }
  const programTime = header(headers, VideoHeaders.programTime) ?? null;
  if (programTime !== null && Number.isNaN(Date.parse(programTime))) throw new Error(`header ${VideoHeaders.programTime} is not a date`);
  const contentType = header(headers, VideoHeaders.contentType) ?? (kind === 'media' ? 'video/mp2t' : 'video/mp4');
  if (!(SEGMENT_CONTENT_TYPES as readonly string[]).includes(contentType)) {
    throw new Error(`header ${VideoHeaders.contentType} must be video/mp2t or video/mp4`);
  }
  if (!value || value.length === 0) throw new Error('segment value is empty');
  return {
    streamId,
    rendition,
    kind,
    sequence: Number(rawSequence),
    durationSeconds: duration,
    programTime: programTime === null ? null : new Date(programTime).toISOString(),
    discontinuity: header(headers, VideoHeaders.discontinuity) === '1',
    transcodeSession: header(headers, VideoHeaders.transcodeSession) ?? null,
    publishSessionId: header(headers, VideoHeaders.publishSession) ?? null,
    contentType,
    traceparent: header(headers, 'traceparent') ?? null,
    part,
  };
}
