import { type PlaybackDeliveryFormat, type PlaybackEventMessage, PlaybackSocketEvents } from '@tributary/contracts';
import WebSocket from 'ws';

/** ws frames a message once for many sockets (`Sender.frame`, used by socket.io-adapter too; not in @types/ws). */
const { Sender } = WebSocket as unknown as {
  Sender: { frame(data: Buffer, options: { readOnly: boolean; mask: boolean; rsv1: boolean; opcode: number; fin: boolean }): Buffer[] };
};

/**
 * One consumed event on its way to sockets: the parsed message (for filtering, history and resume)
 * and its JSON, built around the Kafka value's own bytes (never re-serialised: see
 * `messageJson`).
 */
export interface FanoutItem {
  readonly message: PlaybackEventMessage;
  readonly json: string;
}

/** The JSON of a PlaybackEventMessage around the event's raw JSON (the Kafka value, unchanged). */
export function messageJson(rawEvent: string, position: PlaybackEventMessage['position'], traceId: string | undefined): string {
  const trace = traceId === undefined ? '' : `,"trace_id":"${traceId}"`;
  return `{"event":${rawEvent},"position":{"partition":${position.partition},"offset":"${position.offset}"}${trace}}`;
}

/** A Socket.IO EVENT packet for namespace `nsp`, as socket.io-parser writes it: `2/nsp,["name",payload]`. */
export function eventPacket(nsp: string, event: string, payloadJson: string): string {
  return `2${nsp === '/' ? '' : `${nsp},`}["${event}",${payloadJson}]`;
}

/** What the fan-out writes: the packet and its WebSocket frame, built once and shared by every client. */
export interface EncodedPacket {
  readonly data: string;
  /** The Engine.IO message (`4` + data) framed for WebSocket (unmasked text): written as is. */
  readonly frame: readonly Buffer[];
  readonly bytes: number;
}

export function encodePacket(data: string): EncodedPacket {
  // See socket.io-adapter's broadcast: a pre-encoded frame is sent by engine.io's WebSocket
  // transport without copying or re-framing it per client.
  const payload = Buffer.from(`4${data}`);
  const frame = Sender.frame(payload, { readOnly: false, mask: false, rsv1: false, opcode: 1, fin: true });
  return { data, frame, bytes: payload.length };
}

/** The part of an Engine.IO connection the fan-out uses (a fake in unit tests). */
export interface FanoutConnection {
  readonly writeBuffer?: readonly { data?: unknown }[];
  readonly transport?: { readonly socket?: { readonly bufferedAmount?: number } };
  write(data: string, options: { wsPreEncodedFrame?: readonly Buffer[] }): unknown;
}

/** The part of a Socket.IO socket the fan-out uses. */
export interface FanoutSocket {
  readonly id: string;
  /** The Engine.IO connection (its write buffer is private in the typings): a FanoutConnection. */
  readonly conn: object;
  readonly data: unknown;
}

const connectionOf = (socket: FanoutSocket): FanoutConnection => socket.conn as FanoutConnection;

/** Bytes queued for a client and not yet taken by the kernel: Engine.IO's buffer + ws's. */
export function queuedBytes(socket: FanoutSocket): number {
  const conn = connectionOf(socket);
  let bytes = conn.transport?.socket?.bufferedAmount ?? 0;
  const buffer = conn.writeBuffer;
  if (buffer) for (const packet of buffer) bytes += typeof packet.data === 'string' ? packet.data.length : 0;
  return bytes;
}

export function deliveryFormat(socket: FanoutSocket): PlaybackDeliveryFormat {
  return (socket.data as { format?: PlaybackDeliveryFormat } | undefined)?.format ?? 'batch';
}

/** A room's events for one flush, encoded lazily and once, whatever the number of its clients. */
export class RoomPackets {
  private batch: EncodedPacket | undefined;
  private singles: EncodedPacket[] | undefined;

  constructor(
    private readonly nsp: string,
    readonly items: readonly FanoutItem[],
  ) {}

  /** One `playback.events` packet with every item. */
  get batchPacket(): EncodedPacket {
    this.batch ??= encodePacket(eventPacket(this.nsp, PlaybackSocketEvents.events, `[${this.items.map((item) => item.json).join(',')}]`));
    return this.batch;
  }

  /** One `playback.event` packet per item (`format: 'single'` clients). */
  get singlePackets(): readonly EncodedPacket[] {
    this.singles ??= this.items.map((item) => encodePacket(eventPacket(this.nsp, PlaybackSocketEvents.event, item.json)));
    return this.singles;
  }

  /** Writes the room's packets to one client, in its format; returns the packets written. */
  writeTo(socket: FanoutSocket): number {
    if (deliveryFormat(socket) === 'single') {
      for (const packet of this.singlePackets) connectionOf(socket).write(packet.data, { wsPreEncodedFrame: packet.frame });
      return this.items.length;
    }
    const packet = this.batchPacket;
    connectionOf(socket).write(packet.data, { wsPreEncodedFrame: packet.frame });
    return 1;
  }
}
