import { TS_PACKET_SIZE } from '@tributary/contracts';

const SYNC_BYTE = 0x47;

export interface TsChunkerOptions {
  /** A chunk is cut as soon as this many whole-packet bytes are pending. */
  targetBytes: number;
}

/**
 * Cuts a byte stream into runs of whole 188-byte MPEG-TS packets. Bytes of an unfinished packet
 * are carried over to the next push, so every chunk is a multiple of 188 bytes whatever the
 * network's read sizes. It does not resynchronise: a non-TS stream is cut on 188-byte boundaries
 * all the same (the transcoder decides what it is), and `misalignedPackets` counts it.
 */
export class TsChunker {
  private parts: Buffer[] = [];
  private length = 0;
  private packetsSeen = 0;
  private misaligned = 0;

  constructor(private readonly options: TsChunkerOptions) {
    if (options.targetBytes < TS_PACKET_SIZE) throw new Error(`targetBytes must be >= ${TS_PACKET_SIZE}`);
  }

  /** Bytes waiting (whole packets plus a partial one). */
  get pendingBytes(): number {
    return this.length;
  }

  get wholePacketBytes(): number {
    return this.length - (this.length % TS_PACKET_SIZE);
  }

  /** Packets whose first byte was not the 0x47 sync byte. */
  get misalignedPackets(): number {
    return this.misaligned;
  }

  get packets(): number {
    return this.packetsSeen;
  }

  /** Adds bytes; returns the chunks that reached the target size (possibly none). */
  push(data: Buffer): Buffer[] {
    if (data.length > 0) {
      this.parts.push(data);
      this.length += data.length;
    }
    return this.length >= this.options.targetBytes ? [this.take()] : [];
  }

  /** All whole packets pending, for a time-bound cut or the end of the stream; undefined if none. */
  drain(): Buffer | undefined {
    return this.wholePacketBytes > 0 ? this.take() : undefined;
  }

  /** Bytes of an unfinished packet left at the end (dropped when the publisher ends). */
  get remainderBytes(): number {
    return this.length % TS_PACKET_SIZE;
  }

  private take(): Buffer {
    const all = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts, this.length);
    const cut = this.length - (this.length % TS_PACKET_SIZE);
    const chunk = all.subarray(0, cut);
    const rest = all.subarray(cut);
    this.parts = rest.length > 0 ? [Buffer.from(rest)] : [];
    this.length = rest.length;
    for (let offset = 0; offset < chunk.length; offset += TS_PACKET_SIZE) {
      if (chunk[offset] !== SYNC_BYTE) this.misaligned += 1;
    }
    this.packetsSeen += chunk.length / TS_PACKET_SIZE;
    return chunk;
  }
}

/** The byte offset of the first packet of the chunk that lacks the sync byte; undefined if none. */
export function firstMisalignedPacket(chunk: Buffer): number | undefined {
  for (let offset = 0; offset < chunk.length; offset += TS_PACKET_SIZE) {
    if (chunk[offset] !== SYNC_BYTE) return offset;
  }
  return undefined;
}

/** True when every packet of the chunk starts with the sync byte. */
export function looksLikeTransportStream(chunk: Buffer): boolean {
  if (chunk.length === 0 || chunk.length % TS_PACKET_SIZE !== 0) return false;
  for (let offset = 0; offset < chunk.length; offset += TS_PACKET_SIZE) {
    if (chunk[offset] !== SYNC_BYTE) return false;
  }
  return true;
}

/**
 * The highest PES presentation timestamp (90 kHz units) that starts in this chunk, from video or
 * audio PES headers; undefined when none starts here. Used to map input chunks to output media
 * time (which chunks a finished segment covers).
 */
export function maxPts(chunk: Buffer): number | undefined {
  let max: number | undefined;
  for (let offset = 0; offset + TS_PACKET_SIZE <= chunk.length; offset += TS_PACKET_SIZE) {
    if (chunk[offset] !== SYNC_BYTE) continue;
    const payloadStart = (chunk[offset + 1] & 0x40) !== 0;
    if (!payloadStart) continue;
    const adaptation = (chunk[offset + 3] >> 4) & 0x3;
    if ((adaptation & 0x1) === 0) continue;
    let p = offset + 4;
    if (adaptation & 0x2) p += 1 + chunk[offset + 4];
    if (p + 14 > offset + TS_PACKET_SIZE) continue;
    if (chunk[p] !== 0 || chunk[p + 1] !== 0 || chunk[p + 2] !== 1) continue;
    const streamId = chunk[p + 3];
    if (streamId < 0xc0 || streamId > 0xef) continue;
    if ((chunk[p + 7] & 0x80) === 0) continue;
    const b = p + 9;
    // Decode the 33-bit PTS exactly: [b]: 0010 PPP1, [b+1..b+2]: 15 bits + marker, [b+3..b+4]: 15 bits + marker.
    const high = (chunk[b] >> 1) & 0x07;
    const mid = ((chunk[b + 1] << 8) | chunk[b + 2]) >> 1;
    const low = ((chunk[b + 3] << 8) | chunk[b + 4]) >> 1;
    const value = high * 2 ** 30 + mid * 2 ** 15 + low;
    if (max === undefined || value > max) max = value;
  }
  return max;
}

/**
 * Whether a packet of the chunk starts a video PES (stream_id 0xE0–0xEF) with the adaptation
 * field's random_access_indicator set (muxers such as ffmpeg's set it on video keyframes): a decoder
 * can start there. ffmpeg sets the flag on every audio frame as well (AAC frames are all random
 * access points: 13 audio against 2 video in 4 s of its output), so the PES stream id decides.
 */
export function hasRandomAccessPoint(chunk: Buffer): boolean {
  for (let offset = 0; offset + TS_PACKET_SIZE <= chunk.length; offset += TS_PACKET_SIZE) {
    if (chunk[offset] !== SYNC_BYTE || (chunk[offset + 1] & 0x40) === 0) continue;
    const adaptation = (chunk[offset + 3] >> 4) & 0x3;
    if ((adaptation & 0x2) === 0 || chunk[offset + 4] === 0 || (chunk[offset + 5] & 0x40) === 0) continue;
    const pes = offset + 5 + chunk[offset + 4];
    if ((adaptation & 0x1) === 0 || pes + 4 > offset + TS_PACKET_SIZE) continue;
    if (chunk[pes] === 0 && chunk[pes + 1] === 0 && chunk[pes + 2] === 1 && (chunk[pes + 3] & 0xf0) === 0xe0) return true;
  }
  return false;
}
