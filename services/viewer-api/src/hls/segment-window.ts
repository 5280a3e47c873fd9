import { LRUCache } from 'lru-cache';
import type { SegmentMeta } from './segment-message';

export interface WindowSegment {
  meta: SegmentMeta;
  bytes: Buffer;
}

/** One rendition's sliding window. */
export class RenditionWindow {
  readonly segments: WindowSegment[] = [];
  init: WindowSegment | null = null;
  /** Discontinuities of segments that have left the window (EXT-X-DISCONTINUITY-SEQUENCE). */
  slidOutDiscontinuities = 0;

  get lastSequence(): number {
    return this.segments.length > 0 ? this.segments[this.segments.length - 1].meta.sequence : -1;
  }

  get discontinuitySequence(): number {
    const first = this.segments[0];
    return this.slidOutDiscontinuities + (first?.meta.discontinuity ? 1 : 0);
  }
}

interface StreamWindow {
  renditions: Map<string, RenditionWindow>;
  bytes: number;
}

export type AddResult = 'added' | 'duplicate' | 'stale' | 'reset';

export interface SegmentWindowLimits {
  /** Streams with a window at most (the least recently used goes first). */
  maxStreams: number;
  /** A stream that received no segment for this long (it ended) loses its window. */
  idleMs: number;
  /** Clock for the time-to-live (tests). */
  perf?: { now(): number };
}

export const DEFAULT_WINDOW_LIMITS: SegmentWindowLimits = { maxStreams: 10_000, idleMs: 10 * 60_000 };

/**
 * The in-memory live window: per stream and rendition the last N media segments (+ the latest
 * init segment for fMP4), and a global byte budget enforced by evicting the oldest segment of the
 * least recently used stream. Streams are held in an lru-cache bounded by count and idleness, so
 * streams that end never accumulate. Pure (no Kafka, no HTTP) so its policy is unit-tested.
 */
export class SegmentWindowStore {
  /** Least recently used first (rkeys); a dropped stream gives its bytes back (dispose). */
  private readonly streams: LRUCache<string, StreamWindow>;
  private totalBytes = 0;
  private lastPurge = 0;
  evictedForBytes = 0;

  constructor(
    private readonly windowSegments: number,
    private readonly maxBytes: number,
    private readonly limits: SegmentWindowLimits = DEFAULT_WINDOW_LIMITS,
  ) {
    this.streams = new LRUCache<string, StreamWindow>({
      max: limits.maxStreams,
      ttl: limits.idleMs,
      dispose: (stream) => {
        this.totalBytes -= stream.bytes;
      },
      ...(limits.perf ? { perf: limits.perf, ttlResolution: 0 } : {}),
    });
  }

  get bytes(): number {
    return this.totalBytes;
  }

  get streamCount(): number {
    return this.streams.size;
  }

  add(meta: SegmentMeta, bytes: Buffer): AddResult {
    this.purgeNowAndThen();
    const stream = this.touch(meta.streamId, true)!;
    let window = stream.renditions.get(meta.rendition);
    if (!window) {
      window = new RenditionWindow();
      stream.renditions.set(meta.rendition, window);
    }
    let result: AddResult = 'added';
    if (meta.kind === 'init') {
      if (window.init) this.release(stream, window.init.bytes.length);
      window.init = { meta, bytes };
      this.charge(stream, bytes.length);
    } else {
      if (window.segments.some((segment) => segment.meta.sequence === meta.sequence)) return 'duplicate';
      if (meta.sequence <= window.lastSequence) {
        const last = window.segments[window.segments.length - 1].meta;
        // A lower sequence from the same transcode session is a re-delivery of an old segment.
        if (last.transcodeSession === meta.transcodeSession) return 'stale';
        // A new transcode session restarted its numbering: start the window over.
        for (const segment of window.segments) this.release(stream, segment.bytes.length);
        window.segments.length = 0;
        window.slidOutDiscontinuities = 0;
        result = 'reset';
      }
      window.segments.push({ meta, bytes });
      this.charge(stream, bytes.length);
      while (window.segments.length > this.windowSegments) this.dropOldest(stream, window);
    }
    this.enforceBytes(meta.streamId);
    return result;
  }

  rendition(streamId: string, rendition: string): RenditionWindow | undefined {
    return this.touch(streamId, false)?.renditions.get(rendition);
  }

  renditionNames(streamId: string): string[] {
    return [...(this.streams.peek(streamId)?.renditions.keys() ?? [])];
  }

  /** Drops a stream's window entirely (registry tombstone). */
  remove(streamId: string): void {
    this.streams.delete(streamId); // dispose gives the bytes back
  }

  /** Drops the windows of streams idle for `idleMs` (at most once a second: it walks every stream). */
  purgeNowAndThen(): void {
    const now = (this.limits.perf ?? performance).now();
    if (now - this.lastPurge < 1_000) return;
    this.lastPurge = now;
    this.streams.purgeStale();
  }

  /** Most recently used; a write (`create`) also restarts the stream's idle time. */
  private touch(streamId: string, create: boolean): StreamWindow | undefined {
    let stream = this.streams.get(streamId);
    if (create) {
      stream ??= { renditions: new Map(), bytes: 0 };
      this.streams.set(streamId, stream);
    }
    return stream;
  }

  private charge(stream: StreamWindow, bytes: number): void {
    stream.bytes += bytes;
    this.totalBytes += bytes;
  }

  private release(stream: StreamWindow, bytes: number): void {
    stream.bytes -= bytes;
    this.totalBytes -= bytes;
  }

  private dropOldest(stream: StreamWindow, window: RenditionWindow): void {
    const dropped = window.segments.shift();
    if (!dropped) return;
    if (dropped.meta.discontinuity) window.slidOutDiscontinuities += 1;
    this.release(stream, dropped.bytes.length);
  }

  /**
   * Over budget: take the oldest segment of the least recently used stream's longest rendition
   * until under. The stream just written is evicted from last, and never below one segment per
   * rendition, so a single huge stream still plays.
   */
  private enforceBytes(current: string): void {
    if (this.totalBytes <= this.maxBytes) return;
    for (const id of [...this.streams.rkeys()]) {
      const stream = this.streams.peek(id);
      if (id === current || !stream) continue;
      while (this.totalBytes > this.maxBytes && stream.bytes > 0) {
        if (!this.evictOne(stream, 0)) break;
      }
      if (stream.bytes <= 0) this.streams.delete(id);
      if (this.totalBytes <= this.maxBytes) return;
    }
    const stream = this.streams.get(current);
    while (stream && this.totalBytes > this.maxBytes) {
      if (!this.evictOne(stream, 1)) break;
    }
  }

  private evictOne(stream: StreamWindow, keep: number): boolean {
    let victim: RenditionWindow | undefined;
    for (const window of stream.renditions.values()) {
      if (window.segments.length > keep && (!victim || window.segments.length > victim.segments.length)) victim = window;
    }
    if (!victim) {
      if (keep > 0) return false;
      for (const window of stream.renditions.values()) {
        if (window.init) {
          this.release(stream, window.init.bytes.length);
          window.init = null;
          this.evictedForBytes += 1;
          return true;
        }
      }
      return false;
    }
    this.dropOldest(stream, victim);
    this.evictedForBytes += 1;
    return true;
  }
}
