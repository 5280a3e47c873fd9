import { Inject } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  type OnGatewayConnection,
  type OnGatewayDisconnect,
  SubscribeMessage,
  WebSocketGateway,
  WebSocketServer,
} from '@nestjs/websockets';
import {
  PLAYBACK_SOCKET_NAMESPACE,
  type PlaybackClientToServerEvents,
  type PlaybackEventMessage,
  type PlaybackServerToClientEvents,
  PlaybackSocketEvents,
  type PlaybackSocketError,
  type SubscriptionAck,
} from '@tributary/contracts';
import { ROOT_LOGGER } from '@tributary/nest-common';
import { gatewayMetrics, type Logger, SpanKind, withSpan } from '@tributary/telemetry';
import type { Namespace, Socket } from 'socket.io';
import { planSubscriptionChange, streamRoom, ALL_STREAMS_ROOM, subscriptionState } from './playback-subscriptions';
import { type AccessRefusal, StreamAccessService } from './stream-access.service';

type PlaybackNamespace = Namespace<PlaybackClientToServerEvents, PlaybackServerToClientEvents>;
type PlaybackSocket = Socket<PlaybackClientToServerEvents, PlaybackServerToClientEvents>;
type AckResult = Parameters<SubscriptionAck>[0];

/**
 * Sockets in these rooms get no room broadcast: the dashboard's live feed delivers to them itself
 * (replaying a resume, with a per-partition offset floor) or holds them back (too slow to keep up).
 */
export const DIRECT_DELIVERY_ROOM = 'delivery:direct';
export const SLOW_CLIENTS_ROOM = 'delivery:slow';

/** Hooks for features layered on the live feed (dashboard: ring buffers, resume, slow clients). */
export interface PlaybackGatewayExtension {
  onConnection?(socket: PlaybackSocket): void;
  onBroadcast?(message: PlaybackEventMessage): void;
}

/**
 * Socket.IO namespace `/playback` on the HTTP port: every consumed playback event goes to the
 * clients of its stream's room and to the clients that take every stream. Handlers never throw:
 * bad input is answered with an `error` event and the connection stays up.
 */
@WebSocketGateway({ namespace: PLAYBACK_SOCKET_NAMESPACE, cors: { origin: '*' } })
export class PlaybackGateway implements OnGatewayConnection, OnGatewayDisconnect {
  @WebSocketServer()
  private readonly server!: PlaybackNamespace;

  private readonly logger: Logger;
  private readonly extensions: PlaybackGatewayExtension[] = [];

  constructor(
    @Inject(ROOT_LOGGER) rootLogger: Logger,
    readonly access: StreamAccessService,
  ) {
    this.logger = rootLogger.child({ component: 'playback.gateway' });
  }

  /** Emits in call order, so each stream's events reach a client in Kafka order. */
  broadcast(message: PlaybackEventMessage): void {
    // Without FIREHOSE_TOKEN the every-stream room is open to anyone: signed streams stay out of it.
    const rooms = this.access.inFirehose(message.event.stream_id)
      ? [ALL_STREAMS_ROOM, streamRoom(message.event.stream_id)]
      : [streamRoom(message.event.stream_id)];
    // A child of the Kafka `process` span: POST /v1/events → send → process → emit is one trace.
    withSpan(
      'emit playback.event',
      { kind: SpanKind.PRODUCER, attributes: { 'messaging.system': 'socket.io', 'socketio.namespace': PLAYBACK_SOCKET_NAMESPACE } },
      (span) => {
        const members = this.server.adapter.rooms;
        span.setAttribute('socketio.clients', rooms.reduce((sum, room) => sum + (members.get(room)?.size ?? 0), 0));
        this.server.to(rooms).except([DIRECT_DELIVERY_ROOM, SLOW_CLIENTS_ROOM]).emit(PlaybackSocketEvents.event, message);
      },
    );
    gatewayMetrics.emitted().inc({ event: PlaybackSocketEvents.event });
    for (const extension of this.extensions) extension.onBroadcast?.(message);
  }

  extend(extension: PlaybackGatewayExtension): void {
    this.extensions.push(extension);
  }

  /** The `/playback` namespace (undefined until the gateway is bound to the HTTP server). */
  get namespace(): PlaybackNamespace | undefined {
    return this.server;
  }

  /** Connected clients (for logs and metrics). */
  get clientCount(): number {
    return this.server?.sockets.size ?? 0;
  }

  async handleConnection(socket: PlaybackSocket): Promise<void> {
    const auth: unknown = socket.handshake.auth;
    // History and resume replay every stream's past events: with FIREHOSE_TOKEN set they need it.
    (socket.data as { replayAllowed?: boolean }).replayAllowed = this.access.checkFirehose(tokenOf(auth)) === undefined;
    await this.apply(socket, 'handshake', auth);
    for (const extension of this.extensions) extension.onConnection?.(socket);
    gatewayMetrics.clients().set(this.clientCount);
    this.logger.debug({ socketId: socket.id, clients: this.clientCount }, 'client connected');
  }

  handleDisconnect(socket: PlaybackSocket): void {
    gatewayMetrics.clients().set(this.clientCount);
    this.logger.debug({ socketId: socket.id, clients: this.clientCount }, 'client disconnected');
  }

  @SubscribeMessage(PlaybackSocketEvents.subscribe)
  subscribe(@ConnectedSocket() socket: PlaybackSocket, @MessageBody() request: unknown): Promise<AckResult> {
    return this.apply(socket, 'subscribe', request);
  }

  @SubscribeMessage(PlaybackSocketEvents.unsubscribe)
  unsubscribe(@ConnectedSocket() socket: PlaybackSocket, @MessageBody() request: unknown): Promise<AckResult> {
    return this.apply(socket, 'unsubscribe', request);
  }

  /** Applies a subscription change; the result is also the Socket.IO acknowledgement, if asked for. */
  private async apply(socket: PlaybackSocket, during: PlaybackSocketError['during'], request: unknown): Promise<AckResult> {
    const change = planSubscriptionChange(during, request, socket.rooms);
    if (!change.ok) return this.refuse(socket, change.error);
    const refusal = await this.authorize(change.join, tokenOf(request));
    if (refusal) {
      this.logger.debug({ socketId: socket.id, during, code: refusal.code }, 'subscription refused');
      return this.refuse(socket, { ...refusal, during });
    }
    for (const room of change.leave) void socket.leave(room);
    if (change.join.length > 0) void socket.join(change.join);
    const subscriptions = subscriptionState(socket.rooms);
    socket.emit(PlaybackSocketEvents.subscriptions, subscriptions);
    return { ok: true, subscriptions };
  }

  /** Joining every stream needs FIREHOSE_TOKEN (when set); a signed stream needs its playback token. */
  private async authorize(join: readonly string[], token: unknown): Promise<AccessRefusal | undefined> {
    if (join.includes(ALL_STREAMS_ROOM)) {
      const refusal = this.access.checkFirehose(token);
      if (refusal) return refusal;
    }
    const streamIds = join.filter((room) => room.startsWith('stream:')).map((room) => room.slice('stream:'.length));
    return streamIds.length > 0 ? this.access.checkStreams(streamIds, token) : undefined;
  }

  private refuse(socket: PlaybackSocket, error: PlaybackSocketError): AckResult {
    socket.emit(PlaybackSocketEvents.error, error);
    return { ok: false, error };
  }
}

/** `token` of a handshake auth or subscribe payload. */
function tokenOf(payload: unknown): unknown {
  return typeof payload === 'object' && payload !== null ? (payload as { token?: unknown }).token : undefined;
}
