import type { ChunkCoverage, InputChunk } from './chunk-coverage';
import { InputEnd } from './input-end';
import type { ProbeSchedule } from './probe-schedule';
import type { SerialQueue } from './serial-queue';

/** What PipelineInput needs from its pipeline (standard or low-latency). */
export interface PipelineInputHost {
  /** `probing` buffers input for ffprobe, `running` writes it to ffmpeg; any other state releases it. */
  state(): string;
  /** The chunk's trace context (the latest one is what output links to). */
  traced(traceparent: string): void;
  /** True: drop this chunk (released as done) without feeding it. */
  skips?(chunk: InputChunk): boolean;
  /** The chunk at `offset` needs nothing more. */
  done(offset: string): void;
  /** Try ffprobe on the buffered input; `final`: no more input will come. */
  probe(final: boolean): Promise<void>;
  /** Write a chunk (already in the coverage) to the running ffmpeg. */
  write(entry: InputChunk): Promise<void>;
  /** The input ended before any of it was buffered: the pipeline is done. */
  endEmpty(): void;
  /** The input ended while running: let ffmpeg flush and exit. */
  endRunning(reason: string): void;
}

/**
 * How a pipeline takes its input, the same for every kind: chunks go through the pipeline's
 * queue in order into the ChunkCoverage, are buffered for the probe or written to ffmpeg, and
 * the input is closed once the publisher's last chunk was fed (InputEnd), probing one last time
 * what is buffered if ffmpeg is not running yet.
 */
export class PipelineInput {
  /** When the last chunk arrived or was fed (the service ends idle pipelines). */
  lastChunkAt = Date.now();
  readonly end = new InputEnd();

  constructor(
    private readonly queue: SerialQueue,
    private readonly coverage: ChunkCoverage,
    private readonly probes: ProbeSchedule,
    private readonly host: PipelineInputHost,
  ) {}

  /** Queues a chunk that arrived at `now`; resolves once it was written to ffmpeg (or buffered, or released). */
  feed(chunk: InputChunk, now = Date.now()): Promise<void> {
    this.lastChunkAt = now;
    return this.queue.run(async () => {
      if (chunk.traceparent) this.host.traced(chunk.traceparent);
      if ((this.host.state() !== 'probing' && this.host.state() !== 'running') || this.host.skips?.(chunk)) {
        this.host.done(chunk.offset);
        return;
      }
      const entry = this.coverage.add(chunk);
      this.end.fed(chunk.sequence);
      if (this.host.state() === 'probing') {
        if (this.probes.added(chunk.data.length, Date.now())) await this.host.probe(false);
      } else {
        await this.host.write(entry);
      }
      this.lastChunkAt = Date.now();
      if (this.end.reached) await this.close('publisher ended');
    });
  }

  /**
   * The publisher ended after chunk `lastSequence`: the input is complete once that chunk has
   * been fed (now, or when it arrives). Without a sequence, ends now.
   */
  endAfter(lastSequence: number | undefined, reason: string): Promise<void> {
    return this.queue.run(async () => {
      if (this.end.endAfterSequence(lastSequence)) await this.close(reason);
    });
  }

  /** The input is complete (call from within the queue): probe what is buffered if need be, then flush ffmpeg. */
  async close(reason: string): Promise<void> {
    if (this.host.state() === 'probing') {
      if (this.coverage.size === 0) {
        this.host.endEmpty();
        return;
      }
      await this.host.probe(true);
    }
    if (this.host.state() === 'running') this.host.endRunning(reason);
  }
}
