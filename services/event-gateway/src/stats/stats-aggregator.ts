import {
  BITRATE_BUCKETS_KBPS,
  DEVICES,
  EVENT_SOURCES,
  PLAYBACK_EVENT_TYPES,
  type Device,
  type PlaybackEvent,
  type PlaybackStats,
  type WindowStats,
} from '@tributary/contracts';
import { type StatsEvent, statsEventOf } from './stats-event';

/**
 * The pure windowing and aggregation behind `playback.stats`: no Nest, no Kafka, no clock of its
 * own (every call takes `nowMs`), so a fixture of events gives exactly the same numbers every time.
 *
 * Model
 * - Event time: each event counts in the one-second bucket of its `ts`. A snapshot at `now` covers,
 *   per window length W, the buckets of the last W whole seconds up to and including the second of
 *   `now`. Windows are therefore aligned to whole seconds.
 * - Late events: state is kept for `max(windows, active window) + allowedLatenessMs`. An event
 *   older than that horizon is dropped and counted (`late`); a late event inside it lands in its own
 *   bucket, so every later snapshot whose windows cover its `ts` includes it. An event more than
 *   `maxFutureSkewMs` ahead of `now` (a client clock running fast) is counted at `now` (`clamped`).
 * - Duplicates: an `event_id` already seen within the horizon for the same second of event time is
 *   ignored (`duplicates`). This makes re-reading Kafka (restart, rebalance, producer retry)
 *   idempotent: a retried or re-read event carries the same `ts`. The ids are kept in the bucket of
 *   their second, so a membership test is a small set's and pruning a bucket forgets its ids with
 *   it (one Map of every id per stream was about half of `add`'s time, issue 11). A clamped
 *   event's ids are kept per stream instead (its bucket is the second it arrived in, which a re-read
 *   does not repeat).
 * - Sessions: per session a small state machine, fed in arrival order (Kafka keeps a stream's
 *   events in order). Events whose `ts` is older than the session's latest are counted but do not
 *   move the state machine.
 *   - plays started: a `play` that is the session's first, or follows a `stop` (a `play` after
 *     `pause` is a resume). CMCD `su` requests map to `play` and are de-duplicated the same way.
 *   - startup time: starting `play` → the session's next `position`, attributed to the bucket of
 *     that `position` (samples above `maxStartupMs` are discarded as abandoned starts).
 *   - watch time: the gap between consecutive events of a session, unless the earlier one is
 *     `pause`/`stop` or the gap exceeds `maxSessionGapMs` (the viewer went away), attributed to
 *     the later event's bucket. Buffering time is part of watch time.
 *   - buffering: player `buffer_start` → `buffer_end`, attributed to the `buffer_end` bucket.
 *     CMCD buffer starvation (`source: cmcd`, `buffer_start`) has no end, so it is counted as a
 *     starvation and never opens a buffering interval.
 * - Active viewers: distinct sessions with an event in the last `activeWindowMs` whose latest
 *   event is not `stop`.
 */
export interface StatsAggregatorOptions {
  /** Window lengths, shortest first. */
  windowsMs: readonly number[];
  activeWindowMs: number;
  allowedLatenessMs: number;
  maxFutureSkewMs: number;
  maxSessionGapMs: number;
  maxStartupMs: number;
  /** Upper bound of remembered event ids per stream (memory guard); the oldest bucket's are forgotten first. */
  maxEventIdsPerStream: number;
}

export const DEFAULT_STATS_OPTIONS: StatsAggregatorOptions = {
  windowsMs: [10_000, 60_000],
  activeWindowMs: 30_000,
  allowedLatenessMs: 30_000,
  maxFutureSkewMs: 5_000,
  maxSessionGapMs: 60_000,
  maxStartupMs: 60_000,
  maxEventIdsPerStream: 500_000,
};

export type AddResult = 'applied' | 'duplicate' | 'late' | 'clamped';

export interface AggregatorCounters {
  applied: number;
  duplicates: number;
  late: number;
  clamped: number;
}

