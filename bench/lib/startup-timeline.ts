import { VideoHeaders } from '@tributary/contracts';
import type { LogLine } from '@tributary/devkit';
import { headerString } from '@tributary/kafka';
import type { KafkaMessage } from 'kafkajs';

/** One step of a stream's start-up: ms after the publisher was spawned. */
export interface StartupStep {
  step: string;
  atMs: number;
}

/**
 * A live stream's start-up (issue 12), step by step, from what the bench sees anyway: the
 * ingest's `live` report on stream.status (the publish claimed), the video.ingest chunks
 * (ingest-time header = ingest cut and sent the chunk; Kafka CreateTime), the
 * transcoder's `live` report on stream.status (sent once ffprobe read the source: the master
 * playlist exists from then on), the first part (segment) on video.segments, and the first playable
 * playlist the bench fetched. With the transcoder logging at info (BENCH_SERVICE_LOG_LEVEL=info or
 * debug) its own lines add when the probe ran and when ffmpeg was spawned.
 */
export class StartupTimeline {
  private readonly steps = new Map<string, number>();
  private chunkBytes = 0;
  /** Bytes of video.ingest the transcoder had been sent when it reported `live` (what the probe read, at most). */
  private probedBytes?: number;

  ingestChunk(message: KafkaMessage): void {
    const ingestMs = Number(headerString(message.headers, VideoHeaders.ingestTimeMs));
    if (Number.isFinite(ingestMs)) this.first('first chunk cut at ingest', ingestMs);
    this.first('first chunk in Kafka', Number(message.timestamp));
    this.chunkBytes += message.value?.length ?? 0;
  }

  status(message: KafkaMessage): void {
    const value = JSON.parse(message.value?.toString() ?? '{}') as { state?: string; reporter?: string };
    // ingest reports `live` once the publish is claimed, before it reads the body.
    if (value.reporter === 'ingest' && value.state === 'live') this.first('ingest live (claimed)', Number(message.timestamp));
    if (value.reporter !== 'transcoder' || value.state !== 'live' || this.steps.has('transcoder live (probed)')) return;
    this.first('transcoder live (probed)', Number(message.timestamp));
    this.probedBytes = this.chunkBytes;
  }

  output(message: KafkaMessage): void {
    this.first('first part (segment) produced', Number(message.timestamp));
  }

  playable(at: number): void {
    this.first('first playable playlist', at);
  }

  /** The transcoder's log lines (pino JSON, ServiceProcess.jsonLines()) about `streamId`: probe attempts and ffmpeg's spawn. */
  transcoderLog(lines: readonly LogLine[], streamId: string): void {
    const wanted: [RegExp, string][] = [
      [/probe failed/, 'probe attempt failed'],
      [/^source probed/, 'ffprobe done'],
      [/^ffmpeg started|^low-latency ffmpeg started/, 'ffmpeg spawned'],
    ];
    for (const entry of lines) {
      if (entry.streamId !== streamId || !entry.msg || !entry.time) continue;
      const step = wanted.find(([pattern]) => pattern.test(entry.msg ?? ''))?.[1];
      if (step) this.first(step, Date.parse(entry.time));
    }
  }

  /** The steps in time order, ms after the publisher was spawned at `startedAt`. */
  timeline(startedAt: number): StartupStep[] {
    return [...this.steps.entries()].map(([step, at]) => ({ step, atMs: at - startedAt })).sort((a, b) => a.atMs - b.atMs);
  }

  /** `step at ms (+Δ)` per step, for the report. */
  format(startedAt: number): string {
    let previous = 0;
    const parts = this.timeline(startedAt).map(({ step, atMs }) => {
      const text = `${step} ${atMs} ms (+${atMs - previous})`;
      previous = atMs;
      return text;
    });
    if (this.probedBytes !== undefined) parts.push(`[${Math.round(this.probedBytes / 1024)} KiB in video.ingest when probed]`);
    return parts.join(' → ');
  }

  private first(step: string, at: number): void {
    if (Number.isFinite(at) && !this.steps.has(step)) this.steps.set(step, at);
  }
}
