import { type BeforeApplicationShutdown, Inject, type OnApplicationBootstrap } from '@nestjs/common';
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
  DashboardSocketEvents,
  parseDeliveryFormat,
  PLAYBACK_SOCKET_NAMESPACE,
  type PlaybackClientToServerEvents,
  type PlaybackNotice,
  type PlaybackServerToClientEvents,
  PlaybackSocketEvents,
  type PlaybackSocketError,
  type SubscriptionAck,
} from '@tributary/contracts';
import { ROOT_LOGGER } from '@tributary/nest-common';
import { fanoutDelayMetrics, gatewayMetrics, type Link, type Logger, SpanKind, startLinkedSpan } from '@tributary/telemetry';
import type { Namespace, Socket } from 'socket.io';
import { FANOUT_OPTIONS, type FanoutOptions } from './fanout.options';
import { planSubscriptionChange, streamRoom, ALL_STREAMS_ROOM, subscriptionState } from './playback-subscriptions';
import { type FanoutItem, RoomPackets } from './room-fanout';
import { SlowClients } from './slow-clients';
import { type AccessRefusal, StreamAccessService } from './stream-access.service';

type PlaybackNamespace = Namespace<PlaybackClientToServerEvents, PlaybackServerToClientEvents>;
type PlaybackSocket = Socket<PlaybackClientToServerEvents, PlaybackServerToClientEvents>;
type AckResult = Parameters<SubscriptionAck>[0];

/**
 * Sockets in this room get no room broadcast: the dashboard's live feed delivers to them itself
 * (replaying a resume, with a per-partition offset floor).
 */
export const DIRECT_DELIVERY_ROOM = 'delivery:direct';
/** Sockets held back for being too slow (the stats feed leaves them out too). */
export const SLOW_CLIENTS_ROOM = 'delivery:slow';

/** A consumed event on its way to the sockets, with a link to its producer span (tracing on). */
export interface OutgoingEvent extends FanoutItem {
  readonly link?: Link;
  /** The Kafka record's timestamp (ms), for tributary_fanout_delay_seconds. */
  readonly producedAt?: number;
}

/** Hooks for features layered on the live feed (dashboard: ring buffers, resume). */
export interface PlaybackGatewayExtension {
  onConnection?(socket: PlaybackSocket): void;
  /** Every flush's events, in consume order. */
  onBroadcast?(items: readonly FanoutItem[]): void;
}

/** The span limit's default: a batch span carries at most this many links. */
const LINKS_PER_SPAN = 128;

/**
 * Socket.IO namespace `/playback` on the HTTP port: every consumed playback event goes to the
 * clients of its stream's room and to the clients that take every stream. Handlers never throw:
 * bad input is answered with an `error` event and the connection stays up.
 *
 * Delivery is coalesced: events consumed within FANOUT_FLUSH_MS go to each room as ONE
 * `playback.events` packet (encoded and WebSocket-framed once per room, written to each client as
 * the same bytes), built around the Kafka values' own JSON. `format: 'single'` clients get the
 * same events as one `playback.event` packet each (also encoded once per room). A client whose
 * queue reaches the high water is held back before anything more is queued (SlowClients).
 */
@WebSocketGateway({ namespace: PLAYBACK_SOCKET_NAMESPACE, cors: { origin: '*' } })
export class PlaybackGateway implements OnGatewayConnection, OnGatewayDisconnect, OnApplicationBootstrap, BeforeApplicationShutdown {
  @WebSocketServer()
  private readonly server!: PlaybackNamespace;

  private readonly logger: Logger;
  private readonly extensions: PlaybackGatewayExtension[] = [];
  private readonly slow: SlowClients<PlaybackSocket>;
  private pending: OutgoingEvent[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private slowTimer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(ROOT_LOGGER) rootLogger: Logger,
    readonly access: StreamAccessService,
    @Inject(FANOUT_OPTIONS) private readonly options: FanoutOptions,
  ) {
    this.logger = rootLogger.child({ component: 'playback.gateway' });
    this.slow = new SlowClients(options, {
      lagging: (socket, queued) => {
        void socket.join(SLOW_CLIENTS_ROOM);
        this.notice(socket, { code: 'lagging', message: `this connection cannot keep up (${queued} bytes waiting): live events are paused until it drains` });
        this.logger.info({ socketId: socket.id, queued }, 'slow client: live events paused');
      },
      recovered: (socket, held) => {
        void socket.leave(SLOW_CLIENTS_ROOM);
        this.notice(socket, { code: 'recovered', message: 'caught up with the backlog: live events resume (resume from your last position to fill the gap)', count: held.dropped });
        this.logger.info({ socketId: socket.id, dropped: held.dropped }, 'slow client recovered');
      },
      tooSlow: (socket, held, queued) => {
        this.notice(socket, { code: 'disconnected_slow', message: 'disconnected: this connection stayed too far behind' });
        this.logger.info({ socketId: socket.id, queued, dropped: held.dropped }, 'slow client disconnected');
        socket.disconnect(true);
      },
    });
  }

  onApplicationBootstrap(): void {
    this.slowTimer = setInterval(() => this.slow.check((id) => this.server?.sockets.get(id)), this.options.slowCheckIntervalMs);
    this.slowTimer.unref();
  }

  /** Shutdown: what was consumed goes out before the sockets close. */
  beforeApplicationShutdown(): void {
    if (this.slowTimer) clearInterval(this.slowTimer);
    this.flush();
  }

