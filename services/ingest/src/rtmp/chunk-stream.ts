/**
 * RTMP chunk stream: the reader reassembles messages from interleaved chunks (fmt 0–3, one to
 * three byte basic headers, extended timestamps), applying Set Chunk Size and Abort itself; the
 * writer cuts messages into chunks. Both are pure: bytes in, messages out.
 */

export const MessageType = {
  SetChunkSize: 1,
  Abort: 2,
  Acknowledgement: 3,
  UserControl: 4,
  WindowAckSize: 5,
  SetPeerBandwidth: 6,
  Audio: 8,
  Video: 9,
  DataAmf3: 15,
  CommandAmf3: 17,
  DataAmf0: 18,
  CommandAmf0: 20,
  Aggregate: 22,
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

export interface RtmpMessage {
  chunkStreamId: number;
  /** Absolute timestamp in ms (deltas applied, 32-bit wrap-around as on the wire). */
  timestamp: number;
  typeId: number;
  messageStreamId: number;
  payload: Buffer;
}

export const DEFAULT_CHUNK_SIZE = 128;
/** The largest Set Chunk Size accepted: anything bigger is absurd for a publisher and refused. */
export const MAX_CHUNK_SIZE = 1024 * 1024;
/** Chunk stream ids one connection may use (a publisher uses a handful). */
const MAX_CHUNK_STREAMS = 64;

export interface ChunkReaderLimits {
  /** A message claiming more bytes than this ends the connection (a 10 MB claim is refused). */
  maxMessageBytes: number;
  /** At most this many chunk streams may hold a partial message at once. */
  maxOpenChunkStreams?: number;
}

export class RtmpProtocolError extends Error {}

interface ChunkStreamState {
  timestamp: number;
  delta: number;
  length: number;
  typeId: number;
  messageStreamId: number;
  /** The last header of this chunk stream used an extended timestamp (so fmt 3 chunks carry one too). */
  extended: boolean;
  parts: Buffer[];
  received: number;
  /** No header of fmt 0 yet: fmt 1–3 are illegal. */
  initialised: boolean;
}

const newState = (): ChunkStreamState => ({
  timestamp: 0,
  delta: 0,
  length: 0,
  typeId: 0,
  messageStreamId: 0,
  extended: false,
  parts: [],
  received: 0,
  initialised: false,
});

/**
 * Incremental chunk parser. `push()` returns every message completed by the bytes given; bytes of
 * an incomplete chunk are kept (at most one chunk header + payload, bounded by the chunk size).
 * Throws RtmpProtocolError on anything that breaks the protocol or the limits; the connection
 * must then be closed (its state is undefined).
 */
export class ChunkReader {
  private chunkSize = DEFAULT_CHUNK_SIZE;
  private pending: Buffer = Buffer.alloc(0);
  private readonly streams = new Map<number, ChunkStreamState>();
  private readonly maxOpen: number;
  /** Total bytes read (for acknowledgements). */
  bytesRead = 0;

  constructor(private readonly limits: ChunkReaderLimits) {
    this.maxOpen = limits.maxOpenChunkStreams ?? 16;
  }

  get currentChunkSize(): number {
    return this.chunkSize;
  }

  push(data: Buffer): RtmpMessage[] {
    this.bytesRead += data.length;
    this.pending = this.pending.length === 0 ? data : Buffer.concat([this.pending, data]);
    const messages: RtmpMessage[] = [];
    let offset = 0;
    for (;;) {
      const consumed = this.readChunk(this.pending, offset, messages);
      if (consumed === 0) break;
      offset += consumed;
    }
    this.pending = offset === this.pending.length ? Buffer.alloc(0) : Buffer.from(this.pending.subarray(offset));
    return messages;
  }

  /** Parses one chunk at `offset`; returns the bytes it took, 0 when the chunk is not complete yet. */
  private readChunk(buffer: Buffer, start: number, out: RtmpMessage[]): number {
    let offset = start;
    const available = buffer.length - offset;
    if (available < 1) return 0;
    const first = buffer[offset];
    const fmt = first >> 6;
    let chunkStreamId = first & 0x3f;
    offset += 1;
    if (chunkStreamId === 0) {
      if (buffer.length < offset + 1) return 0;
      chunkStreamId = 64 + buffer[offset];
      offset += 1;
    } else if (chunkStreamId === 1) {
      if (buffer.length < offset + 2) return 0;
      chunkStreamId = 64 + buffer[offset] + buffer[offset + 1] * 256;
      offset += 2;
    }
    const headerBytes = [11, 7, 3, 0][fmt];
    if (buffer.length < offset + headerBytes) return 0;
    const known = this.streams.get(chunkStreamId);
    const state = known ?? newState();
    if (fmt !== 0 && !state.initialised) {
      throw new RtmpProtocolError(`chunk stream ${chunkStreamId} starts with a type ${fmt} header (needs type 0 first)`);
    }
    const startsMessage = state.received === 0;
    if (fmt !== 3 && !startsMessage) {
      throw new RtmpProtocolError(`chunk stream ${chunkStreamId}: a new message header while ${state.length - state.received} bytes of the previous one are missing`);
    }
    let timestampField = 0;
    let length = state.length;
    let typeId = state.typeId;
    let messageStreamId = state.messageStreamId;
    if (fmt <= 2) timestampField = buffer.readUIntBE(offset, 3);
    if (fmt <= 1) {
      length = buffer.readUIntBE(offset + 3, 3);
      typeId = buffer[offset + 6];
    }
    if (fmt === 0) messageStreamId = buffer.readUInt32LE(offset + 7);
    offset += headerBytes;
    const extended = fmt === 3 ? state.extended : timestampField === 0xffffff;
    if (extended) {
      if (buffer.length < offset + 4) return 0;
      timestampField = buffer.readUInt32BE(offset);
      offset += 4;
    }
    if (length > this.limits.maxMessageBytes) {
      throw new RtmpProtocolError(`a message of ${length} bytes exceeds the limit of ${this.limits.maxMessageBytes}`);
    }
    const payloadBytes = Math.min(this.chunkSize, length - (startsMessage ? 0 : state.received));
    if (buffer.length < offset + payloadBytes) return 0;

    // The whole chunk is here: commit the header to the chunk stream's state.
    if (!known) {
      if (this.streams.size >= MAX_CHUNK_STREAMS) throw new RtmpProtocolError(`more than ${MAX_CHUNK_STREAMS} chunk streams in use`);
      this.streams.set(chunkStreamId, state);
    }
    if (startsMessage) {
      if (fmt === 0) {
        // As ffmpeg and librtmp read it: a later fmt 3 message adds this header's field again.
        state.timestamp = timestampField;
        state.delta = timestampField;
      } else if (fmt === 1 || fmt === 2) {
        state.delta = timestampField;
        state.timestamp = (state.timestamp + timestampField) >>> 0;
      } else {
        // fmt 3 starting a new message repeats the previous delta.
        state.timestamp = (state.timestamp + state.delta) >>> 0;
      }
      state.length = length;
      state.typeId = typeId;
      state.messageStreamId = messageStreamId;
      state.extended = extended;
      state.initialised = true;
      if (length > payloadBytes) {
        // This message stays partial after this chunk: bound how much is held across chunk streams.
        const open = [...this.streams.values()].filter((s) => s.received > 0);
        if (open.length >= this.maxOpen) throw new RtmpProtocolError(`more than ${this.maxOpen} chunk streams with partial messages`);
        const held = open.reduce((sum, s) => sum + s.length, 0);
        if (held + length > 2 * this.limits.maxMessageBytes) {
          throw new RtmpProtocolError(`partial messages of ${held + length} bytes across chunk streams exceed twice the message limit`);
        }
      }
    }
    if (payloadBytes > 0) {
      state.parts.push(Buffer.from(buffer.subarray(offset, offset + payloadBytes)));
      state.received += payloadBytes;
    }
    offset += payloadBytes;
    if (state.received >= state.length) {
      const payload = state.parts.length === 1 ? state.parts[0] : Buffer.concat(state.parts);
      state.parts = [];
      state.received = 0;
      const message: RtmpMessage = {
        chunkStreamId,
        timestamp: state.timestamp,
        typeId: state.typeId,
        messageStreamId: state.messageStreamId,
        payload,
      };
      this.applyControl(message);
      out.push(message);
    }
    return offset - start;
  }

  /** Set Chunk Size and Abort change how the following chunks are read, so the reader applies them. */
  private applyControl(message: RtmpMessage): void {
    if (message.typeId === MessageType.SetChunkSize) {
      if (message.payload.length < 4) throw new RtmpProtocolError('Set Chunk Size without a 4-byte size');
      const size = message.payload.readUInt32BE(0) & 0x7fffffff;
      if (size < 1 || size > MAX_CHUNK_SIZE) throw new RtmpProtocolError(`Set Chunk Size ${size} is outside 1…${MAX_CHUNK_SIZE}`);
      this.chunkSize = size;
    } else if (message.typeId === MessageType.Abort) {
      if (message.payload.length < 4) throw new RtmpProtocolError('Abort without a 4-byte chunk stream id');
      const aborted = this.streams.get(message.payload.readUInt32BE(0));
      if (aborted) {
        aborted.parts = [];
        aborted.received = 0;
      }
    }
  }
}

/** Cuts outgoing messages into chunks (fmt 0 then fmt 3) at the chunk size this side announced. */
export class ChunkWriter {
  chunkSize = DEFAULT_CHUNK_SIZE;

  write(message: RtmpMessage): Buffer {
    return Buffer.concat(this.chunks(message));
  }

  /** The message's chunks, one buffer each (header + payload), in order. */
  chunks(message: RtmpMessage): Buffer[] {
    const { payload } = message;
    const extended = message.timestamp >= 0xffffff;
    const chunks: Buffer[] = [];
    for (let offset = 0; offset === 0 || offset < payload.length; offset += this.chunkSize) {
      const first = offset === 0;
      const parts = [basicHeader(first ? 0 : 3, message.chunkStreamId)];
      if (first) {
        const header = Buffer.alloc(11);
        header.writeUIntBE(extended ? 0xffffff : message.timestamp, 0, 3);
        header.writeUIntBE(payload.length, 3, 3);
        header[6] = message.typeId;
        header.writeUInt32LE(message.messageStreamId, 7);
        parts.push(header);
      }
      if (extended) {
        const ext = Buffer.alloc(4);
        ext.writeUInt32BE(message.timestamp >>> 0);
        parts.push(ext);
      }
      parts.push(payload.subarray(offset, offset + this.chunkSize));
      chunks.push(Buffer.concat(parts));
    }
    return chunks;
  }
}

export function basicHeader(fmt: number, chunkStreamId: number): Buffer {
  if (chunkStreamId < 2 || chunkStreamId > 65599) throw new RangeError(`chunk stream id ${chunkStreamId} is outside 2…65599`);
  if (chunkStreamId < 64) return Buffer.from([(fmt << 6) | chunkStreamId]);
  if (chunkStreamId < 320) return Buffer.from([fmt << 6, chunkStreamId - 64]);
  const id = chunkStreamId - 64;
  return Buffer.from([(fmt << 6) | 1, id & 0xff, id >> 8]);
}

/** Protocol control and user control messages the server sends (chunk stream 2, message stream 0). */
export const control = {
  setChunkSize: (size: number): RtmpMessage => u32Message(MessageType.SetChunkSize, size),
  windowAckSize: (size: number): RtmpMessage => u32Message(MessageType.WindowAckSize, size),
  acknowledgement: (bytes: number): RtmpMessage => u32Message(MessageType.Acknowledgement, bytes >>> 0),
  setPeerBandwidth: (size: number, limitType: 0 | 1 | 2): RtmpMessage => {
    const payload = Buffer.alloc(5);
    payload.writeUInt32BE(size);
    payload[4] = limitType;
    return { chunkStreamId: 2, timestamp: 0, typeId: MessageType.SetPeerBandwidth, messageStreamId: 0, payload };
  },
  userControl: (event: number, value: number): RtmpMessage => {
    const payload = Buffer.alloc(6);
    payload.writeUInt16BE(event);
    payload.writeUInt32BE(value >>> 0, 2);
    return { chunkStreamId: 2, timestamp: 0, typeId: MessageType.UserControl, messageStreamId: 0, payload };
  },
};

/** User Control event types. */
export const UserControlEvent = {
  StreamBegin: 0,
  StreamEof: 1,
  PingRequest: 6,
  PingResponse: 7,
} as const;
export type UserControlEvent = (typeof UserControlEvent)[keyof typeof UserControlEvent];

function u32Message(typeId: number, value: number): RtmpMessage {
  const payload = Buffer.alloc(4);
  payload.writeUInt32BE(value >>> 0);
  return { chunkStreamId: 2, timestamp: 0, typeId, messageStreamId: 0, payload };
}
