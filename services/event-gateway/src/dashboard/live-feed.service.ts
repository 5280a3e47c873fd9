import { type BeforeApplicationShutdown, Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { parseResumeRequest, type PlaybackNotice, type ResumeRequest, Topics } from '@tributary/contracts';
import type { KafkaConfig } from '@tributary/kafka';
import { ROOT_LOGGER } from '@tributary/nest-common';
import { KAFKA_CLIENT, KAFKA_CONFIG, TopicNames } from '@tributary/nest-kafka';
import type { Logger } from '@tributary/telemetry';
import type { Kafka } from 'kafkajs';
import type { Socket } from 'socket.io';
import { ALL_STREAMS_ROOM, streamRoom } from '../playback/playback-subscriptions';
import { DIRECT_DELIVERY_ROOM, PlaybackGateway, type PlaybackGatewayExtension } from '../playback/playback.gateway';
import type { FanoutItem } from '../playback/room-fanout';
import { planReplay, replay } from './resume-reader';
import { DASHBOARD_OPTIONS, type DashboardOptions } from './dashboard.options';

interface DirectClient {
  socket: Socket;
  phase: 'replaying' | 'live';
  /** Live events that arrived while replaying, delivered after the replay. */
  buffer: FanoutItem[];
  /** Partition → next offset this client may receive (exactly-once across replay and live). */
  floor: Map<number, bigint>;
  cancelled: boolean;
}

/** Replayed events go out in packets of at most this many. */
const REPLAY_PACKET_EVENTS = 500;

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
 * Slow clients are held back by the gateway (SlowClients), for direct deliveries too.
 */
@Injectable()
export class LiveFeedService implements PlaybackGatewayExtension, OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger: Logger;
  private readonly allRing: Ring<FanoutItem>;
  private readonly streamRings = new Map<string, Ring<FanoutItem>>();
  private readonly direct = new Map<string, DirectClient>();
  private readonly topic: string;
  private readonly groupPrefix: string;
  private replays = 0;

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
  }

  beforeApplicationShutdown(): void {
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

  onBroadcast(items: readonly FanoutItem[]): void {
    for (const item of items) this.remember(item);
    for (const client of this.direct.values()) {
      const wanted = items.filter((item) => this.wants(client.socket, item.message.event.stream_id));
      if (wanted.length === 0) continue;
      if (client.phase === 'replaying') {
        client.buffer.push(...wanted);
        if (client.buffer.length > this.options.maxResumeBuffer) {
          this.notice(client.socket, { code: 'disconnected_slow', message: 'too many live events arrived while replaying' });
          client.socket.disconnect(true);
        }
      } else {
        this.deliver(client, wanted);
      }
    }
  }

  private remember(item: FanoutItem): void {
    this.allRing.push(item);
    const streamId = item.message.event.stream_id;
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
    ring.push(item);
  }

  /** The last events of the client's streams, oldest first. */
  private sendHistory(socket: Socket): void {
    let history: readonly FanoutItem[];
    if (socket.rooms.has(ALL_STREAMS_ROOM)) {
      history = this.allRing.values.filter((item) => this.gateway.access.inFirehose(item.message.event.stream_id));
    } else {
      const merged: FanoutItem[] = [];
      for (const room of socket.rooms) {
        if (!room.startsWith('stream:')) continue;
        merged.push(...(this.streamRings.get(room.slice('stream:'.length))?.values ?? []));
      }
      // Arrival order across streams is not kept per stream ring; event time is close enough for history.
      merged.sort((a, b) => a.message.event.ts.localeCompare(b.message.event.ts));
      history = merged.slice(-this.options.historyEvents);
    }
    this.gateway.sendTo(socket, history);
  }

  /** Sends what is above the client's per-partition floor (in one packet); returns how many. */
  private deliver(client: DirectClient, items: readonly FanoutItem[]): number {
    const out: FanoutItem[] = [];
    for (const item of items) {
      const { partition, offset } = item.message.position;
      const value = BigInt(offset);
      const floor = client.floor.get(partition);
      if (floor !== undefined && value < floor) continue;
      client.floor.set(partition, value + 1n);
      out.push(item);
    }
    this.gateway.sendTo(client.socket, out);
    return out.length;
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
        let replayed: FanoutItem[] = [];
        const count = await replay(
          {
            kafka: this.kafka,
            topic: this.topic,
            groupPrefix: this.groupPrefix,
            request,
            timeoutMs: this.options.replayTimeoutMs,
            isCancelled: () => client.cancelled,
            onMessage: (message) => {
              if (!this.wants(socket, message.event.stream_id)) return;
              replayed.push({ message, json: JSON.stringify(message) });
              if (replayed.length >= REPLAY_PACKET_EVENTS) this.deliver(client, replayed.splice(0));
            },
          },
          plan,
        );
        this.deliver(client, replayed);
        replayed = [];
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
    const count = this.deliver(
      client,
      client.buffer.filter((item) => this.wants(client.socket, item.message.event.stream_id)),
    );
    client.buffer = [];
    client.phase = 'live';
    if (failure) this.notice(client.socket, { code: 'resume_failed', message: failure });
    else this.notice(client.socket, { code: 'resume_complete', message: 'caught up: live events follow', count: (replayed ?? 0) + count });
  }

  private notice(socket: Socket, notice: PlaybackNotice): void {
    this.gateway.notice(socket, notice);
  }
}
