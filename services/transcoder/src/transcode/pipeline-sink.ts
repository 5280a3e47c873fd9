import type { SegmentKind, StreamStatus } from '@tributary/contracts';

/** One finished, numbered segment on its way to video.segments. */
export interface OutgoingSegment {
  streamId: string;
  publishSessionId: string;
  rendition: string;
  sequence: number;
  durationSeconds: number;
  programTime: string;
  discontinuity: boolean;
  transcodeSession: string;
  traceparent?: string;
  data: Buffer;
  /** `media` (the default, MPEG-TS) or, in low-latency mode, `init` / `part` (fMP4). */
  kind?: SegmentKind;
  /** Low-latency parts: index within segment `sequence` and whether it starts with a sync sample. */
  part?: { index: number; independent: boolean };
}

/** Where a pipeline's output goes (Kafka in the service, fakes in unit tests). */
export interface PipelineSink {
  /** Resolves once Kafka acknowledged the segment; false if it was dropped (partition lost). */
  segment(segment: OutgoingSegment): Promise<boolean>;
  thumbnail(streamId: string, data: Buffer, traceparent?: string): Promise<void>;
  status(status: Omit<StreamStatus, 'reporter' | 'ts'>): Promise<void>;
  /** The chunk at this offset needs nothing more (its output is durable, or it was skipped). */
  chunkDone(partition: number, offset: string): void;
}
