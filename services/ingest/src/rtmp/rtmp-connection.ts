import type { Socket } from 'node:net';
import { type Amf0Object, type Amf0Value, decodeAmf0, encodeAmf0 } from './amf0';
import { ChunkReader, ChunkWriter, control, MessageType, type RtmpMessage, RtmpProtocolError, UserControlEvent } from './chunk-stream';
import { checkAudioCodec, checkVideoCodec, flvHeader, flvTag, FlvTagType } from './flv';
import { HANDSHAKE_SIZE, RTMP_VERSION, serverHandshake } from './handshake';

/** Where a publish's FLV goes once it is authorised (the remuxer's stdin). */
export interface RtmpMediaTarget {
  /** False when full: the connection stops reading its socket until `drain`. */
  write(data: Buffer): boolean;
  onceDrain(listener: () => void): void;
  /** The publisher is done: unpublished (FCUnpublish/deleteStream), disconnected, or cut by ingest (with why). */
  finish(how: 'unpublished' | 'disconnected' | 'refused', reason?: string): void;
}

/** A publish refused at `publish`: the onStatus code and description the publisher sees, and a metric reason. */
export class RtmpPublishRefused extends Error {
  constructor(
    readonly reason: 'unknown-key' | 'disabled' | 'busy' | 'capacity' | 'unavailable',
    description: string,
    readonly code = 'NetStream.Publish.BadName',
  ) {
    super(description);
  }
}

export interface RtmpPublishHandler {
  /** Authorises the key and claims the stream; resolves with where media goes, or rejects with RtmpPublishRefused. */
  startPublish(streamKey: string, connection: RtmpConnection): Promise<RtmpMediaTarget>;
}

export interface RtmpConnectionOptions {
  /** The RTMP application publishers connect to (`rtmp://host/<app>`). */
  app: string;
  maxMessageBytes: number;
  /** TCP accept → publish accepted must take at most this long. */
  setupTimeoutMs: number;
  /** After publish, no audio/video message (while not paused by backpressure) for this long closes the connection. */
  mediaTimeoutMs: number;
  /** ffmpeg reads Enhanced RTMP (HEVC/AV1/VP9 FourCC). */
  enhancedRtmp: boolean;
  /** Outgoing chunk size (announced with Set Chunk Size). */
  chunkSize?: number;
  windowAckSize?: number;
}

export interface RtmpConnectionEvents {
  bytesIn?: (bytes: number) => void;
  /** Why the connection closed (for the log; never carries the stream key). */
  closed?: (reason: string) => void;
  refused?: (reason: string) => void;
}

type Phase = 'handshake-c0c1' | 'handshake-c2' | 'connected' | 'publishing' | 'closed';

const PUBLISH_STREAM_ID = 1;
const COMMAND_CHUNK_STREAM = 3;
const STATUS_CHUNK_STREAM = 5;

/**
 * One RTMP connection, publish only: handshake, chunk reassembly, protocol control, the AMF0
 * command sequence of OBS/ffmpeg (connect → releaseStream/FCPublish → createStream → publish →
 * FCUnpublish/deleteStream) and the media messages, handed on as FLV. Any protocol error, limit
 * or timeout closes the socket; nothing else on the server is affected.
 */
export class RtmpConnection {
  private phase: Phase = 'handshake-c0c1';
  private handshakeBuffer = Buffer.alloc(0);
  private readonly reader: ChunkReader;
  private readonly writer = new ChunkWriter();
  private peerWindowAckSize = 0;
  private lastAckAt = 0;
  private target?: RtmpMediaTarget;
  private publishing = false;
  private setupTimer?: NodeJS.Timeout;
  private mediaTimer?: NodeJS.Timeout;
  private lastMediaAt = 0;
  private wroteHeader = false;
  private closeReason?: string;
  /** Set once the media target ended the publish (so a socket close does not finish it twice). */
  private finished = false;
  app?: string;
  tcUrl?: string;

