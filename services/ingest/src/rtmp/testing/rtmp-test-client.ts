import { randomBytes } from 'node:crypto';
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { FlvTag } from '@tributary/media';
import { type Amf0Value, decodeAmf0, encodeAmf0 } from '../amf0';
import { ChunkReader, ChunkWriter, control, MessageType, type RtmpMessage } from '../chunk-stream';
import { FLASH_PLAYER_KEY, HANDSHAKE_SIZE, signPacket } from '../handshake';

/**
 * A scripted RTMP publisher for protocol tests: it speaks the protocol through the server's own
 * chunk/AMF0 classes but drives every step explicitly, so tests can bend it (chunk sizes, raw
 * bytes, extended timestamps, aborts, interleaving) where ffmpeg or OBS never would.
 */
export class RtmpTestClient {
  readonly writer = new ChunkWriter();
  private readonly reader = new ChunkReader({ maxMessageBytes: 16 * 1024 * 1024 });
  readonly received: RtmpMessage[] = [];
  private handshakeBytes = Buffer.alloc(0);
  private handshaken = false;
  private waiters: (() => void)[] = [];
  readonly closed: Promise<void>;
  isClosed = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (data: Buffer) => this.onData(data));
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => socket.once('close', () => {
      this.isClosed = true;
      this.notify();
      resolve();
    }));
  }

  static async open(port: number, options: { tls?: { ca: Buffer; servername?: string } } = {}): Promise<RtmpTestClient> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = options.tls
        ? tlsConnect({ host: '127.0.0.1', port, ca: options.tls.ca, servername: options.tls.servername ?? 'localhost' }, () => resolve(s))
        : tcpConnect({ host: '127.0.0.1', port }, () => resolve(s));
      s.once('error', reject);
    });
    return new RtmpTestClient(socket);
  }

  /** C0+C1 (with a Flash Player digest when `digest`), then C2 once S0+S1+S2 arrived. Resolves with S1 and S2. */
  async handshake(digest = true): Promise<{ s1: Buffer; s2: Buffer; c1: Buffer }> {
    const c1 = randomBytes(HANDSHAKE_SIZE);
    c1.writeUInt32BE(0, 0);
    if (digest) {
      c1.writeUInt32BE(0x80000702, 4);
      signPacket(c1, 0, FLASH_PLAYER_KEY);
    } else {
      c1.writeUInt32BE(0, 4);
    }
    this.socket.write(Buffer.concat([Buffer.from([3]), c1]));
    await this.until(() => this.handshakeBytes.length >= 1 + 2 * HANDSHAKE_SIZE || undefined, 5_000, 'S0+S1+S2');
    const s1 = this.handshakeBytes.subarray(1, 1 + HANDSHAKE_SIZE);
    const s2 = this.handshakeBytes.subarray(1 + HANDSHAKE_SIZE, 1 + 2 * HANDSHAKE_SIZE);
    this.socket.write(s1);
    this.handshaken = true;
    const rest = this.handshakeBytes.subarray(1 + 2 * HANDSHAKE_SIZE);
    if (rest.length) this.onData(rest);
    return { s1: Buffer.from(s1), s2: Buffer.from(s2), c1 };
  }

  write(data: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(data);
  }

  send(message: RtmpMessage): void {
    this.write(this.writer.write(message));
  }

  setChunkSize(size: number): void {
    this.send(control.setChunkSize(size));
    this.writer.chunkSize = size;
  }

  command(name: string, transactionId: number, args: Amf0Value[], messageStreamId = 0): void {
    this.send({ chunkStreamId: 3, timestamp: 0, typeId: MessageType.CommandAmf0, messageStreamId, payload: encodeAmf0(name, transactionId, ...args) });
  }

  /** connect → releaseStream → FCPublish → createStream → publish, like ffmpeg; resolves with the publish's onStatus code and description. */
  async publish(streamKey: string, options: { app?: string } = {}): Promise<{ code: string; description: string }> {
    this.command('connect', 1, [{ app: options.app ?? 'live', type: 'nonprivate', flashVer: 'FMLE/3.0', tcUrl: `rtmp://127.0.0.1/${options.app ?? 'live'}` }]);
    await this.until(() => this.commands().find((c) => c.name === '_result' && c.tx === 1) ?? this.commands().find((c) => c.name === '_error'), 10_000, 'connect _result');
    this.command('releaseStream', 2, [null, streamKey]);
    this.command('FCPublish', 3, [null, streamKey]);
    this.command('createStream', 4, [null]);
    await this.until(() => this.commands().find((c) => c.name === '_result' && c.tx === 4), 10_000, 'createStream _result');
    this.command('publish', 5, [null, streamKey, 'live'], 1);
    const status = await this.until(() => this.statuses()[0], 15_000, 'publish onStatus');
    return status;
  }

  /** Decoded AMF0 commands the server sent. */
  commands(): { name: string; tx: number; args: Amf0Value[] }[] {
    return this.received
      .filter((m) => m.typeId === MessageType.CommandAmf0)
      .map((m) => {
        const [name, tx, ...args] = decodeAmf0(m.payload);
        return { name: typeof name === 'string' ? name : '', tx: Number(tx), args };
      });
  }

  statuses(): { code: string; description: string; level: string }[] {
    return this.commands()
      .filter((c) => c.name === 'onStatus')
      .map((c) => c.args[1] as { code: string; description: string; level: string });
  }

  /** Sends one FLV tag as an RTMP message on message stream 1. */
  sendTag(tag: FlvTag, options: { chunkStreamId?: number; timestampOffset?: number } = {}): void {
    this.send(this.tagMessage(tag, options));
  }

  tagMessage(tag: FlvTag, options: { chunkStreamId?: number; timestampOffset?: number } = {}): RtmpMessage {
    const payload = tag.type === 18 ? Buffer.concat([encodeAmf0('@setDataFrame'), tag.body]) : tag.body;
    return {
      chunkStreamId: options.chunkStreamId ?? (tag.type === 8 ? 4 : 6),
      timestamp: (tag.timestamp + (options.timestampOffset ?? 0)) >>> 0,
      typeId: tag.type,
      messageStreamId: 1,
      payload,
    };
  }

  async until<T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = check();
      if (value !== undefined && value !== false) return value;
      if (this.isClosed) throw new Error(`connection closed while waiting for ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(data: Buffer): void {
    if (!this.handshaken) {
      this.handshakeBytes = Buffer.concat([this.handshakeBytes, data]);
      this.notify();
      return;
    }
    this.received.push(...this.reader.push(data));
    this.notify();
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
