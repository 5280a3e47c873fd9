import type { TranscodeDetail, TranscodeMode } from '@tributary/contracts';
import type { PlannedRendition, SourceInfo } from '@tributary/media';
import { ChunkCoverage, type InputChunk } from './chunk-coverage';
import { InputSkip } from './input-skip';
import { LatencyActions } from './latency-actions';
import { LatencyControl } from './latency-control';
import type { LifecycleParts, LifecycleRuns } from './lifecycle-parts';
import type { FfmpegPipelineSettings, StreamSessionOptions } from './pipeline-options';
import { PipelineInput } from './pipeline-input';
import { PipelineStatus } from './pipeline-status';
import { ProbeSchedule } from './probe-schedule';
import { RestartBudget } from './restart-budget';
import { SerialQueue } from './serial-queue';

export type PipelineState = 'probing' | 'running' | 'ending' | 'done' | 'error' | 'abandoned';

/**
 * What every kind of stream pipeline (standard, low-latency) is made of, and how its input goes
 * in: it takes the input (PipelineInput: buffered for the probe, then written to ffmpeg), probes
 * it (ProbeSchedule) and plans the ladder, measures the edge delay and applies latency decisions
 * (LatencyControl, LatencyActions), re-feeds a new run and releases input offsets as done. How a
 * session ends (PipelineLifecycle) and what differs by kind (the subclasses) build on it.
 */
export abstract class PipelineCore<Runs extends LifecycleRuns, Options extends StreamSessionOptions<FfmpegPipelineSettings>> {
  readonly streamId: string;
  readonly partition: number;
  readonly publishSessionId: string;
  readonly finished: Promise<void>;
  protected state: PipelineState = 'probing';
  protected readonly queue = new SerialQueue();
  protected readonly coverage: ChunkCoverage;
  protected readonly skips = new InputSkip();
  protected readonly input: PipelineInput;
  protected readonly latency: LatencyControl;
  protected readonly actions: LatencyActions;
  protected readonly probes: ProbeSchedule;
  protected readonly reports: PipelineStatus;
  protected readonly restarts: RestartBudget;
  protected readonly runs: Runs;
  /** The renditions of the current plan (LadderPlan: never above the source, minus what is shed). */
  protected renditions: PlannedRendition[] = [];
  /** Cut (a newer publish is live): ffmpeg was stopped on purpose, no restart. */
  protected cutting = false;
  protected resolveFinished!: () => void;
    protected readonly kind: LifecycleParts<Runs>;

  constructor(
    protected readonly options: Options,
    parts: LifecycleParts<Runs>,
  ) {
    this.streamId = options.streamId;
    this.partition = options.partition;
    this.publishSessionId = options.publishSessionId;
    this.kind = parts;
    this.runs = parts.runs;
    this.coverage = parts.coverage ?? new ChunkCoverage();
    this.probes = new ProbeSchedule(options.settings.probeInitialBytes ?? 128 * 1024, options.settings.probeMaxBytes);
    this.reports = new PipelineStatus(options.streamId, options.publishSessionId, options.sink, options.logger);
    this.restarts = new RestartBudget(options.settings.maxRestarts);
    this.latency = new LatencyControl(options);
    this.finished = new Promise((resolve) => (this.resolveFinished = resolve));
    this.input = new PipelineInput(this.queue, this.coverage, this.probes, {
      state: () => this.state,
      traced: (traceparent) => this.traced(traceparent),
      skips: (chunk) => this.skips.skips(chunk.sequence),
      done: (offset) => this.done(offset),
      probe: (final) => this.tryProbe(final),
      write: (entry) => this.write(entry),
      endEmpty: () => {
        this.state = 'done';
        this.resolveFinished();
      },
      endRunning: (reason) => {
        this.options.logger.info({ reason }, parts.messages.flushing);
        this.state = 'ending';
        this.endInput();
      },
    });
    this.actions = new LatencyActions(
      { queue: this.queue, runs: parts.runs, skips: this.skips, input: this.input.end, coverage: this.coverage, output: parts.output, latency: this.latency, logger: options.logger },
      {
        isRunning: () => this.state === 'running',
        nextRun: () => {
          this.renditions = this.latency.renditions();
          return this.startRun();
        },
        done: (offset) => this.done(offset),
        reportLive: (detail) => this.reportLive(detail),
      },
    );
  }

  /** `live` or `backlog` (the publisher is gone). */
  abstract get transcodeMode(): TranscodeMode;

  get isFinished(): boolean {
    return this.state === 'done' || this.state === 'error' || this.state === 'abandoned';
  }

  get currentState(): PipelineState {
    return this.state;
  }

  /** How long the oldest input not yet covered by published output has waited since ingest. */
  edgeDelayMs(now = Date.now()): number {
    return this.latency.delayMs(now);
  }

  /** Ingest time of the oldest input not yet transcoded. */
  get oldestPendingMs(): number | undefined {
    return this.latency.oldestMs;
  }

  /** How far the output may trail (ms) before the stream sheds work. */
  get latencyBoundMs(): number {
    return this.latency.boundMs;
  }

  /** 0 = full ladder and preset; 1 = top rendition dropped; 2 = and a faster preset. */
  get shedLevel(): number {
    return this.latency.level;
  }

  /** The running ffmpeg's pid (for diagnostics and fault tests). */
  get ffmpegPid(): number | undefined {
    const run = this.runs.current;
    return run?.running ? run.pid : undefined;
  }

  /** The last media sequence per rendition (to continue numbering in this process). */
  sequencesAfter(): Map<string, number> {
    return this.kind.sequences.lastSequences();
  }

