import { type BeforeApplicationShutdown, Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import {
  DashboardSocketEvents,
  parseResumeRequest,
  type PlaybackEventMessage,
  type PlaybackNotice,
  PlaybackSocketEvents,
  type ResumeRequest,
  Topics,
} from '@tributary/contracts';
import type { KafkaConfig } from '@tributary/kafka';
import { ROOT_LOGGER } from '@tributary/nest-common';
import { KAFKA_CLIENT, KAFKA_CONFIG, TopicNames } from '@tributary/nest-kafka';
import { gatewayMetrics, type Logger } from '@tributary/telemetry';
import type { Kafka } from 'kafkajs';
import type { Socket } from 'socket.io';
import { ALL_STREAMS_ROOM, streamRoom } from '../playback/playback-subscriptions';
import { DIRECT_DELIVERY_ROOM, PlaybackGateway, type PlaybackGatewayExtension, SLOW_CLIENTS_ROOM } from '../playback/playback.gateway';
import { planReplay, replay } from './resume-reader';
import { DASHBOARD_OPTIONS, type DashboardOptions } from './dashboard.options';

interface DirectClient {
  socket: Socket;
  phase: 'replaying' | 'live';
  /** Live events that arrived while replaying, delivered after the replay. */
  buffer: PlaybackEventMessage[];
  /** Partition → next offset this client may receive (exactly-once across replay and live). */
  floor: Map<number, bigint>;
  cancelled: boolean;
}

interface SlowClient {
  since: number;
  dropped: number;
}

/** Keeps the last `capacity` items (oldest first). */
class Ring<T> {
  private readonly items: T[] = [];
  constructor(private readonly capacity: number) {}
  push(item: T): void {
    this.items.push(item);
    if (this.items.length > this.capacity) this.items.shift();
  }
  get values(): readonly T[] {
    return this.items;
  }
}

/** History is opt-in (`auth: { history: true }`), so plain clients keep getting exactly the events produced after they connected. */
function wantsHistory(auth: unknown): boolean {
  return typeof auth === 'object' && auth !== null && (auth as { history?: unknown }).history === true;
}

/** Set by the gateway at handshake: FIREHOSE_TOKEN, when configured, was presented. */
function replayAllowed(socket: Socket): boolean {
  return (socket.data as { replayAllowed?: boolean } | undefined)?.replayAllowed === true;
}

/**
 * The dashboard's layer over the live Socket.IO feed:
 * - history: a new client that asks for it (`auth.history: true`, the dashboard does) first gets
 *   the last events of its streams (per-stream ring buffers and one for all streams), so the page
 *   is never empty;
 * - resume: a client that reconnects with the last position it saw per partition gets what it
 *   missed (a short-lived consumer reads those offsets), then live events, with a per-partition
 *   offset floor so nothing is sent twice or skipped;
 * - slow clients: a client whose Engine.IO write buffer grows past a threshold stops getting live
 *   events (counted as dropped) and is told so; it is told again when it has drained (and can
 *   resume the gap), and disconnected if it stays behind. Room broadcasts never wait for anyone,
 *   so one slow client never delays others or the Kafka consumer.
 */
@Injectable()
export class LiveFeedService implements PlaybackGatewayExtension, OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger: Logger;
  private readonly allRing: Ring<PlaybackEventMessage>;
  private readonly streamRings = new Map<string, Ring<PlaybackEventMessage>>();
  private readonly direct = new Map<string, DirectClient>();
  private readonly slow = new Map<string, SlowClient>();
  private readonly topic: string;
  private readonly groupPrefix: string;
  private replays = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly gateway: PlaybackGateway,
    @Inject(DASHBOARD_OPTIONS) private readonly options: DashboardOptions,
    @Inject(KAFKA_CLIENT) private readonly kafka: Kafka,
    @Inject(KAFKA_CONFIG) kafkaConfig: KafkaConfig,
    @Inject(ROOT_LOGGER) rootLogger: Logger,
    topics: TopicNames,
  ) {
    this.logger = rootLogger.child({ component: 'dashboard.feed' });
    this.allRing = new Ring(options.historyEvents);
    this.topic = topics.resolve(Topics.playbackEvents);
    this.groupPrefix = kafkaConfig.topicPrefix ? `${kafkaConfig.topicPrefix.replace(/\.$/, '')}.` : '';
  }

  onApplicationBootstrap(): void {
    this.gateway.extend(this);
    this.timer = setInterval(() => this.checkSlowClients(), this.options.slowCheckIntervalMs);
    this.timer.unref();
  }

  beforeApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
    for (const client of this.direct.values()) client.cancelled = true;
  }

  /** The socket's subscription covers this stream (signed streams reach every-stream clients only with FIREHOSE_TOKEN). */
  private wants(socket: Socket, streamId: string): boolean {
    return socket.rooms.has(streamRoom(streamId)) || (socket.rooms.has(ALL_STREAMS_ROOM) && this.gateway.access.inFirehose(streamId));
  }

  onConnection(socket: Socket): void {
    const parsed = parseResumeRequest(socket.handshake.auth);
    socket.once('disconnect', () => {
      const client = this.direct.get(socket.id);
      if (client) client.cancelled = true;
      this.direct.delete(socket.id);
      this.slow.delete(socket.id);
    });
    if ((parsed.ok ? parsed.resume : undefined) || wantsHistory(socket.handshake.auth)) {
      if (!replayAllowed(socket)) {
        this.notice(socket, { code: 'resume_failed', message: 'history and resume need the firehose token (auth: { token }): live events only' });
        return;
      }
    }
    if (!parsed.ok) {
      this.notice(socket, { code: 'resume_failed', message: parsed.message });
      if (wantsHistory(socket.handshake.auth)) this.sendHistory(socket);
      return;
    }
    if (parsed.resume) this.resume(socket, parsed.resume);
    else if (wantsHistory(socket.handshake.auth)) this.sendHistory(socket);
  }

  onBroadcast(message: PlaybackEventMessage): void {
    this.allRing.push(message);
    const streamId = message.event.stream_id;
    let ring = this.streamRings.get(streamId);
    if (!ring) {
      ring = new Ring(this.options.historyEventsPerStream);
      this.streamRings.set(streamId, ring);
      if (this.streamRings.size > this.options.historyStreams) {
        const oldest = this.streamRings.keys().next().value;
        if (oldest !== undefined) this.streamRings.delete(oldest);
      }
    } else {
      // Most recently active streams last, so the oldest idle one is dropped first.
      this.streamRings.delete(streamId);
      this.streamRings.set(streamId, ring);
    }
    ring.push(message);

    for (const client of this.direct.values()) {
      if (!this.wants(client.socket, streamId)) continue;
      if (client.phase === 'replaying') {
        client.buffer.push(message);
        if (client.buffer.length > this.options.maxResumeBuffer) {
          this.notice(client.socket, { code: 'disconnected_slow', message: 'too many live events arrived while replaying' });
          client.socket.disconnect(true);
        }
      } else if (this.slow.has(client.socket.id)) {
        this.countDropped(client.socket.id);
      } else {
        this.deliver(client, message);
      }
    }
    for (const [socketId] of this.slow) {
      if (this.direct.has(socketId)) continue; // counted above
      const socket = this.gateway.namespace?.sockets.get(socketId);
      if (socket && this.wants(socket, streamId)) this.countDropped(socketId);
    }
  }

  private countDropped(socketId: string): void {
    const slow = this.slow.get(socketId);
    if (slow) slow.dropped += 1;
    gatewayMetrics.dropped().inc({ reason: 'backpressure' });
  }

  /** The last events of the client's streams, oldest first. */
  private sendHistory(socket: Socket): void {
    let history: readonly PlaybackEventMessage[];
    if (socket.rooms.has(ALL_STREAMS_ROOM)) {
      history = this.allRing.values.filter((message) => this.gateway.access.inFirehose(message.event.stream_id));
    } else {
      const merged: PlaybackEventMessage[] = [];
      for (const room of socket.rooms) {
        if (!room.startsWith('stream:')) continue;
        merged.push(...(this.streamRings.get(room.slice('stream:'.length))?.values ?? []));
      }
      // Arrival order across streams is not kept per stream ring; event time is close enough for history.
      merged.sort((a, b) => a.event.ts.localeCompare(b.event.ts));
      history = merged.slice(-this.options.historyEvents);
    }
    for (const message of history) socket.emit(PlaybackSocketEvents.event, message);
  }

  private deliver(client: DirectClient, message: PlaybackEventMessage): void {
    const offset = BigInt(message.position.offset);
    const floor = client.floor.get(message.position.partition);
    if (floor !== undefined && offset < floor) return;
    client.floor.set(message.position.partition, offset + 1n);
    client.socket.emit(PlaybackSocketEvents.event, message);
  }

  private resume(socket: Socket, request: ResumeRequest): void {
    const client: DirectClient = { socket, phase: 'replaying', buffer: [], floor: new Map(), cancelled: false };
    for (const { partition, offset } of request.positions) client.floor.set(partition, BigInt(offset) + 1n);
    // Out of the room broadcasts from now on: this service delivers to it, in order, exactly once.
    void socket.join(DIRECT_DELIVERY_ROOM);
    this.direct.set(socket.id, client);
    if (this.replays >= this.options.maxConcurrentReplays) {
      this.finishResume(client, undefined, 'too many clients are resuming right now: live events only, some may be missing');
      return;
    }
    this.replays += 1;
    const started = Date.now();
    void (async () => {
      try {
        const plan = await planReplay(this.kafka, this.topic, request);
        const count = await replay(
          {
            kafka: this.kafka,
            topic: this.topic,
            groupPrefix: this.groupPrefix,
            request,
            timeoutMs: this.options.replayTimeoutMs,
            isCancelled: () => client.cancelled,
            onMessage: (message) => {
              if (this.wants(socket, message.event.stream_id)) this.deliver(client, message);
            },
          },
          plan,
        );
        this.logger.debug({ socketId: socket.id, replayed: count, ms: Date.now() - started }, 'client resumed');
        this.finishResume(client, count);
      } catch (error) {
        this.logger.warn({ socketId: socket.id, error: String(error) }, 'resume failed: continuing with live events');
        this.finishResume(client, undefined, `could not replay the missed events (${String(error)}): live events only`);
      } finally {
        this.replays -= 1;
      }
    })();
  }

  private finishResume(client: DirectClient, replayed: number | undefined, failure?: string): void {
    if (client.cancelled) return;
    let count = 0;
    for (const message of client.buffer) {
      if (this.wants(client.socket, message.event.stream_id)) {
        const before = client.floor.get(message.position.partition);
        this.deliver(client, message);
        if (client.floor.get(message.position.partition) !== before) count += 1;
      }
    }
    client.buffer = [];
    client.phase = 'live';
    if (failure) this.notice(client.socket, { code: 'resume_failed', message: failure });
    else this.notice(client.socket, { code: 'resume_complete', message: 'caught up: live events follow', count: (replayed ?? 0) + count });
  }

  private notice(socket: Socket, notice: PlaybackNotice): void {
    socket.emit(DashboardSocketEvents.notice, notice);
  }

  /** Moves clients in and out of the slow room by their Engine.IO write buffer (packets not yet written). */
  checkSlowClients(now = Date.now()): void {
    const namespace = this.gateway.namespace;
    if (!namespace) return;
    for (const socket of namespace.sockets.values()) {
      const buffered = (socket.conn as unknown as { writeBuffer?: unknown[] }).writeBuffer?.length ?? 0;
      const slow = this.slow.get(socket.id);
      if (!slow) {
        if (buffered >= this.options.slowHighWater) {
          this.slow.set(socket.id, { since: now, dropped: 0 });
          void socket.join(SLOW_CLIENTS_ROOM);
          this.notice(socket, { code: 'lagging', message: `this connection cannot keep up (${buffered} messages waiting): live events are paused until it drains` });
          this.logger.info({ socketId: socket.id, buffered }, 'slow client: live events paused');
        }
        continue;
      }
      if (buffered <= this.options.slowLowWater) {
        this.slow.delete(socket.id);
        void socket.leave(SLOW_CLIENTS_ROOM);
        this.notice(socket, { code: 'recovered', message: 'caught up with the backlog: live events resume (resume from your last position to fill the gap)', count: slow.dropped });
        this.logger.info({ socketId: socket.id, dropped: slow.dropped }, 'slow client recovered');
      } else if (buffered >= this.options.slowDisconnectWater || now - slow.since > this.options.slowMaxMs) {
        this.notice(socket, { code: 'disconnected_slow', message: 'disconnected: this connection stayed too far behind' });
        this.logger.info({ socketId: socket.id, buffered, dropped: slow.dropped }, 'slow client disconnected');
        socket.disconnect(true);
      }
    }
  }
}
