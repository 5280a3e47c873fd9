import type { PlaybackStats } from '../messages/playback-stats';
import type { KafkaPosition } from './playback-socket';

/**
 * Additions to the `/playback` Socket.IO API for the live dashboard: statistics, resume and
 * back-pressure notices.
 *
 * - Server → client `playback.stats`: the latest `playback.stats` snapshot of a subscribed stream.
 * - Server → client `playback.stats.history`: on connect, the last ten minutes of chart points per
 *   subscribed stream.
 * - Server → client `notice`: resume progress and slow-client notices.
 * - Resume: connect with `auth: { resume: { positions: [{ partition, offset }], since? } }` (the
 *   last position seen per partition; `since` = ISO time of the last event, used for partitions
 *   with no position). The server sends what the client missed, in per-partition order, then live
 *   events — no gap, no duplicates (a per-partition offset floor) — and a `resume_complete`
 *   notice. Without `resume`, a client that connects with `auth: { history: true }` first gets
 *   the last events of its streams (up to 100), so a dashboard is never empty.
 */
export const DashboardSocketEvents = {
  stats: 'playback.stats',
  statsHistory: 'playback.stats.history',
  notice: 'notice',
} as const;

export interface ResumeRequest {
  readonly positions: readonly KafkaPosition[];
  readonly since?: string;
}

export interface StatsPoint {
  /** ISO time of the snapshot. */
  readonly t: string;
  readonly viewers: number;
  /** Average bitrate of the 10 s window, null without samples. */
  readonly bitrate_kbps: number | null;
}

export interface StatsHistoryMessage {
  readonly stream_id: string;
  readonly points: readonly StatsPoint[];
}

export const PLAYBACK_NOTICE_CODES = ['resume_complete', 'resume_failed', 'lagging', 'recovered', 'disconnected_slow'] as const;
export type PlaybackNoticeCode = (typeof PLAYBACK_NOTICE_CODES)[number];

export interface PlaybackNotice {
  readonly code: PlaybackNoticeCode;
  readonly message: string;
  /** resume_complete: events replayed; recovered: events not delivered while lagging. */
  readonly count?: number;
}

export interface DashboardServerToClientEvents {
  'playback.stats': (stats: PlaybackStats) => void;
  'playback.stats.history': (history: StatsHistoryMessage) => void;
  notice: (notice: PlaybackNotice) => void;
}

const OFFSET = /^\d{1,19}$/;
export const MAX_RESUME_PARTITIONS = 1024;

/** Reads `auth.resume`; undefined when absent, a message when malformed (untrusted input, never throws). */
export function parseResumeRequest(auth: unknown): { ok: true; resume: ResumeRequest | undefined } | { ok: false; message: string } {
  if (typeof auth !== 'object' || auth === null) return { ok: true, resume: undefined };
  const raw = (auth as { resume?: unknown }).resume;
  if (raw === undefined || raw === null) return { ok: true, resume: undefined };
  if (typeof raw !== 'object' || Array.isArray(raw)) return { ok: false, message: 'resume must be { positions: [{ partition, offset }], since? }' };
  const { positions, since } = raw as { positions?: unknown; since?: unknown };
  if (!Array.isArray(positions) || positions.length > MAX_RESUME_PARTITIONS) {
    return { ok: false, message: `resume.positions must be an array of at most ${MAX_RESUME_PARTITIONS} { partition, offset }` };
  }
  const parsed: KafkaPosition[] = [];
  for (const position of positions as unknown[]) {
    const { partition, offset } = (position ?? {}) as { partition?: unknown; offset?: unknown };
    if (typeof partition !== 'number' || !Number.isInteger(partition) || partition < 0 || partition > 100_000) {
      return { ok: false, message: 'resume.positions[].partition must be a non-negative integer' };
    }
    if (typeof offset !== 'string' || !OFFSET.test(offset)) return { ok: false, message: 'resume.positions[].offset must be a decimal string' };
    parsed.push({ partition, offset });
  }
  if (since !== undefined && (typeof since !== 'string' || Number.isNaN(Date.parse(since)))) {
    return { ok: false, message: 'resume.since must be an ISO date-time' };
  }
  return { ok: true, resume: since === undefined ? { positions: parsed } : { positions: parsed, since } };
}
