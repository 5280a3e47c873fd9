import type { StreamRecord, TranscodeDetail } from '@tributary/contracts';
import type { PlannedRendition, SourceInfo } from '@tributary/media';
import { type Logger, transcodeMetrics } from '@tributary/telemetry';
import { EdgeDelay } from './edge-delay';
import { LadderPlan } from './ladder-plan';
import { LatencyGovernor, type ShedAction, type SkipMode } from './latency-governor';
import type { FfmpegPipelineSettings } from './pipeline-options';

export interface LatencyControlOptions {
  /** The stream's ladder and segment duration (default: DEFAULT_LADDER, 2 s). */
  record?: Pick<StreamRecord, 'ladder' | 'segment_duration_seconds'>;
  settings: Pick<FfmpegPipelineSettings, 'preset' | 'shedPreset' | 'liveMaxTrailSegments' | 'shedRestoreMs' | 'shedding'>;
  logger: Logger;
}

/** A shed or restore decided now: the caller restarts ffmpeg (or skips input) and reports `detail`. */
export interface ShedDecision {
  action: ShedAction;
  /** The latency as decided (without skipped_chunks, which the caller adds once it skipped). */
  detail: TranscodeDetail;
}

/**
 * A stream's latency and what it sheds: how far its output trails its input (EdgeDelay, fed by the
 * pipeline as chunks arrive, are released and segments are published) and, once the source is
 * probed, its LatencyGovernor's decisions and the ladder and preset they leave (LadderPlan).
 * Right after ffmpeg (re)starts the delay includes its start-up, so only a producing run is
 * judged. Pure apart from the log line and metric of each decision: the caller passes the clock.
 */
export class LatencyControl {
  private readonly edge = new EdgeDelay();
  private governor?: LatencyGovernor;
  private source?: SourceInfo;
  /** The current run published a segment (its edge delay means something). */
  private producing = false;
  /** A shed or restore was decided (shedState reports from then on). */
  private decided = false;
  private readonly plan: LadderPlan;

  constructor(private readonly options: LatencyControlOptions) {
    const { record, settings } = options;
    this.plan = new LadderPlan({
      ...(record ? { ladder: record.ladder } : {}),
      preset: settings.preset,
      ...(settings.shedPreset !== undefined ? { shedPreset: settings.shedPreset } : {}),
    });
  }

  /** How far the output may trail (ms) before the stream sheds work. */
  get boundMs(): number {
    return (this.options.settings.liveMaxTrailSegments ?? 3) * (this.options.record?.segment_duration_seconds ?? 2) * 1000;
  }

  /** 0 = full ladder and preset; 1 = top rendition dropped; 2 = and a faster preset. */
  get level(): number {
    return this.governor?.level ?? 0;
  }

  /** Ingest time of the oldest input not yet covered by published output (or skipped). */
  get oldestMs(): number | undefined {
    return this.edge.oldestMs;
  }

  delayMs(now: number): number {
    return this.edge.delayMs(now);
  }

  /** A chunk (at `offset`, when the caller releases by offset) entered the pipeline. */
  accepted(ingestTimeMs: number | undefined, now: number, offset?: string): void {
    this.edge.accepted(ingestTimeMs, now, offset);
  }

  /** The chunk at `offset` (without one: the oldest accepted) needs nothing more (covered by published output, or skipped). */
  released(offset?: string): void {
    this.edge.released(offset);
  }

  /** The source is known: shedding may start (dropping a rendition only if the ladder has several). */
  probed(source: SourceInfo): void {
    this.source = source;
    this.governor = new LatencyGovernor({
      boundMs: this.boundMs,
      restoreAfterMs: this.options.settings.shedRestoreMs ?? 30_000,
      canDropRendition: this.plan.renditions(source).length > 1,
      canFasterPreset: this.plan.canFasterPreset,
    });
  }

  /** The renditions for what is shed now (needs the probed source). */
  renditions(): PlannedRendition[] {
    return this.plan.renditions(this.source!, this.governor);
  }

  get preset(): string {
    return this.plan.preset(this.governor);
  }

  /**
   * What is shed now (level, dropped renditions, preset) once anything was shed or restored, for
   * every later `live` report; undefined before. Not the action or the figures of the decision:
   * those belong to the report about it only.
   */
  shedState(): Pick<TranscodeDetail, 'shed_level' | 'dropped_renditions' | 'preset'> | undefined {
    if (!this.decided || !this.governor) return undefined;
    return { shed_level: this.governor.level, dropped_renditions: this.plan.dropped(this.source!, this.governor), preset: this.preset };
  }

  /** ffmpeg (re)starts (or is about to): no decision until it produces again. */
  runStarting(): void {
    this.producing = false;
  }

  /** The current run published a segment; `reference`: of the rendition whose media rate is the speed. */
  published(reference: boolean, durationSeconds: number, now: number): void {
    this.producing = true;
    if (reference) this.edge.mediaPublished(durationSeconds, now);
  }

  /**
   * Judges the edge delay of a running live stream (before the probe: undefined). `hasRun`: an
   * ffmpeg run was started (until then, no run to wait for). `skip`: how a skip would go now
   * (LatencyActions.skipMode; in place, it comes sooner; `none`, not at all).
   */
  check(now: number, hasRun: boolean, skip: SkipMode = 'restart'): { delayMs: number; shed?: ShedDecision } | undefined {
    if (!this.governor) return undefined;
    const delayMs = this.edge.delayMs(now);
    if ((!this.producing && hasRun) || this.options.settings.shedding === false) return { delayMs };
    const action = this.governor.decide(now, delayMs, skip);
    if (!action) return { delayMs };
    this.decided = true;
    const detail: TranscodeDetail = {
      mode: 'live',
      edge_delay_ms: Math.round(delayMs),
      speed: Math.round(this.edge.speed(now) * 100) / 100,
      ...this.shedState(),
      action,
    };
    transcodeMetrics.sheds().inc({ action });
    this.options.logger.warn(
      { action, edgeDelayMs: Math.round(delayMs), boundSegments: this.options.settings.liveMaxTrailSegments ?? 3, level: this.governor.level },
      action.startsWith('restore') ? 'live stream has headroom again: restoring work' : 'live stream trails its latency bound: shedding work',
    );
    return { delayMs, shed: { action, detail } };
  }
}
