/** One top-level ISO-BMFF box, header included. */
export interface Box {
  type: string;
  data: Buffer;
}

/** The largest top-level box accepted (a part's mdat at the top rendition is well under 1 MiB). */
export const DEFAULT_MAX_BOX_BYTES = 32 * 1024 * 1024;

/**
 * Reassembles top-level ISO-BMFF boxes from a byte stream cut anywhere (a pipe's chunks): `push`
 * returns the boxes completed by a chunk, in order. Holds at most one incomplete box; a box
 * declaring more than `maxBoxBytes` (or less than its own header) is rejected, since a reader
 * out of step with the stream would otherwise wait for gigabytes.
 */
export class BoxReader {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(private readonly maxBoxBytes = DEFAULT_MAX_BOX_BYTES) {}

  /** Bytes held for a box not yet complete. */
  get buffered(): number {
    return this.pendingBytes;
  }

  push(chunk: Buffer): Box[] {
    if (chunk.length === 0) return [];
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    const boxes: Box[] = [];
    for (;;) {
      const size = this.nextSize();
      if (size === undefined || this.pendingBytes < size) break;
      const all = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.pendingBytes);
      const data = all.subarray(0, size);
      boxes.push({ type: data.toString('latin1', 4, 8), data });
      const rest = all.subarray(size);
      this.pending = rest.length > 0 ? [rest] : [];
      this.pendingBytes = rest.length;
    }
    return boxes;
  }

  /** The size of the box at the head of the buffer, once its header is in (undefined before). */
  private nextSize(): number | undefined {
    if (this.pendingBytes < 8) return undefined;
    const head = this.head(16);
    const size32 = head.readUInt32BE(0);
    let size: number;
    let header = 8;
    if (size32 === 1) {
      if (head.length < 16) return undefined;
      const size64 = head.readBigUInt64BE(8);
      size = size64 > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(size64);
      header = 16;
    } else if (size32 === 0) {
      throw new Error(`box ${head.toString('latin1', 4, 8)} extends to the end of the stream, which a live reader cannot wait for`);
    } else {
      size = size32;
    }
    if (size < header) throw new Error(`box ${JSON.stringify(head.toString('latin1', 4, 8))} declares ${size} bytes, less than its header: not ISO-BMFF`);
    if (size > this.maxBoxBytes) throw new Error(`box ${JSON.stringify(head.toString('latin1', 4, 8))} declares ${size} bytes, more than the ${this.maxBoxBytes} accepted`);
    return size;
  }

  /** Up to `bytes` bytes from the start of the buffer (joining only as many chunks as needed). */
  private head(bytes: number): Buffer {
    if (this.pending[0].length >= bytes || this.pending.length === 1) return this.pending[0];
    const parts: Buffer[] = [];
    let length = 0;
    for (const part of this.pending) {
      parts.push(part);
      length += part.length;
      if (length >= bytes) break;
    }
    return Buffer.concat(parts, length);
  }
}

/** The child boxes inside `payload` (a container box's body), in order; malformed sizes end the walk. */
export function childBoxes(payload: Buffer): Box[] {
  const boxes: Box[] = [];
  let at = 0;
  while (at + 8 <= payload.length) {
    let size = payload.readUInt32BE(at);
    let header = 8;
    if (size === 1) {
      if (at + 16 > payload.length) break;
      size = Number(payload.readBigUInt64BE(at + 8));
      header = 16;
    } else if (size === 0) {
      size = payload.length - at;
    }
    if (size < header || at + size > payload.length) throw new Error(`box ${JSON.stringify(payload.toString('latin1', at + 4, at + 8))} overruns its container`);
    boxes.push({ type: payload.toString('latin1', at + 4, at + 8), data: payload.subarray(at, at + size) });
    at += size;
  }
  return boxes;
}

/** A box's body (after its 8- or 16-byte header). */
export function boxBody(box: Box): Buffer {
  return box.data.readUInt32BE(0) === 1 ? box.data.subarray(16) : box.data.subarray(8);
}
