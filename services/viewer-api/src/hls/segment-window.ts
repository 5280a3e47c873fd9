import { LRUCache } from 'lru-cache';
import type { SegmentMeta } from './segment-message';

export interface WindowPart {
  meta: SegmentMeta;
  bytes: Buffer;
}

export interface WindowSegment {
  meta: SegmentMeta;
  bytes: Buffer;
  /** Low-latency renditions: the parts the segment is made of (views into `bytes`, in index order). */
  parts?: WindowPart[];
}

/** A low-latency part's place: media sequence of its segment, then its index within it. */
export interface PartPosition {
  msn: number;
  index: number;
}

/** Orders part positions (negative: a before b). */
export const comparePositions = (a: PartPosition, b: PartPosition): number => (a.msn !== b.msn ? a.msn - b.msn : a.index - b.index);

/** One rendition's sliding window. */
export class RenditionWindow {
  readonly segments: WindowSegment[] = [];
  init: WindowSegment | null = null;
  /** Discontinuities of segments that have left the window (EXT-X-DISCONTINUITY-SEQUENCE). */
  slidOutDiscontinuities = 0;
  /** The rendition's records are low-latency parts (kind `part`), not whole segments. */
  lowLatency = false;
  /** Low-latency: the parts of the segment being produced (complete when a later segment's part arrives). */
  pending: { sequence: number; parts: WindowPart[] } | null = null;
  /** Low-latency: the longest part seen, rounded up to the millisecond (EXT-X-PART-INF:PART-TARGET). */
  partTargetSeconds = 0;

  get lastSequence(): number {
    return this.segments.length > 0 ? this.segments[this.segments.length - 1].meta.sequence : -1;
  }

  /** Whether there is anything to list: a complete segment, or (low-latency) a part. */
  get hasMedia(): boolean {
    return this.segments.length > 0 || (this.pending?.parts.length ?? 0) > 0;
  }

  /** The newest part (low-latency), or null. */
  get lastPart(): WindowPart | null {
    const pendingParts = this.pending?.parts;
    if (pendingParts && pendingParts.length > 0) return pendingParts[pendingParts.length - 1];
    const parts = this.segments[this.segments.length - 1]?.parts;
    return parts && parts.length > 0 ? parts[parts.length - 1] : null;
  }

  /** The media sequence of the newest segment listed (the one being produced, for low-latency). */
  get lastListedSequence(): number {
    return this.pending && this.pending.parts.length > 0 ? this.pending.sequence : this.lastSequence;
  }

  /** A part still held (listed or not), by its position. */
  findPart(msn: number, index: number): WindowPart | undefined {
    const parts = this.pending?.sequence === msn ? this.pending.parts : this.segments.find((segment) => segment.meta.sequence === msn)?.parts;
    return parts?.find((part) => part.meta.part?.index === index);
  }

  /**
   * The segment being produced becomes a whole segment: its parts concatenated (the parts become
   * views into that buffer, so the bytes are held once). On a later segment's first part, or
   * when the stream has ended.
   */
  completePending(): WindowSegment | null {
    const pending = this.pending;
    this.pending = null;
    if (!pending || pending.parts.length === 0) return null;
    const bytes = Buffer.concat(pending.parts.map((part) => part.bytes));
    let offset = 0;
    const parts = pending.parts.map((part) => {
      const view = bytes.subarray(offset, offset + part.bytes.length);
      offset += part.bytes.length;
      return { meta: part.meta, bytes: view };
    });
    const first = parts[0].meta;
    const durationSeconds = parts.reduce((sum, part) => sum + part.meta.durationSeconds, 0);
    const segment: WindowSegment = { meta: { ...first, kind: 'media', part: null, durationSeconds }, bytes, parts };
    this.segments.push(segment);
    return segment;
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
    if (meta.kind === 'part') {
      result = this.addPart(stream, window, meta, bytes);
    } else if (meta.kind === 'init') {
      if (window.init) this.release(stream, window.init.bytes.length);
      window.init = { meta, bytes };
      this.charge(stream, bytes.length);
    } else {
      if (window.lowLatency) {
        // Whole segments after parts: the stream was restarted in standard mode.
        this.clear(stream, window);
        result = 'reset';
      }
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

  /**
   * A low-latency part: appended to the segment being produced; a later segment's part completes
   * that one first. Re-deliveries are ignored, a new transcode session going back in numbering
   * starts over, and a window never starts in the middle of a segment (a rebuild that begins
   * there waits for the next segment's first part).
   */
  private addPart(stream: StreamWindow, window: RenditionWindow, meta: SegmentMeta, bytes: Buffer): AddResult {
    const position = { msn: meta.sequence, index: meta.part?.index ?? 0 };
    let result: AddResult = 'added';
    if (!window.lowLatency && window.segments.length > 0) {
      this.clear(stream, window);
      result = 'reset';
    }
    const last = window.lastPart;
    if (last && comparePositions(position, { msn: last.meta.sequence, index: last.meta.part?.index ?? 0 }) <= 0) {
      if (last.meta.transcodeSession === meta.transcodeSession) return window.findPart(position.msn, position.index) ? 'duplicate' : 'stale';
      this.clear(stream, window);
      result = 'reset';
    }
    window.lowLatency = true;
    if (!window.hasMedia && position.index !== 0) return 'stale';
    if (window.pending && window.pending.sequence !== position.msn) window.completePending();
    window.pending ??= { sequence: position.msn, parts: [] };
    window.pending.parts.push({ meta, bytes });
    window.partTargetSeconds = Math.max(window.partTargetSeconds, Math.ceil(meta.durationSeconds * 1000 - 1e-6) / 1000);
    this.charge(stream, bytes.length);
    while (window.segments.length > this.windowSegments) this.dropOldest(stream, window);
    return result;
  }

  /** Forgets a rendition's media (a restart in another numbering or mode); the init segment stays. */
  private clear(stream: StreamWindow, window: RenditionWindow): void {
    for (const segment of window.segments) this.release(stream, segment.bytes.length);
    for (const part of window.pending?.parts ?? []) this.release(stream, part.bytes.length);
    window.segments.length = 0;
    window.pending = null;
    window.slidOutDiscontinuities = 0;
    window.lowLatency = false;
    window.partTargetSeconds = 0;
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
