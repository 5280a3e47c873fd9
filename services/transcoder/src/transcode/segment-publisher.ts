import type { FinishedSegment } from '@tributary/media';
import { type Logger, publishSegmentTraced, SegmentLinkTracker, traceHeaders } from '@tributary/telemetry';
import type { ChunkCoverage } from './chunk-coverage';
import type { PipelineSink } from './pipeline-sink';
import { lastSequencesOrNow, SequenceNumbering } from './sequence-numbering';
import { TimelineJumps } from './timeline-jumps';

export interface SegmentPublisherOptions {
  streamId: string;
  publishSessionId: string;
  partition: number;
  sink: PipelineSink;
  coverage: ChunkCoverage;
  logger: Logger;
}

/**
 * Turns ffmpeg's finished segments into numbered, traced video.segments messages. A segment's
 * sequence advances only once Kafka acknowledged it, and only then are the input chunks it covers
 * (in every rendition) released for commit; a dropped segment (partition lost) releases nothing.
 */
export class SegmentPublisher {
  readonly numbering = new SequenceNumbering();
  /** Where a running ffmpeg's input was skipped in place (DISCONTINUITY and program time after it). */
  readonly jumps = new TimelineJumps();
  /** The `ingest chunk` spans fed to ffmpeg since each rendition's last segment (segment spans link to them). */
  private readonly chunkLinks = new SegmentLinkTracker();
  /** The newest chunk's trace context (for output made when no span is active). */
  lastTraceparent?: string;
  /** Publications under way (sent, not yet acknowledged or failed). */
  private readonly underWay = new Set<Promise<unknown>>();

  constructor(private readonly options: SegmentPublisherOptions) {}

  /**
   * Numbers each rendition's segments on from `last` (the stream's last sequences on
   * video.segments); if those cannot be read, from the current time in seconds.
   */
  async startNumbering(renditions: readonly string[], last: Promise<Map<string, number>>): Promise<void> {
    const sequences = await lastSequencesOrNow(last, renditions, this.options.logger);
    this.numbering.start(renditions, sequences);
  }

  /**
   * A chunk (highest PTS `pts`) went to ffmpeg run `run`: the next segment of each rendition links
   * to its span. Returns the media the run's input left out so far (s; see TimelineJumps).
   */
  chunkWritten(run: number, pts: number | undefined, traceparent: string | undefined): number {
    this.chunkLinks.chunkWritten(traceparent ? { traceparent } : undefined);
    return this.jumps.written(run, pts);
  }

  /**
   * Resolves once every publication under way has landed or failed: a cut or a restart waits for
   * it, so the stream's next segments (of its next run or next session) number after them.
   */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.underWay]);
  }

  /**
   * Publishes `segment` of run `run` (whose renditions are `renditions`); returns the offsets of
   * input chunks now covered by durable output.
   */
  async publish(run: { id: number; session: string }, segment: FinishedSegment, renditions: readonly string[]): Promise<string[]> {
    const publication = this.send(run, segment, renditions);
    this.underWay.add(publication);
    try {
      return await publication;
    } finally {
      this.underWay.delete(publication);
    }
  }

  private async send(run: { id: number; session: string }, segment: FinishedSegment, renditions: readonly string[]): Promise<string[]> {
    const jump = this.jumps.segment(run.id, segment.rendition, segment.durationSeconds);
    if (jump.discontinuity) this.numbering.break(segment.rendition);
    const { sequence, discontinuity } = this.numbering.peek(segment.rendition);
    const programTime = segment.programTime ? new Date(new Date(segment.programTime).getTime() + jump.shiftMs) : new Date();
    // `transcode segment` (linked to the chunks that fed it) → `segment published` → send; the
    // segment's traceparent is the publishing span's, so viewer-api's `segment served` links here.
    const delivered = await publishSegmentTraced(
      {
        streamId: this.options.streamId,
        rendition: segment.rendition,
        sequence,
        durationSeconds: segment.durationSeconds,
        chunks: this.chunkLinks.segmentDone(segment.rendition),
      },
      () => {
        const traceparent = traceHeaders().traceparent ?? this.lastTraceparent;
        return this.options.sink.segment({
          streamId: this.options.streamId,
          publishSessionId: this.options.publishSessionId,
          rendition: segment.rendition,
          sequence,
          durationSeconds: segment.durationSeconds,
          programTime: (Number.isNaN(programTime.getTime()) ? new Date() : programTime).toISOString(),
          discontinuity,
          transcodeSession: run.session,
          ...(traceparent ? { traceparent } : {}),
          data: segment.data,
        });
      },
    );
    if (!delivered) return [];
    this.numbering.acknowledge(segment.rendition, sequence);
    return this.options.coverage.segmentDurable(run.id, segment.rendition, segment.durationSeconds, renditions);
  }
}
