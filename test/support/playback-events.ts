import { randomUUID } from 'node:crypto';
import { processEnv } from '@tributary/config';
import {
  PLAYBACK_SOCKET_NAMESPACE,
  type PlaybackClientToServerEvents,
  type PlaybackEvent,
  type PlaybackEventMessage,
  type PlaybackServerToClientEvents,
  type PlaybackSocketError,
  type SubscriptionState,
} from '@tributary/contracts';
import { registerCompressionCodecs } from '@tributary/kafka';
import { Kafka, type KafkaMessage, logLevel } from 'kafkajs';
import { io, type Socket } from 'socket.io-client';

/** Helpers for the playback-event end-to-end tests (real broker, real services, real sockets). */

export function kafkaBrokers(): string {
  const brokers = processEnv().KAFKA_BROKERS;
  if (!brokers) throw new Error('KAFKA_BROKERS is not set: jest global setup starts a broker and sets it');
  return brokers;
}

export function testKafka(): Kafka {
  // The services compress with KAFKA_COMPRESSION (lz4 by default): a raw kafkajs reader needs the codecs.
  registerCompressionCodecs();
  return new Kafka({ clientId: 'e2e-reader', brokers: kafkaBrokers().split(','), logLevel: logLevel.NOTHING });
}

/** A unique TOPIC_PREFIX, so a test never sees another test's topics. */
export function uniquePrefix(name: string): string {
  return `e2e-${name}-${randomUUID().slice(0, 8)}`;
}

let sequence = 0;
export function makeEvent(streamId: string, overrides: Partial<PlaybackEvent> = {}): PlaybackEvent {
  sequence += 1;
  return {
    event_id: `${streamId}-${sequence}-${randomUUID().slice(0, 8)}`,
    session_id: `session-${streamId}`,
    user_id: 'user-1',
    stream_id: streamId,
    event_type: 'position',
    position_seconds: sequence,
    bitrate_kbps: 2500,
    device: 'web',
    ts: new Date().toISOString(),
    ...overrides,
  };
}

export async function postEvents(
  baseUrl: string,
  body: unknown,
  contentType = 'application/json',
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const response = await fetch(`${baseUrl}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = { text };
  }
  return { status: response.status, body: parsed, headers: response.headers };
}

export type PlaybackClient = Socket<PlaybackServerToClientEvents, PlaybackClientToServerEvents>;

export interface RecordingClient {
  readonly socket: PlaybackClient;
  readonly messages: PlaybackEventMessage[];
  readonly errors: PlaybackSocketError[];
  /** Resolves with the subscription the server confirmed after the handshake. */
  readonly subscribed: Promise<SubscriptionState>;
  /** Socket.IO packets that carried events, per server event name. */
  readonly packets: { 'playback.events': number; 'playback.event': number };
  ids(streamId?: string): string[];
}

/** A real socket.io-client on /playback that records everything it receives. */
export function connectClient(gatewayUrl: string, auth?: Record<string, unknown>): RecordingClient {
  const socket: PlaybackClient = io(`${gatewayUrl}${PLAYBACK_SOCKET_NAMESPACE}`, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    ...(auth ? { auth } : {}),
  });
  const messages: PlaybackEventMessage[] = [];
  const errors: PlaybackSocketError[] = [];
  // Protocol 2: batches by default; `auth: { format: 'single' }` clients get one playback.event each.
  const packets = { 'playback.events': 0, 'playback.event': 0 };
  socket.on('playback.events', (batch) => {
    packets['playback.events'] += 1;
    messages.push(...batch);
  });
  socket.on('playback.event', (message) => {
    packets['playback.event'] += 1;
    messages.push(message);
  });
  socket.on('error', (error) => errors.push(error));
  const subscribed = new Promise<SubscriptionState>((resolve, reject) => {
    socket.once('subscriptions', resolve);
    socket.once('connect_error', reject);
  });
  return {
    socket,
    messages,
    errors,
    subscribed,
    packets,
    ids: (streamId) => messages.filter((m) => streamId === undefined || m.event.stream_id === streamId).map((m) => m.event.event_id),
  };
}

export async function waitFor(what: string, condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((wait) => setTimeout(wait, 50));
  }
}

/**
 * A fresh gateway group starts from "latest" once it has its partitions; until then an event may
 * be skipped. Posts probe events on a stream of their own until the client sees one.
 */
export async function warmUp(viewerApiUrl: string, client: RecordingClient, streamId = 'warm-up'): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const probe = makeEvent(streamId);
    const response = await postEvents(viewerApiUrl, probe);
    if (response.status !== 202) throw new Error(`warm-up post failed: ${response.status} ${JSON.stringify(response.body)}`);
    const seenBy = Date.now() + 1_000;
    while (Date.now() < seenBy) {
      if (client.ids(streamId).includes(probe.event_id)) return;
      await new Promise((wait) => setTimeout(wait, 50));
    }
  }
  throw new Error('the gateway did not deliver a warm-up event within 30 s');
}

export interface TopicRecord {
  partition: number;
  message: KafkaMessage;
  key: string | undefined;
  value: string | undefined;
  headers: Record<string, string>;
}

/** Everything on a topic right now: reads each partition up to its high-water mark. */
export async function readTopic(kafka: Kafka, topic: string, timeoutMs = 30_000): Promise<TopicRecord[]> {
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const remaining = new Map(offsets.filter((o) => o.high !== o.low && o.high !== '0').map((o) => [o.partition, BigInt(o.high)]));
  const records: TopicRecord[] = [];
  if (remaining.size === 0) return records;
  const consumer = kafka.consumer({ groupId: `e2e-reader-${randomUUID()}` });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`reading ${topic} timed out; partitions left: ${[...remaining.keys()].join(',')}`)), timeoutMs);
      void consumer.run({
        eachMessage: ({ partition, message }) => {
          records.push({
            partition,
            message,
            key: message.key?.toString(),
            value: message.value?.toString(),
            headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([name, value]) => [name, String(value)])),
          });
          const high = remaining.get(partition);
          if (high !== undefined && BigInt(message.offset) + 1n >= high) remaining.delete(partition);
          if (remaining.size === 0) {
            clearTimeout(timer);
            resolve();
          }
          return Promise.resolve();
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return records;
}
