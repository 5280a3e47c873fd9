import { type ConfigOf, type Env, int, parseEnv } from '@tributary/config';

export const DASHBOARD_OPTIONS = Symbol('DASHBOARD_OPTIONS');

/** Dashboard / live-feed settings (part of event-gateway's configuration). */
export const dashboardEnvSpec = {
  historyEvents: int('DASHBOARD_HISTORY_EVENTS', { default: 100, min: 0, max: 10_000 }),
  historyEventsPerStream: int('DASHBOARD_HISTORY_EVENTS_PER_STREAM', { default: 50, min: 0, max: 10_000 }),
  historyStreams: int('DASHBOARD_HISTORY_STREAMS', { default: 1_000, min: 1, max: 1_000_000 }),
  maxConcurrentReplays: int('DASHBOARD_MAX_CONCURRENT_RESUMES', { default: 16, min: 0, max: 1_000 }),
  replayTimeoutMs: int('DASHBOARD_RESUME_TIMEOUT_MS', { default: 30_000, min: 1_000, max: 600_000 }),
  maxResumeBuffer: int('DASHBOARD_RESUME_MAX_BUFFERED', { default: 50_000, min: 100, max: 10_000_000 }),
  /** How much statistics history (chart points) the gateway keeps and re-reads on start. */
  statsHistoryMs: int('DASHBOARD_STATS_HISTORY_MS', { default: 10 * 60_000, min: 10_000, max: 3_600_000 }),
  /** Streams whose statistics the gateway keeps at most (a stream without snapshots for the history span is dropped anyway). */
  statsStreams: int('DASHBOARD_STATS_STREAMS', { default: 10_000, min: 1, max: 1_000_000 }),
};

export type DashboardOptions = ConfigOf<typeof dashboardEnvSpec>;

export function loadDashboardOptions(env: Env): DashboardOptions {
  return parseEnv(dashboardEnvSpec, env);
}
