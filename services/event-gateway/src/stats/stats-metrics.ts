import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { DEVICES, type PlaybackStats } from '@tributary/contracts';

/**
 * Prometheus series of the stats processor. Labels stay low-cardinality (result, device): per-stream
 * numbers are in `playback.stats` and `GET /v1/streams/:id/stats`, never in labels.
 */
export class StatsMetrics {
  readonly events: Counter<'result'>;
  readonly activeViewers: Gauge<'device'>;
  readonly streams: Gauge;
  readonly rebufferRatio: Gauge;
  readonly averageBitrate: Gauge;
  readonly playsStarted: Gauge;
  readonly snapshots: Counter;
  readonly emitDuration: Histogram;

  constructor(registry: Registry) {
    const registers = [registry];
    const existing = <T>(name: string): T | undefined => registry.getSingleMetric(name) as T | undefined;
    this.events =
      existing('tributary_stats_events_total') ??
      new Counter({
        name: 'tributary_stats_events_total',
        help: 'Playback events read by the stats processor, by result: applied, duplicate (re-read), late (beyond the lateness bound), clamped (future ts), invalid (dead-lettered).',
        labelNames: ['result'] as const,
        registers,
      });
    this.activeViewers =
      existing('tributary_stats_active_viewers') ??
      new Gauge({
        name: 'tributary_stats_active_viewers',
        help: 'Active viewers (sessions seen in the last 30 s) over the streams this replica aggregates, by device.',
        labelNames: ['device'] as const,
        registers,
      });
    this.streams =
      existing('tributary_stats_streams') ??
      new Gauge({ name: 'tributary_stats_streams', help: 'Streams with statistics in this replica.', registers });
    this.rebufferRatio =
      existing('tributary_stats_rebuffer_ratio') ??
      new Gauge({
        name: 'tributary_stats_rebuffer_ratio',
        help: 'Buffering time ÷ watch time over the last minute, all streams of this replica.',
        registers,
      });
    this.averageBitrate =
      existing('tributary_stats_bitrate_average_kbps') ??
      new Gauge({
        name: 'tributary_stats_bitrate_average_kbps',
        help: 'Mean reported bitrate over the last minute, all streams of this replica.',
        registers,
      });
    this.playsStarted =
      existing('tributary_stats_plays_started_last_minute') ??
      new Gauge({
        name: 'tributary_stats_plays_started_last_minute',
        help: 'Playbacks started in the last minute, all streams of this replica.',
        registers,
      });
    this.snapshots =
      existing('tributary_stats_snapshots_total') ??
      new Counter({ name: 'tributary_stats_snapshots_total', help: 'Snapshots written to playback.stats.', registers });
    this.emitDuration =
      existing('tributary_stats_emit_duration_seconds') ??
      new Histogram({
        name: 'tributary_stats_emit_duration_seconds',
        help: 'Time to compute and write one round of snapshots.',
        buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
        registers,
      });
  }

  /** Sets the gauges from one round of snapshots (the longest window for rates). */
  observe(snapshots: readonly PlaybackStats[]): void {
    const byDevice = Object.fromEntries(DEVICES.map((device) => [device, 0])) as Record<string, number>;
    let buffering = 0;
    let watch = 0;
    let bitrateSum = 0;
    let bitrateSamples = 0;
    let plays = 0;
    for (const stats of snapshots) {
      for (const device of DEVICES) byDevice[device] += stats.active_viewers_by_device[device] ?? 0;
      const longest = stats.windows[stats.windows.length - 1];
      buffering += longest.rebuffering.buffering_ms;
      watch += longest.rebuffering.watch_ms;
      bitrateSamples += longest.bitrate.samples;
      bitrateSum += (longest.bitrate.avg_kbps ?? 0) * longest.bitrate.samples;
      plays += longest.plays_started;
    }
    for (const device of DEVICES) this.activeViewers.set({ device }, byDevice[device]);
    this.streams.set(snapshots.length);
    this.rebufferRatio.set(watch === 0 ? 0 : buffering / watch);
    this.averageBitrate.set(bitrateSamples === 0 ? 0 : bitrateSum / bitrateSamples);
    this.playsStarted.set(plays);
  }
}
