import type { Writable } from 'node:stream';
import { type Context, context, SpanKind } from '@opentelemetry/api';
import { withSpan } from '@tributary/telemetry';

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

/**
 * The latest frame per stream and the MJPEG clients watching it. A client whose socket is not
 * keeping up (write() returned false) gets only the newest frame once it drains: frames are
 * dropped, never queued, so one slow viewer costs one frame of memory.
 */
export class FrameHub {
  private readonly latest = new Map<string, Frame>();
  private readonly clients = new Map<string, Set<Client>>();

  constructor(private readonly maxStreams = 10_000) {}

  latestFrame(streamId: string): Frame | undefined {
    return this.latest.get(streamId);
  }

  clientCount(streamId: string): number {
    return this.clients.get(streamId)?.size ?? 0;
  }

  publish(streamId: string, frame: Frame): void {
    const previous = this.latest.get(streamId);
    if (previous && previous.timeMs > frame.timeMs) return; // out of order (partitions/replays)
    this.latest.delete(streamId);
    this.latest.set(streamId, frame);
    if (this.latest.size > this.maxStreams) this.latest.delete(this.latest.keys().next().value!);
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