  constructor(
    readonly socket: Socket,
    private readonly options: RtmpConnectionOptions,
    private readonly handler: RtmpPublishHandler,
    private readonly events: RtmpConnectionEvents = {},
  ) {
    this.reader = new ChunkReader({ maxMessageBytes: options.maxMessageBytes });
    socket.setNoDelay(true);
    socket.on('data', (data: Buffer) => this.onData(data));
    socket.on('error', (error) => this.close(`socket error: ${error.message}`));
    socket.on('close', () => this.close('the publisher closed the connection'));
    this.setupTimer = setTimeout(() => this.close(`no publish within ${options.setupTimeoutMs} ms of connecting`), options.setupTimeoutMs);
  }

  get closed(): boolean {
    return this.phase === 'closed';
  }

  /** Ends the connection (idempotent): finishes a running publish, then destroys the socket. */
  close(reason: string): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    this.closeReason = reason;
    clearTimeout(this.setupTimer);
    clearInterval(this.mediaTimer);
    if (this.target && !this.finished) {
      this.finished = true;
      this.target.finish('disconnected', reason);
    }
    // end() flushes what we queued (an onStatus error) before the FIN; destroy follows.
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1_000).unref();
    this.events.closed?.(reason);
  }

  get reasonClosed(): string | undefined {
    return this.closeReason;
  }

  private onData(data: Buffer): void {
    if (this.phase === 'closed') return;
    this.events.bytesIn?.(data.length);
    try {
      if (this.phase === 'handshake-c0c1' || this.phase === 'handshake-c2') {
        this.handshakeBuffer = Buffer.concat([this.handshakeBuffer, data]);
        this.handshake();
        return;
      }
      this.onChunks(data);
    } catch (error) {
      this.close(error instanceof RtmpProtocolError || error instanceof Error ? `protocol error: ${error.message}` : 'protocol error');
    }
  }

  private handshake(): void {
    if (this.phase === 'handshake-c0c1') {
      if (this.handshakeBuffer.length < 1) return;
      const version = this.handshakeBuffer[0];
      if (version !== RTMP_VERSION) throw new RtmpProtocolError(`handshake version ${version} (only plain RTMP, version 3, is served)`);
      if (this.handshakeBuffer.length < 1 + HANDSHAKE_SIZE) return;
      const c1 = this.handshakeBuffer.subarray(1, 1 + HANDSHAKE_SIZE);
      this.socket.write(serverHandshake(Buffer.from(c1)).response);
      this.handshakeBuffer = this.handshakeBuffer.subarray(1 + HANDSHAKE_SIZE);
      this.phase = 'handshake-c2';
    }
    if (this.handshakeBuffer.length < HANDSHAKE_SIZE) return;
    // C2 echoes S1; clients differ in what they put there, so it is not checked.
    const rest = this.handshakeBuffer.subarray(HANDSHAKE_SIZE);
    this.handshakeBuffer = Buffer.alloc(0);
    this.phase = 'connected';
    if (rest.length > 0) this.onChunks(Buffer.from(rest));
  }

  private onChunks(data: Buffer): void {
    const messages = this.reader.push(data);
    this.acknowledge();
    for (const message of messages) {
      if (this.phase === 'closed') return;
      this.onMessage(message);
    }
  }

  private acknowledge(): void {
    if (this.peerWindowAckSize <= 0) return;
    if (this.reader.bytesRead - this.lastAckAt < this.peerWindowAckSize) return;
    this.lastAckAt = this.reader.bytesRead;
    this.send(control.acknowledgement(this.reader.bytesRead));
  }

  private onMessage(message: RtmpMessage): void {
    switch (message.typeId) {
      case MessageType.SetChunkSize:
      case MessageType.Abort:
      case MessageType.Acknowledgement:
      case MessageType.SetPeerBandwidth:
        return; // applied by the reader, or nothing to do for a publish-only server
      case MessageType.WindowAckSize:
        if (message.payload.length >= 4) this.peerWindowAckSize = message.payload.readUInt32BE(0);
        return;
      case MessageType.UserControl:
        return this.onUserControl(message.payload);
      case MessageType.CommandAmf0:
        return this.onCommand(message);
      case MessageType.DataAmf0:
        return this.onData0(message);
      case MessageType.Audio:
      case MessageType.Video:
        return this.onMedia(message);
      case MessageType.CommandAmf3:
      case MessageType.DataAmf3:
        throw new RtmpProtocolError('AMF3 messages are not supported (connect with objectEncoding 0)');
      case MessageType.Aggregate:
        throw new RtmpProtocolError('aggregate messages are not supported by this publish-only server');
      default:
        return; // unknown types are ignored, as the spec allows
    }
  }

  private onUserControl(payload: Buffer): void {
    if (payload.length < 6) return;
    if (payload.readUInt16BE(0) === UserControlEvent.PingRequest) {
      this.send(control.userControl(UserControlEvent.PingResponse, payload.readUInt32BE(2)));
    }
  }

  private onCommand(message: RtmpMessage): void {
    const [name, transactionId, commandObject, ...args] = decodeAmf0(message.payload);
    const tx = typeof transactionId === 'number' ? transactionId : 0;
    switch (name) {
      case 'connect':
        return this.onConnect(tx, isObject(commandObject) ? commandObject : {});
      case 'releaseStream':
      case 'FCPublish':
        if (tx > 0) this.command('_result', tx, null, undefined);
        return;
      case 'createStream':
        this.command('_result', tx, null, PUBLISH_STREAM_ID);
        return;
      case 'publish':
        return this.onPublish(message.messageStreamId, args[0]);
      case 'FCUnpublish':
      case 'deleteStream':
      case 'closeStream':
        return this.onUnpublish();
      case 'play':
        this.status('error', 'NetStream.Play.Failed', 'this server accepts publishing only; watch through the HLS playback URL', message.messageStreamId);
        return this.close('a play request (publish-only server)');
      default:
        return; // getStreamLength, _checkbw, … are not needed for publishing
    }
  }

  private onConnect(tx: number, command: Amf0Object): void {
    if (this.phase !== 'connected' || this.app !== undefined) throw new RtmpProtocolError('connect sent twice');
    const app = typeof command.app === 'string' ? command.app.replace(/\?.*$/, '').replace(/\/+$/, '') : '';
    this.app = app;
    this.tcUrl = typeof command.tcUrl === 'string' ? command.tcUrl : undefined;
    if (app !== this.options.app) {
      this.command('_error', tx, null, {
        level: 'error',
        code: 'NetConnection.Connect.Rejected',
        description: `unknown application '${app}': publish to rtmp://<host>/${this.options.app} with the stream key as the stream name`,
      });
      this.close(`connect to unknown application '${app}'`);
      return;
    }
    this.writer.chunkSize = this.options.chunkSize ?? 4096;
    this.send(control.windowAckSize(this.options.windowAckSize ?? 2_500_000));
    this.send(control.setPeerBandwidth(this.options.windowAckSize ?? 2_500_000, 2));
    this.send(control.setChunkSize(this.writer.chunkSize));
    this.command(
      '_result',
      tx,
      { fmsVer: 'FMS/3,5,7,7009', capabilities: 31, mode: 1 },
      { level: 'status', code: 'NetConnection.Connect.Success', description: 'Connection succeeded.', objectEncoding: 0 },
    );
  }

  private onPublish(messageStreamId: number, name: Amf0Value): void {
    if (this.app === undefined) throw new RtmpProtocolError('publish before connect');
    if (this.publishing || this.target) throw new RtmpProtocolError('publish sent twice on one connection');
    this.publishing = true;
    // OBS sends the key as the stream name; ffmpeg splits rtmp://host/live/<key> the same way.
    // A query string (some encoders append ?params) is not part of the key.
    const streamKey = typeof name === 'string' ? name.replace(/\?.*$/, '') : '';
    this.handler.startPublish(streamKey, this).then(
      (target) => {
        if (this.phase === 'closed') {
          target.finish('disconnected', this.closeReason);
          return;
        }
        this.target = target;
        this.phase = 'publishing';
        clearTimeout(this.setupTimer);
        this.send(control.userControl(UserControlEvent.StreamBegin, messageStreamId));
        this.status('status', 'NetStream.Publish.Start', 'Publishing started.', messageStreamId);
        this.lastMediaAt = Date.now();
        const every = Math.max(50, Math.min(1_000, Math.floor(this.options.mediaTimeoutMs / 4)));
        this.mediaTimer = setInterval(() => this.checkMedia(), every);
      },
      (error: unknown) => {
        const refusal = error instanceof RtmpPublishRefused ? error : new RtmpPublishRefused('unavailable', 'the publish could not be started; retry shortly');
        this.events.refused?.(refusal.reason);
        if (this.phase === 'closed') return;
        this.status('error', refusal.code, refusal.message, messageStreamId);
        this.close(`publish refused (${refusal.reason}): ${refusal.message}`);
      },
    );
  }

  private checkMedia(): void {
    // Paused by backpressure, the publisher cannot send: that is not silence.
    if (this.socket.isPaused()) this.lastMediaAt = Date.now();
    const silentMs = Date.now() - this.lastMediaAt;
    if (silentMs >= this.options.mediaTimeoutMs) this.close(`no audio or video for ${silentMs} ms (timeout ${this.options.mediaTimeoutMs} ms)`);
  }

  private onUnpublish(): void {
    if (!this.target || this.finished) return;
    this.finished = true;
    this.target.finish('unpublished');
    this.status('status', 'NetStream.Unpublish.Success', 'Stopped publishing.', PUBLISH_STREAM_ID);
    this.close('the publisher unpublished');
  }

  private onData0(message: RtmpMessage): void {
    if (!this.target) return;
    const values = decodeAmf0(message.payload);
    // `@setDataFrame onMetaData {…}`: FLV files carry it as a script tag `onMetaData {…}`.
    const [first, ...rest] = values;
    const body = first === '@setDataFrame' ? encodeAmf0(...rest) : message.payload;
    this.writeTag(FlvTagType.Script, message.timestamp, body);
  }

  private onMedia(message: RtmpMessage): void {
    if (!this.target) return; // media before the publish was accepted is dropped
    if (message.payload.length === 0) return;
    this.lastMediaAt = Date.now();
    const check = message.typeId === MessageType.Video ? checkVideoCodec(message.payload, this.options.enhancedRtmp) : checkAudioCodec(message.payload);
    if (!check.ok) {
      this.status('error', 'NetStream.Publish.Rejected', check.reason, message.messageStreamId);
      this.events.refused?.('codec');
      if (!this.finished) {
        this.finished = true;
        this.target.finish('refused', check.reason);
      }
      this.close(`unsupported media: ${check.reason}`);
      return;
    }
    this.writeTag(message.typeId === MessageType.Video ? FlvTagType.Video : FlvTagType.Audio, message.timestamp, message.payload);
  }

  private writeTag(type: FlvTagType, timestamp: number, body: Buffer): void {
    if (!this.target || this.finished) return;
    const header = this.wroteHeader ? [] : [flvHeader()];
    this.wroteHeader = true;
    const ok = this.target.write(header.length ? Buffer.concat([...header, flvTag(type, timestamp, body)]) : flvTag(type, timestamp, body));
    if (!ok && !this.socket.isPaused()) {
      // The remuxer (and behind it Kafka) is behind: stop reading until it drains.
      this.socket.pause();
      this.target.onceDrain(() => {
        if (this.phase !== 'closed') this.socket.resume();
      });
    }
  }

  private command(name: string, tx: number, ...args: (Amf0Value | Amf0Object)[]): void {
    this.send({ chunkStreamId: COMMAND_CHUNK_STREAM, timestamp: 0, typeId: MessageType.CommandAmf0, messageStreamId: 0, payload: encodeAmf0(name, tx, ...args) });
  }

  private status(level: 'status' | 'error', code: string, description: string, messageStreamId: number): void {
    this.send({
      chunkStreamId: STATUS_CHUNK_STREAM,
      timestamp: 0,
      typeId: MessageType.CommandAmf0,
      messageStreamId,
      payload: encodeAmf0('onStatus', 0, null, { level, code, description }),
    });
  }

  private send(message: RtmpMessage): void {
    if (this.socket.destroyed || this.socket.writableEnded) return;
    this.socket.write(this.writer.write(message));
  }
}

function isObject(value: Amf0Value): value is Amf0Object {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}
