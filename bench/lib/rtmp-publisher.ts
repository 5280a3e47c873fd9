import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import type { FlvTag } from '@tributary/media';

/**
 * A minimal RTMP publisher for the benchmark (plain handshake, AMF0 commands, one message per FLV
 * tag), so the bench writes every frame itself and knows when it did: the latency it measures
 * starts at that write for RTMP exactly as it does for HTTP push. (ffmpeg as the client would add
 * its own probing and buffering, and hide when each frame left. The ingest's scripted test client
 * lives in services/ingest/src/rtmp/testing and is outside the bench's build.)
 */

/** A video tag that carries a frame (H.264 NALUs), not a sequence header. */
export function isVideoFrame(tag: FlvTag): boolean {
  return tag.type === 9 && tag.body.length > 1 && (tag.body[0] & 0x0f) === 7 && tag.body[1] === 1;
}

function amf0(...values: (string | number | null | Record<string, string | number>)[]): Buffer {
  const parts: Buffer[] = [];
  const str = (s: string) => {
    const b = Buffer.from(s, 'utf8');
    const head = Buffer.alloc(2);
    head.writeUInt16BE(b.length);
    return Buffer.concat([head, b]);
  };
  for (const value of values) {
    if (value === null) parts.push(Buffer.from([0x05]));
    else if (typeof value === 'number') {
      const b = Buffer.alloc(9);
      b[0] = 0x00;
      b.writeDoubleBE(value, 1);
      parts.push(b);
    } else if (typeof value === 'string') parts.push(Buffer.from([0x02]), str(value));
    else {
      parts.push(Buffer.from([0x03]));
      for (const [key, field] of Object.entries(value)) parts.push(str(key), amf0(field));
      parts.push(Buffer.from([0x00, 0x00, 0x09]));
    }
  }
  return Buffer.concat(parts);
}

const CHUNK_SIZE = 60_000;

export class BenchRtmpPublisher {
  private received = '';
  private constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (data: Buffer) => (this.received += data.toString('latin1')));
    socket.on('error', () => undefined);
  }

  /** Connects, handshakes and publishes `key` on app `live`; resolves once NetStream.Publish.Start came back. */
  static async publish(port: number, key: string, timeoutMs = 15_000): Promise<BenchRtmpPublisher> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port }, () => resolve(s));
      s.once('error', reject);
    });
    const client = new BenchRtmpPublisher(socket);
    // Plain handshake: C0 + C1 (time, zero, random); C2 echoes S1.
    const c1 = Buffer.concat([Buffer.alloc(8), randomBytes(1528)]);
    socket.write(Buffer.concat([Buffer.from([3]), c1]));
    await client.until(() => client.received.length >= 1 + 1536 * 2, timeoutMs, 'S0/S1/S2');
    const s1 = Buffer.from(client.received.slice(1, 1 + 1536), 'latin1');
    client.received = client.received.slice(1 + 1536 * 2);
    socket.write(s1);
    const setChunkSize = Buffer.alloc(4);
    setChunkSize.writeUInt32BE(CHUNK_SIZE);
    client.send(2, 1, 0, 0, setChunkSize);
    client.send(3, 20, 0, 0, amf0('connect', 1, { app: 'live', type: 'nonprivate', flashVer: 'FMLE/3.0', tcUrl: `rtmp://127.0.0.1:${port}/live` }));
    client.send(3, 20, 0, 0, amf0('releaseStream', 2, null, key));
    client.send(3, 20, 0, 0, amf0('FCPublish', 3, null, key));
    client.send(3, 20, 0, 0, amf0('createStream', 4, null));
    client.send(3, 20, 1, 0, amf0('publish', 5, null, key, 'live'));
    await client.until(() => /NetStream\.Publish\.(Start|BadName|Failed)/.test(client.received), timeoutMs, 'publish onStatus');
    if (!client.received.includes('NetStream.Publish.Start')) throw new Error('the RTMP publish was refused');
    return client;
  }

  /** Sends a tag as one message (audio on chunk stream 4, video 6, data 5); returns when it was handed to the socket. */
  sendTag(tag: FlvTag): number {
    const payload = tag.type === 18 ? Buffer.concat([amf0('@setDataFrame'), tag.body]) : tag.body;
    this.send(tag.type === 8 ? 4 : tag.type === 9 ? 6 : 5, tag.type, 1, tag.timestamp, payload);
    return Date.now();
  }

  async close(): Promise<void> {
    this.send(3, 20, 1, 0, amf0('FCUnpublish', 6, null, ''));
    this.send(3, 20, 1, 0, amf0('deleteStream', 7, null, 1));
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => resolve(), 5_000);
      this.socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.socket.end();
    });
    this.socket.destroy();
  }

  private send(chunkStreamId: number, typeId: number, messageStreamId: number, timestamp: number, payload: Buffer): void {
    const extended = timestamp >= 0xffffff;
    const header = Buffer.alloc(12 + (extended ? 4 : 0));
    header[0] = chunkStreamId;
    header.writeUIntBE(extended ? 0xffffff : timestamp, 1, 3);
    header.writeUIntBE(payload.length, 4, 3);
    header[7] = typeId;
    header.writeUInt32LE(messageStreamId, 8);
    if (extended) header.writeUInt32BE(timestamp, 12);
    const parts: Buffer[] = [header];
    for (let offset = 0; offset < payload.length; offset += CHUNK_SIZE) {
      if (offset > 0) {
        parts.push(Buffer.from([0xc0 | chunkStreamId]));
        if (extended) parts.push(header.subarray(12));
      }
      parts.push(payload.subarray(offset, offset + CHUNK_SIZE));
    }
    this.socket.write(Buffer.concat(parts));
  }

  private async until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`RTMP: no ${what} within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}