interface Bucket {
  events: number;
  byType: Map<string, number>;
  byDevice: Map<string, number>;
  bySource: Map<string, number>;
  plays: number;
  starvations: number;
  bitrateCount: number;
  bitrateSum: number;
  bitrateHist: number[];
  bufferingMs: number;
  watchMs: number;
  startupMs: number[];
  /** session id → device, for distinct sessions and active viewers. */
  sessions: Map<string, Device>;
  /** Event ids counted in this second (de-duplication). */
  ids: Set<string>;
}

interface SessionState {
  device: Device;
  lastTs: number;
  lastType: string;
  /** A playback is under way (started, not stopped). */
  started: boolean;
  pendingStartupTs: number | null;
  bufferStartTs: number | null;
}

interface StreamState {
  buckets: Map<number, Bucket>;
  sessions: Map<string, SessionState>;
  /** Ids held in the buckets' `ids` (for the memory guard). */
  idCount: number;
  /** Clamped events' ids → the second they were counted in, insertion-ordered (oldest first). */
  clampedIds: Map<string, number>;
}

const SECOND = 1000;

function emptyBucket(): Bucket {
  return {
    events: 0,
    byType: new Map(),
    byDevice: new Map(),
    bySource: new Map(),
    plays: 0,
    starvations: 0,
    bitrateCount: 0,
    bitrateSum: 0,
    bitrateHist: new Array<number>(BITRATE_BUCKETS_KBPS.length + 1).fill(0),
    bufferingMs: 0,
    watchMs: 0,
    startupMs: [],
    sessions: new Map(),
    ids: new Set(),
  };
}

function increment(map: Map<string, number>, key: string, by = 1): void {
  map.set(key, (map.get(key) ?? 0) + by);
}

function countsObject(names: readonly string[], sources: Map<string, number>[]): Record<string, number> {
  const result: Record<string, number> = {};
  for (const name of names) result[name] = 0;
  for (const source of sources) for (const [name, count] of source) if (name in result) result[name] += count;
  return result;
}

