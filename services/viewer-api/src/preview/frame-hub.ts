import type { Writable } from 'node:stream';
import { type Context, context, SpanKind } from '@opentelemetry/api';
import { withSpan } from '@tributary/telemetry';
import { LRUCache } from 'lru-cache';

export const MJPEG_BOUNDARY = 'tributaryframe';

export interface Frame {
  bytes: Buffer;
  timeMs: number;
  /** The frame's trace (from its Kafka headers): each MJPEG part that carries it is a span in it. */
  trace?: Context;
}

interface Client {
  out: Writable;
  /** Waiting for 'drain': newer frames replace `pending` instead of queueing. */
  blocked: boolean;
  pending: Frame | null;
  sent: number;
  dropped: number;
}

export function mjpegPart(frame: Frame): Buffer {
  const head = `--${MJPEG_BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: ${frame.bytes.length}\r\nX-Timestamp: ${frame.timeMs}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head), frame.bytes, Buffer.from('\r\n')]);
}

export interface FrameHubLimits {
  /** Streams whose latest frame is kept (least recently updated go first). */
  maxStreams: number;
  /** Bytes of latest frames kept, all streams together. */
  maxBytes: number;
  /** A stream's latest frame is forgotten when no newer one came for this long (the stream ended). */
  frameTtlMs: number;
  /** Clock for the time-to-live (tests). */
  perf?: { now(): number };
}

export const DEFAULT_FRAME_HUB_LIMITS: FrameHubLimits = { maxStreams: 10_000, maxBytes: 256 * 1024 * 1024, frameTtlMs: 5 * 60_000 };

/**
 * The latest frame per stream and the MJPEG clients watching it. A client whose socket is not
 * keeping up (write() returned false) gets only the newest frame once it drains: frames are
 * dropped, never queued, so one slow viewer costs one frame of memory. The latest frames are
 * bounded by count, bytes and age (lru-cache), and a deleted stream's frame goes at once.
 */
export class FrameHub {
  private readonly latest: LRUCache<string, Frame>;
  private readonly clients = new Map<string, Set<Client>>();
  private lastPurge = 0;

  constructor(private readonly limits: FrameHubLimits = DEFAULT_FRAME_HUB_LIMITS) {
    this.latest = new LRUCache<string, Frame>({
      max: limits.maxStreams,
      maxSize: limits.maxBytes,
      sizeCalculation: (frame) => Math.max(1, frame.bytes.length),
      ttl: limits.frameTtlMs,
      ...(limits.perf ? { perf: limits.perf, ttlResolution: 0 } : {}),
    });
  }

  /** Streams with a latest frame, and their bytes (bounded by the limits). */
  get size(): { streams: number; bytes: number } {
    return { streams: this.latest.size, bytes: this.latest.calculatedSize };
  }

  /** Forgets a stream's latest frame (stream deleted). */
  forget(streamId: string): void {
    this.latest.delete(streamId);
  }

  /** Drops expired frames (at most once a second: it walks every entry). */
  purgeNowAndThen(): void {
    const now = (this.limits.perf ?? performance).now();
    if (now - this.lastPurge < 1_000) return;
    this.lastPurge = now;
    this.latest.purgeStale();
  }

  latestFrame(streamId: string): Frame | undefined {
    return this.latest.get(streamId);
  }

  clientCount(streamId: string): number {
    return this.clients.get(streamId)?.size ?? 0;
  }

  publish(streamId: string, frame: Frame): void {
    this.purgeNowAndThen();
    const previous = this.latest.get(streamId);
    if (previous && previous.timeMs > frame.timeMs) return; // out of order (partitions/replays)
    this.latest.set(streamId, frame);
    for (const client of this.clients.get(streamId) ?? []) this.deliver(client, frame);
  }

  /** Registers a client; returns the function that unregisters it. */
  subscribe(streamId: string, out: Writable): () => { sent: number; dropped: number } {
    const client: Client = { out, blocked: false, pending: null, sent: 0, dropped: 0 };
    let set = this.clients.get(streamId);
    if (!set) {
      set = new Set();
      this.clients.set(streamId, set);
    }
    set.add(client);
    const onDrain = () => {
      client.blocked = false;
      const pending = client.pending;
      client.pending = null;
      if (pending) this.deliver(client, pending);
    };
    out.on('drain', onDrain);
    const first = this.latest.get(streamId);
    if (first) this.deliver(client, first);
    return () => {
      out.off('drain', onDrain);
      set.delete(client);
      if (set.size === 0) this.clients.delete(streamId);
      return { sent: client.sent, dropped: client.dropped };
    };
  }

  private deliver(client: Client, frame: Frame): void {
    if (client.blocked) {
      if (client.pending) client.dropped += 1;
      client.pending = frame;
      return;
    }
    client.sent += 1;
    const write = () => client.out.write(mjpegPart(frame));
    const written = frame.trace
      ? context.with(frame.trace, () =>
          withSpan('mjpeg part', { kind: SpanKind.PRODUCER, attributes: { 'tributary.frame_bytes': frame.bytes.length } }, write),
        )
      : write();
    if (!written) client.blocked = true;
  }
}