  /** When the last chunk arrived or was fed (the service ends idle pipelines). */
  get lastChunkAt(): number {
    return this.input.lastChunkAt;
  }

  /** Queues a chunk; resolves once it was written to ffmpeg (or buffered, or skipped). */
  feed(chunk: InputChunk): Promise<void> {
    const now = Date.now();
    this.latency.accepted(chunk.ingestTimeMs, now, chunk.offset);
    this.skips.seen(chunk.sequence, chunk.data);
    return this.input.feed(chunk, now);
  }

  /**
   * The publisher ended after chunk `lastSequence`: the input is complete once that chunk has
   * been fed (now, or when it arrives). Without a sequence, ends now.
   */
  endAfter(lastSequence: number | undefined, reason: string): Promise<void> {
    return this.input.endAfter(lastSequence, reason);
  }

  /**
   * Called every second by the service: measures how far a live stream trails and sheds or
   * restores work. Returns the edge delay of a running live stream (undefined otherwise).
   */
  checkLatency(now = Date.now()): number | undefined {
    if (this.transcodeMode !== 'live' || this.state !== 'running') return undefined;
    const check = this.latency.check(now, this.runs.started > 0, this.actions.skipMode());
    if (check) {
      // No keyframe seen yet: shedFrom is past everything (MAX_SAFE_INTEGER), logged as none.
      const keyframe = this.skips.shedFrom;
      const newestKeyframe = keyframe === Number.MAX_SAFE_INTEGER ? undefined : keyframe;
      this.options.logger.debug({ edgeDelayMs: Math.round(check.delayMs), shedLevel: this.latency.level, newestKeyframe, fedUpTo: this.input.end.fedUpTo }, 'edge delay');
    }
    if (check?.shed) this.actions.shed(check.shed);
    return check?.delayMs;
  }

  /** ffprobe on `data` (the buffered input). */
  protected abstract probe(data: Buffer): Promise<SourceInfo>;
  /** The source is probed and the ladder planned: start numbering the output. */
  protected abstract probed(info: SourceInfo): Promise<void>;
  /** Starts an ffmpeg run with the current plan and re-feeds it what is not yet covered (but skipped input). */
  protected abstract startRun(): Promise<void>;
  /** Writes a chunk (already in the coverage) to the running ffmpeg. */
  protected abstract write(entry: InputChunk): Promise<void>;
  /** The input is complete: close the running ffmpeg's input so it flushes and exits. */
  protected abstract endInput(): void;
  /** Reports `live` with the current renditions (`detail`: the shed or restore that changed them). */
  protected abstract reportLive(detail?: TranscodeDetail): Promise<void>;
  /** The latest trace context of the input (what output links to). */
  protected abstract traced(traceparent: string): void;
  /** Log fields of the line that says the stream was transcoded to its end. */
  protected abstract summary(): object;

  /** The stream cannot be transcoded: stop ffmpeg, skip its input, report `error`. */
  protected abstract fail(reason: string): Promise<void>;
  /** The stream ended, failed, was cut or abandoned, before its report. */
  protected stopped(): void {}

  /** Last step before `finished` resolves once the stream ended or failed. */
  protected async cleanUp(): Promise<void> {}

  /** The chunk at `offset` needs nothing more (covered by published output, or skipped). */
  protected done(offset: string): void {
    this.latency.released(offset);
    this.options.sink.chunkDone(this.partition, offset);
  }

  /** Releases every pending chunk as done. */
  protected releaseAll(): void {
    for (const offset of this.coverage.releaseAll()) this.done(offset);
  }

  /**
   * Writes a new run what is not yet covered by durable output (the probe buffer, or a crashed or
   * replaced run's input), except what a skip to the newest keyframe dropped meanwhile (that can be
   * much: a re-feed after a shed restart is the whole backlog, written as slowly as ffmpeg reads).
   */
  protected async refeed(): Promise<void> {
    for (const entry of [...this.coverage.chunks]) {
      // A pending skip to the newest keyframe takes effect at a re-fed chunk's turn too.
      this.skips.settle();
      if (entry.sequence >= this.skips.from) {
        await this.write(entry);
        continue;
      }
      // Skipped (counted): the pending input before the skip point.
      for (const offset of this.coverage.releaseBefore(this.skips.from)) {
        this.skips.counted(1);
        this.done(offset);
      }
    }
  }

  /** Sends a thumbnail ffmpeg made (linked to `traceparent`, the newest input's); a failure is logged only. */
  protected publishThumbnail(image: Buffer, traceparent: string | undefined): void {
    this.options.sink.thumbnail(this.streamId, image, traceparent).catch((error: unknown) => this.options.logger.warn({ err: error }, 'could not publish a thumbnail'));
  }

  /** Probes the buffered input; once it reads, plans the ladder, reports `live` and starts ffmpeg. */
  private async tryProbe(final: boolean): Promise<void> {
    this.probes.attempted(Date.now());
    const data = Buffer.concat(this.coverage.chunks.map((entry) => entry.data));
    let info: SourceInfo;
    try {
      info = await this.probe(data);
    } catch (error) {
      const message = (error as Error).message;
      if (final || this.probes.exhausted) {
        await this.fail(`input is not decodable video: ${message}`);
      } else {
        this.probes.failed();
        this.options.logger.debug({ bytes: this.probes.buffered, error: message }, 'probe failed; waiting for more input');
      }
      return;
    }
    // The registry's ladder, never above the source (LadderPlan).
    this.latency.probed(info);
    this.renditions = this.latency.renditions();
    await this.probed(info);
    // A backlog session is not live: it reports `ended` (with its detail) once transcoded.
    if (this.transcodeMode === 'live') await this.reportLive();
    this.state = 'running';
    await this.startRun();
  }
}