/** Nearest-rank percentile of ascending-sorted values. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil(p * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1];
}

function bitrateBucketIndex(kbps: number): number {
  const index = BITRATE_BUCKETS_KBPS.findIndex((bound) => kbps <= bound);
  return index === -1 ? BITRATE_BUCKETS_KBPS.length : index;
}

export class StatsAggregator {
  private readonly streams = new Map<string, StreamState>();
  private readonly horizonMs: number;
  readonly counters: AggregatorCounters = { applied: 0, duplicates: 0, late: 0, clamped: 0 };

  constructor(readonly options: StatsAggregatorOptions = DEFAULT_STATS_OPTIONS) {
    if (options.windowsMs.length === 0) throw new Error('at least one window is required');
    this.horizonMs = Math.max(...options.windowsMs, options.activeWindowMs) + options.allowedLatenessMs;
  }

  get streamIds(): string[] {
    return [...this.streams.keys()];
  }

  has(streamId: string): boolean {
    return this.streams.has(streamId);
  }

  /** Adds one (already validated) event, observed at `nowMs`. */
  add(event: PlaybackEvent, nowMs: number): AddResult {
    return this.addEvent(statsEventOf(event), nowMs);
  }

  /** Adds what the aggregator reads of one valid event (`readStatsEvent` or `statsEventOf`), observed at `nowMs`. */
  addEvent(event: StatsEvent, nowMs: number): AddResult {
    let ts = event.tsMs;
    if (!Number.isFinite(ts) || ts < nowMs - this.horizonMs) {
      this.counters.late += 1;
      return 'late';
    }
    let result: AddResult = 'applied';
    if (ts > nowMs + this.options.maxFutureSkewMs) {
      ts = nowMs;
      result = 'clamped';
    }
    let stream = this.streams.get(event.stream_id);
    if (!stream) {
      stream = { buckets: new Map(), sessions: new Map(), idCount: 0, clampedIds: new Map() };
      this.streams.set(event.stream_id, stream);
    }
    const second = Math.floor(ts / SECOND);
    let bucket = stream.buckets.get(second);
    if (bucket?.ids.has(event.event_id) || (stream.clampedIds.size > 0 && stream.clampedIds.has(event.event_id))) {
      this.counters.duplicates += 1;
      return 'duplicate';
    }
    if (!bucket) {
      bucket = emptyBucket();
      stream.buckets.set(second, bucket);
    }
    if (result === 'clamped') stream.clampedIds.set(event.event_id, second);
    else this.remember(stream, bucket, event.event_id);
    const source = event.source;
    bucket.events += 1;
    increment(bucket.byType, event.event_type);
    increment(bucket.byDevice, event.device);
    increment(bucket.bySource, source);
    bucket.sessions.set(event.session_id, event.device);
    if (event.bitrate_kbps > 0) {
      bucket.bitrateCount += 1;
      bucket.bitrateSum += event.bitrate_kbps;
      bucket.bitrateHist[bitrateBucketIndex(event.bitrate_kbps)] += 1;
    }
    if (source === 'cmcd' && event.event_type === 'buffer_start') bucket.starvations += 1;

    this.advanceSession(stream, event, ts, source, bucket);
    this.counters[result === 'clamped' ? 'clamped' : 'applied'] += 1;
    return result;
  }

  private remember(stream: StreamState, bucket: Bucket, eventId: string): void {
    bucket.ids.add(eventId);
    stream.idCount += 1;
    if (stream.idCount <= this.options.maxEventIdsPerStream) return;
    for (const oldest of stream.buckets.values()) {
      if (oldest.ids.size === 0) continue;
      stream.idCount -= oldest.ids.size;
      oldest.ids.clear();
      break;
    }
  }

  private advanceSession(stream: StreamState, event: StatsEvent, ts: number, source: string, bucket: Bucket): void {
    let session = stream.sessions.get(event.session_id);
    if (!session) {
      session = { device: event.device, lastTs: ts, lastType: '', started: false, pendingStartupTs: null, bufferStartTs: null };
      stream.sessions.set(event.session_id, session);
    } else if (ts < session.lastTs) {
      // Older than what the session already reported: counted above, but it cannot move time back.
      return;
    } else {
      const gap = ts - session.lastTs;
      if (session.lastType !== 'pause' && session.lastType !== 'stop' && session.lastType !== '' && gap <= this.options.maxSessionGapMs) {
        bucket.watchMs += gap;
      }
    }
    session.device = event.device;
    switch (event.event_type) {
      case 'play':
        if (!session.started) {
          session.started = true;
          bucket.plays += 1;
          session.pendingStartupTs = ts;
        }
        break;
      case 'position':
        if (session.pendingStartupTs !== null) {
          const startup = ts - session.pendingStartupTs;
          if (startup <= this.options.maxStartupMs) bucket.startupMs.push(startup);
          session.pendingStartupTs = null;
        }
        break;
      case 'buffer_start':
        if (source !== 'cmcd' && session.bufferStartTs === null) session.bufferStartTs = ts;
        break;
      case 'buffer_end':
        if (session.bufferStartTs !== null) {
          bucket.bufferingMs += ts - session.bufferStartTs;
          session.bufferStartTs = null;
        }
        break;
      case 'stop':
        session.started = false;
        session.pendingStartupTs = null;
        session.bufferStartTs = null;
        break;
      default:
        break;
    }
    session.lastTs = ts;
    session.lastType = event.event_type;
  }

  /** The statistics of one stream at `nowMs`, or undefined for a stream without state. */
  snapshot(streamId: string, nowMs: number): PlaybackStats | undefined {
    const stream = this.streams.get(streamId);
    if (!stream) return undefined;
    const nowSecond = Math.floor(nowMs / SECOND);
    const bucketsSince = (lengthMs: number): Bucket[] => {
      const first = nowSecond - Math.ceil(lengthMs / SECOND) + 1;
      const selected: Bucket[] = [];
      for (const [second, bucket] of stream.buckets) if (second >= first && second <= nowSecond) selected.push(bucket);
      return selected;
    };

    const active = new Map<string, Device>();
    for (const bucket of bucketsSince(this.options.activeWindowMs)) {
      for (const [sessionId, device] of bucket.sessions) {
        if (stream.sessions.get(sessionId)?.lastType !== 'stop') active.set(sessionId, device);
      }
    }
    const activeByDevice = countsObject(DEVICES, []);
    for (const device of active.values()) activeByDevice[device] = (activeByDevice[device] ?? 0) + 1;

    const windows: WindowStats[] = this.options.windowsMs.map((lengthMs) => {
      const buckets = bucketsSince(lengthMs);
      const seconds = Math.ceil(lengthMs / SECOND);
      const sessions = new Set<string>();
      let events = 0;
      let plays = 0;
      let starvations = 0;
      let bitrateCount = 0;
      let bitrateSum = 0;
      let bufferingMs = 0;
      let watchMs = 0;
      const hist = new Array<number>(BITRATE_BUCKETS_KBPS.length + 1).fill(0);
      const startup: number[] = [];
      for (const bucket of buckets) {
        events += bucket.events;
        plays += bucket.plays;
        starvations += bucket.starvations;
        bitrateCount += bucket.bitrateCount;
        bitrateSum += bucket.bitrateSum;
        bufferingMs += bucket.bufferingMs;
        watchMs += bucket.watchMs;
        bucket.bitrateHist.forEach((count, index) => (hist[index] += count));
        startup.push(...bucket.startupMs);
        for (const sessionId of bucket.sessions.keys()) sessions.add(sessionId);
      }
      startup.sort((a, b) => a - b);
      return {
        window_seconds: seconds,
        from: new Date((nowSecond - seconds + 1) * SECOND).toISOString(),
        to: new Date((nowSecond + 1) * SECOND).toISOString(),
        events,
        events_by_type: countsObject(PLAYBACK_EVENT_TYPES, buckets.map((bucket) => bucket.byType)),
        events_by_device: countsObject(DEVICES, buckets.map((bucket) => bucket.byDevice)),
        events_by_source: countsObject(EVENT_SOURCES, buckets.map((bucket) => bucket.bySource)),
        sessions: sessions.size,
        plays_started: plays,
        buffer_starvations: starvations,
        bitrate: {
          samples: bitrateCount,
          avg_kbps: bitrateCount === 0 ? null : bitrateSum / bitrateCount,
          buckets: hist.map((count, index) => ({ le_kbps: BITRATE_BUCKETS_KBPS[index] ?? null, count })),
        },
        rebuffering: { buffering_ms: bufferingMs, watch_ms: watchMs, ratio: watchMs === 0 ? null : bufferingMs / watchMs },
        startup: { samples: startup.length, p50_ms: percentile(startup, 0.5), p95_ms: percentile(startup, 0.95) },
      };
    });

    return {
      stream_id: streamId,
      generated_at: new Date(nowMs).toISOString(),
      active_viewers: active.size,
      active_viewers_by_device: activeByDevice,
      active_window_seconds: Math.ceil(this.options.activeWindowMs / SECOND),
      windows,
    };
  }

  /** Snapshots of every stream with state, then forgets what fell out of the horizon. */
  snapshotAll(nowMs: number): PlaybackStats[] {
    const result: PlaybackStats[] = [];
    for (const streamId of this.streams.keys()) {
      const stats = this.snapshot(streamId, nowMs);
      if (stats) result.push(stats);
    }
    this.prune(nowMs);
    return result;
  }

  /**
   * Drops buckets, sessions and event ids older than the horizon, and streams left without any.
   * A stream therefore keeps being reported (with zeros once idle) until its last event leaves
   * the horizon, so readers see it drop to zero rather than freeze at its last values.
   */
  prune(nowMs: number): void {
    const oldestSecond = Math.floor((nowMs - this.horizonMs) / SECOND);
    for (const [streamId, stream] of this.streams) {
      for (const [second, bucket] of stream.buckets) {
        if (second >= oldestSecond) continue;
        stream.idCount -= bucket.ids.size;
        stream.buckets.delete(second);
      }
      for (const [sessionId, session] of stream.sessions) {
        if (session.lastTs < nowMs - this.horizonMs) stream.sessions.delete(sessionId);
      }
      for (const [eventId, second] of stream.clampedIds) {
        if (second >= oldestSecond) break; // counted at arrival: insertion order is time order
        stream.clampedIds.delete(eventId);
      }
      if (stream.buckets.size === 0 && stream.sessions.size === 0) this.streams.delete(streamId);
    }
  }

  /** Forgets streams (e.g. whose partitions were assigned to another replica). */
  forget(streamIds: Iterable<string>): void {
    for (const streamId of streamIds) this.streams.delete(streamId);
  }
}
