import { VideoHeaders } from '@tributary/contracts';
import { headerString } from '@tributary/kafka';
import { maxPts } from '@tributary/media';
import type { KafkaMessage } from 'kafkajs';

/** Ingest times of one stream's chunks, by PTS: when did media time t enter ingest? */
export class IngestClock {
  readonly chunks: { mediaEnd: number; ingestMs: number; producedMs: number }[] = [];
  private firstPts?: number;

  add(message: KafkaMessage): void {
    const ingestMs = Number(headerString(message.headers, VideoHeaders.ingestTimeMs));
    const pts = message.value ? maxPts(message.value) : undefined;
    if (!Number.isFinite(ingestMs) || pts === undefined) return;
    // The transcoder's own convention (stream-pipeline.ts): media time 0 = the first chunk's PTS.
    this.firstPts ??= pts;
    this.chunks.push({ mediaEnd: (pts - this.firstPts) / 90_000, ingestMs, producedMs: Number(message.timestamp) });
  }

  /** Ingest time of the chunk that carried media time `t`, or undefined if not seen yet. */
  ingestTimeOf(t: number): number | undefined {
    return this.chunks.find((chunk) => chunk.mediaEnd >= t)?.ingestMs;
  }
}
