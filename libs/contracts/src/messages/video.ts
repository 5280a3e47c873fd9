/**
 * Video messages carry raw bytes as the value and their metadata in headers (so a consumer can
 * route or skip a message without touching a multi-megabyte value). Key = stream id everywhere.
 *
 * - `video.ingest`: value = a run of whole 188-byte MPEG-TS packets from the publisher.
 * - `video.segments`: value = one finished HLS segment (or an fMP4 init segment).
 * - `video.frames`: value = one JPEG (a frame posted by a camera, or a transcoder thumbnail).
 */
export const TS_PACKET_SIZE = 188;

export const VideoHeaders = {
  /** Publisher connection id (a new publish restarts sequences). */
  publishSession: 'tributary-publish-session',
  /** Chunk sequence number within the publish session, from 0. */
  chunkSequence: 'tributary-chunk-seq',
  /** Wall-clock time (ms since epoch) the chunk's first byte reached ingest. */
  ingestTimeMs: 'tributary-ingest-time-ms',
  /** Rendition name (`720p`…). */
  rendition: 'tributary-rendition',
  /** `media`, `init` or `part` (a low-latency HLS part of the media segment `mediaSequence`). */
  segmentKind: 'tributary-segment-kind',
  /** Index of a part within its media segment, from 0 (kind `part` only). */
  partIndex: 'tributary-part-index',
  /** "1" when the part starts with a sync sample (EXT-X-PART INDEPENDENT=YES; kind `part` only). */
  partIndependent: 'tributary-part-independent',
  /** HLS media sequence number of the segment within its rendition. */
  mediaSequence: 'tributary-media-sequence',
  /** Segment duration in seconds (decimal). */
  durationSeconds: 'tributary-duration',
  /** EXT-X-PROGRAM-DATE-TIME of the segment's first frame (ISO-8601). */
  programTime: 'tributary-program-time',
  /** "1" when this segment follows a gap (transcoder restart/rebalance): EXT-X-DISCONTINUITY. */
  discontinuity: 'tributary-discontinuity',
  /** Transcoder session that produced the segment. */
  transcodeSession: 'tributary-transcode-session',
  /** MIME type of the value (`video/mp2t`, `video/mp4`, `image/jpeg`). */
  contentType: 'content-type',
  /** `published` (posted to ingest) or `thumbnail` (from the transcoder). */
  frameKind: 'tributary-frame-kind',
  /** Capture time of a frame (ms since epoch). */
  frameTimeMs: 'tributary-frame-time-ms',
} as const;

export const SEGMENT_KINDS = ['media', 'init', 'part'] as const;
export type SegmentKind = (typeof SEGMENT_KINDS)[number];
export const FRAME_KINDS = ['published', 'thumbnail'] as const;
export type FrameKind = (typeof FRAME_KINDS)[number];
