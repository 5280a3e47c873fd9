import { type Logger, transcodeMetrics } from '@tributary/telemetry';
import type { TranscodePipeline } from './stream-pipeline.factory';

/** What the sweep reads and drives of a pipeline. */
export type SweptPipeline = Pick<TranscodePipeline, 'isFinished' | 'transcodeMode' | 'oldestPendingMs' | 'checkLatency' | 'latencyBoundMs' | 'shedLevel'>;

/** What the sweep drives of the backlog (BacklogScheduler). */
export interface SweptBacklog {
  readonly runningCount: number;
  readonly waitingCount: number;
  poke(): void;
}

export interface SweepResult {
  /** Some live stream trails its latency bound. */
  liveTrailing: boolean;
  /** Live streams per shedding level (index 0, 1, 2). */
  shedding: number[];
  /** Ingest time of the oldest input a backlog session has not transcoded yet. */
  backlogOldestMs?: number;
}

/**
 * Every second, over one transcoder's pipelines: each live pipeline measures its edge delay and
 * sheds/restores work; backlog waits while any live stream trails its bound (the flag the
 * BacklogScheduler reads, re-evaluated with `poke`); the metrics follow (no per-stream labels).
 */
export class LatencySweep {
  private trailing = false;

  constructor(private readonly logger: Logger) {}

  /** Some live stream trailed its latency bound at the last sweep (backlog input waits). */
  get liveTrailing(): boolean {
    return this.trailing;
  }

  sweep(pipelines: Iterable<SweptPipeline>, backlog: SweptBacklog, now = Date.now()): SweepResult {
    let trailing = false;
    const shedding = [0, 0, 0];
    let backlogOldest: number | undefined;
    for (const pipeline of pipelines) {
      if (pipeline.isFinished) continue;
      if (pipeline.transcodeMode === 'backlog') {
        const oldest = pipeline.oldestPendingMs;
        if (oldest !== undefined) backlogOldest = Math.min(backlogOldest ?? oldest, oldest);
        continue;
      }
      const delay = pipeline.checkLatency(now);
      if (delay === undefined) continue;
      transcodeMetrics.edgeDelay().observe(delay / 1000);
      if (delay > pipeline.latencyBoundMs) trailing = true;
      shedding[pipeline.shedLevel] += 1;
    }
    if (trailing !== this.trailing) this.logger.info({ liveTrailing: trailing }, trailing ? 'a live stream trails its bound: backlog waits' : 'live streams within their bound: backlog may run');
    this.trailing = trailing;
    backlog.poke();
    transcodeMetrics.shedding().set({ level: '1' }, shedding[1]);
    transcodeMetrics.shedding().set({ level: '2' }, shedding[2]);
    transcodeMetrics.backlogSessions().set({ state: 'running' }, backlog.runningCount);
    transcodeMetrics.backlogSessions().set({ state: 'waiting' }, backlog.waitingCount);
    transcodeMetrics.backlogAge().set(backlogOldest === undefined ? 0 : Math.max(0, now - backlogOldest) / 1000);
    return { liveTrailing: trailing, shedding, ...(backlogOldest !== undefined ? { backlogOldestMs: backlogOldest } : {}) };
  }
}
