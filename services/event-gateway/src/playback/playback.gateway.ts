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
import type { Logger } from '@tributary/telemetry';
import type { Namespace, Socket } from 'socket.io';
import { planSubscriptionChange, streamRoom, ALL_STREAMS_ROOM, subscriptionState } from './playback-subscriptions';

type PlaybackNamespace = Namespace<PlaybackClientToServerEvents, PlaybackServerToClientEvents>;
type PlaybackSocket = Socket<PlaybackClientToServerEvents, PlaybackServerToClientEvents>;
type AckResult = Parameters<SubscriptionAck>[0];

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

  constructor(@Inject(ROOT_LOGGER) rootLogger: Logger) {
    this.logger = rootLogger.child({ component: 'playback.gateway' });
  }

  /** Emits in call order, so each stream's events reach a client in Kafka order. */
  broadcast(message: PlaybackEventMessage): void {
    this.server.to([ALL_STREAMS_ROOM, streamRoom(message.event.stream_id)]).emit(PlaybackSocketEvents.event, message);
  }

  /** Connected clients (for logs and metrics). */
  get clientCount(): number {
    return this.server?.sockets.size ?? 0;
  }

  handleConnection(socket: PlaybackSocket): void {
    this.apply(socket, 'handshake', socket.handshake.auth);
    this.logger.debug({ socketId: socket.id, clients: this.clientCount }, 'client connected');
  }

  handleDisconnect(socket: PlaybackSocket): void {
    this.logger.debug({ socketId: socket.id, clients: this.clientCount }, 'client disconnected');
  }

  @SubscribeMessage(PlaybackSocketEvents.subscribe)
  subscribe(@ConnectedSocket() socket: PlaybackSocket, @MessageBody() request: unknown): AckResult {
    return this.apply(socket, 'subscribe', request);
  }

  @SubscribeMessage(PlaybackSocketEvents.unsubscribe)
  unsubscribe(@ConnectedSocket() socket: PlaybackSocket, @MessageBody() request: unknown): AckResult {
    return this.apply(socket, 'unsubscribe', request);
  }

  /** Applies a subscription change; the result is also the Socket.IO acknowledgement, if asked for. */
  private apply(socket: PlaybackSocket, during: PlaybackSocketError['during'], request: unknown): AckResult {
    const change = planSubscriptionChange(during, request, socket.rooms);
    if (!change.ok) {
      socket.emit(PlaybackSocketEvents.error, change.error);
      return { ok: false, error: change.error };
    }
    for (const room of change.leave) void socket.leave(room);
    if (change.join.length > 0) void socket.join(change.join);
    const subscriptions = subscriptionState(socket.rooms);
    socket.emit(PlaybackSocketEvents.subscriptions, subscriptions);
    return { ok: true, subscriptions };
  }
}