  /**
   * Queues consumed events for the next flush (in call order, so each stream's events reach a
   * client in Kafka order). Flushes at once when FANOUT_MAX_BATCH_EVENTS are pending.
   */
  broadcast(items: readonly OutgoingEvent[]): void {
    for (const item of items) this.pending.push(item);
    if (this.pending.length >= this.options.maxBatchEvents || this.options.flushMs === 0) this.flush();
    else this.flushTimer ??= setTimeout(() => this.flush(), this.options.flushMs);
  }

  /** Writes every pending event: one packet per room (per event for `single` clients). */
  flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const items = this.pending;
    if (items.length === 0 || !this.server) return;
    this.pending = [];
    // One trace per event: the producer's. This span links to each event's producer span (at most
    // LINKS_PER_SPAN per span) rather than being one span per event per client.
    const spans = [];
    if (items[0].link) {
      for (let from = 0; from < items.length; from += LINKS_PER_SPAN) {
        const chunk = items.slice(from, from + LINKS_PER_SPAN);
        spans.push(
          startLinkedSpan(
            `emit ${PlaybackSocketEvents.events}`,
            chunk.map((item) => item.link),
            {
              kind: SpanKind.PRODUCER,
              attributes: { 'messaging.system': 'socket.io', 'socketio.namespace': PLAYBACK_SOCKET_NAMESPACE, 'messaging.batch.message_count': chunk.length },
            },
          ),
        );
      }
    }
    const byRoom = new Map<string, OutgoingEvent[]>();
    const add = (room: string, item: OutgoingEvent) => {
      const list = byRoom.get(room);
      if (list) list.push(item);
      else byRoom.set(room, [item]);
    };
    for (const item of items) {
      const streamId = item.message.event.stream_id;
      add(streamRoom(streamId), item);
      // Without FIREHOSE_TOKEN the every-stream room is open to anyone: signed streams stay out of it.
      if (this.access.inFirehose(streamId)) add(ALL_STREAMS_ROOM, item);
    }
    const rooms = this.server.adapter.rooms;
    const direct = rooms.get(DIRECT_DELIVERY_ROOM);
    const sockets = this.server.sockets;
    let clients = 0;
    let dropped = 0;
    const now = Date.now();
    for (const [room, roomItems] of byRoom) {
      const members = rooms.get(room);
      if (!members) continue;
      const packets = new RoomPackets(PLAYBACK_SOCKET_NAMESPACE, roomItems);
      for (const socketId of members) {
        if (direct?.has(socketId)) continue;
        const socket = sockets.get(socketId);
        if (!socket) continue;
        if (!this.slow.admit(socket, roomItems.length, now)) {
          dropped += roomItems.length;
          continue;
        }
        packets.writeTo(socket);
        clients += 1;
      }
    }
    gatewayMetrics.emitted().inc({ event: PlaybackSocketEvents.event }, items.length);
    if (items[0].producedAt !== undefined) fanoutDelayMetrics.delay().observe({ stage: 'written' }, (Date.now() - items[0].producedAt) / 1000);
    if (dropped > 0) gatewayMetrics.dropped().inc({ reason: 'backpressure' }, dropped);
    for (const span of spans) {
      span.setAttribute('socketio.clients', clients);
      span.end();
    }
    for (const extension of this.extensions) extension.onBroadcast?.(items);
  }

  /**
   * Sends events to one socket in its format (history, resume, direct delivery), unless it is held
   * back. Returns false when it was held back (the events count as dropped).
   */
  sendTo(socket: Socket, items: readonly FanoutItem[]): boolean {
    if (items.length === 0) return true;
    if (!this.slow.admit(socket, items.length)) {
      gatewayMetrics.dropped().inc({ reason: 'backpressure' }, items.length);
      return false;
    }
    new RoomPackets(PLAYBACK_SOCKET_NAMESPACE, items).writeTo(socket);
    return true;
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

  /** Clients held back right now. */
  get heldBackCount(): number {
    return this.slow.size;
  }

  /** Checks the held-back clients now (tests; otherwise every SLOW_CLIENT_CHECK_INTERVAL_MS). */
  checkSlowClients(now = Date.now()): void {
    this.slow.check((id) => this.server?.sockets.get(id), now);
  }

  notice(socket: Socket, notice: PlaybackNotice): void {
    socket.emit(DashboardSocketEvents.notice, notice);
  }

  async handleConnection(socket: PlaybackSocket): Promise<void> {
    const auth: unknown = socket.handshake.auth;
    const format = parseDeliveryFormat(auth, socket.handshake.query);
    // Before anything is sent: history and resume go out in this format too.
    (socket.data as { format?: string }).format = format.ok ? format.format : 'batch';
    if (!format.ok) this.refuse(socket, { code: 'invalid_request', message: format.message, during: 'handshake' });
    // History and resume replay every stream's past events: with FIREHOSE_TOKEN set they need it.
    (socket.data as { replayAllowed?: boolean }).replayAllowed = this.access.checkFirehose(tokenOf(auth)) === undefined;
    await this.apply(socket, 'handshake', auth);
    for (const extension of this.extensions) extension.onConnection?.(socket);
    gatewayMetrics.clients().set(this.clientCount);
    this.logger.debug({ socketId: socket.id, clients: this.clientCount }, 'client connected');
  }

  handleDisconnect(socket: PlaybackSocket): void {
    this.slow.forget(socket.id);
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
