import { STREAM_ID_REGEX } from '../ids';
import type { PlaybackEvent } from '../messages/playback-event';
import type { DashboardServerToClientEvents } from './dashboard-socket';

/**
 * The Socket.IO API of event-gateway: live playback events, as they are consumed from
 * `playback.events`. Namespace `/playback` on event-gateway's HTTP port.
 *
 * Protocol version 2 (PLAYBACK_SOCKET_PROTOCOL): events arrive in batches, one `playback.events`
 * packet per flush (every few ms) carrying an array of PlaybackEventMessage, oldest first. A simple
 * client that wants one packet per event connects with `auth: { format: 'single' }` (or the query
 * `?format=single`) and gets `playback.event` with one message each (protocol 1's event, kept).
 *
 * - Connect without options: every stream's events.
 * - Connect with `auth: { streamId }` (one id or an array), or send `subscribe { streamId }`:
 *   only the subscribed streams' events. `unsubscribe { streamId }` stops one stream; a client
 *   whose last stream is unsubscribed receives nothing until it subscribes again.
 * - Bad input is answered with an `error` event; the connection stays open.
 *
 * Events of one stream arrive in the order they were written to Kafka (per-partition order, the
 * topic is keyed by stream id).
 */
export const PLAYBACK_SOCKET_NAMESPACE = '/playback';

/** 2 = batched `playback.events` by default; 1 (single `playback.event`) is `format: 'single'`. */
export const PLAYBACK_SOCKET_PROTOCOL = 2;

export const PlaybackSocketEvents = {
  /** Server → client: a batch of playback events (default format), oldest first. */
  events: 'playback.events',
  /** Server → client: one playback event (`format: 'single'` clients only). */
  event: 'playback.event',
  /** Server → client: the subscription changed (answer to auth, subscribe, unsubscribe). */
  subscriptions: 'subscriptions',
  /** Server → client: a request was invalid. */
  error: 'error',
  /** Client → server. */
  subscribe: 'subscribe',
  /** Client → server. */
  unsubscribe: 'unsubscribe',
} as const;

/** Where an event sits in Kafka: enough for a later feature to resume a client from there. */
export interface KafkaPosition {
  readonly partition: number;
  /** Kafka offsets are 64-bit: a decimal string, as kafkajs gives them. */
  readonly offset: string;
}

/** Payload of `playback.event`. */
export interface PlaybackEventMessage {
  readonly event: PlaybackEvent;
  readonly position: KafkaPosition;
  /**
   * W3C trace id of the event's trace (the one `POST /v1/events` started or continued), when the
   * message carried trace context: lets a client-side observation be joined to the trace.
   */
  readonly trace_id?: string;
}

/** Payload of `playback.events`: at least one message; per stream in Kafka order. */
export type PlaybackEventBatch = readonly PlaybackEventMessage[];

/** How a client gets events: `batch` (default, `playback.events`) or `single` (`playback.event`). */
export const PLAYBACK_DELIVERY_FORMATS = ['batch', 'single'] as const;
export type PlaybackDeliveryFormat = (typeof PLAYBACK_DELIVERY_FORMATS)[number];

/**
 * The delivery format a handshake asks for: `auth.format`, else the query `format`; default
 * `batch`. Anything else is refused with a message (untrusted input, never throws).
 */
export function parseDeliveryFormat(auth: unknown, query?: Record<string, unknown>): { ok: true; format: PlaybackDeliveryFormat } | { ok: false; message: string } {
  const fromAuth = typeof auth === 'object' && auth !== null ? (auth as { format?: unknown }).format : undefined;
  const raw = fromAuth ?? query?.format;
  if (raw === undefined || raw === null) return { ok: true, format: 'batch' };
  if (raw === 'batch' || raw === 'single') return { ok: true, format: raw };
  return { ok: false, message: `format must be one of ${PLAYBACK_DELIVERY_FORMATS.join(', ')} (got ${(JSON.stringify(raw) ?? typeof raw).slice(0, 40)})` };
}

/** Payload of `subscribe` / `unsubscribe`, and the shape of the handshake `auth`. */
export interface StreamSubscriptionRequest {
  readonly streamId: string | readonly string[];
  /** A signed stream's playback token (minted by ingest); in the handshake `auth` without streamId: FIREHOSE_TOKEN. */
  readonly token?: string;
  /** Handshake only: `single` = one `playback.event` per event instead of `playback.events` batches. */
  readonly format?: PlaybackDeliveryFormat;
}

/** Payload of `subscriptions`: `all` = every stream, otherwise exactly `streamIds`. */
export interface SubscriptionState {
  readonly all: boolean;
  readonly streamIds: readonly string[];
}

/**
 * `unauthorized`: a token is needed (a signed stream's playback token; FIREHOSE_TOKEN for every stream,
 * history and resume); `forbidden`: the token is wrong, expired or for another stream; `unavailable`:
 * the server cannot check tokens (no signing key configured).
 */
export const PLAYBACK_SOCKET_ERROR_CODES = ['invalid_stream_id', 'invalid_request', 'unauthorized', 'forbidden', 'unavailable'] as const;
export type PlaybackSocketErrorCode = (typeof PLAYBACK_SOCKET_ERROR_CODES)[number];

/** Payload of `error`. */
export interface PlaybackSocketError {
  readonly code: PlaybackSocketErrorCode;
  readonly message: string;
  /** The client event that was refused (`subscribe`, `unsubscribe`, `handshake`). */
  readonly during: 'handshake' | 'subscribe' | 'unsubscribe';
}

/** Acknowledgement a client may request for `subscribe`/`unsubscribe` (Socket.IO ack callback). */
export type SubscriptionAck = (result: { ok: true; subscriptions: SubscriptionState } | { ok: false; error: PlaybackSocketError }) => void;

/** Typed server → client events (`Socket<PlaybackServerToClientEvents, …>` on either side). */
export interface PlaybackServerToClientEvents extends DashboardServerToClientEvents {
  'playback.events': (batch: PlaybackEventBatch) => void;
  'playback.event': (message: PlaybackEventMessage) => void;
  subscriptions: (state: SubscriptionState) => void;
  error: (error: PlaybackSocketError) => void;
}

/** Typed client → server events. */
export interface PlaybackClientToServerEvents {
  subscribe: (request: StreamSubscriptionRequest, ack?: SubscriptionAck) => void;
  unsubscribe: (request: StreamSubscriptionRequest, ack?: SubscriptionAck) => void;
}

export const MAX_STREAMS_PER_REQUEST = 100;
/** Streams one connection may subscribe to in total (beyond that, connect without a filter). */
export const MAX_STREAMS_PER_CONNECTION = 1000;

/**
 * Reads the stream ids of a `subscribe`/`unsubscribe` payload or handshake `auth`. Returns the
 * ids, or a message saying what is wrong: untrusted input from browsers, never throws.
 */
export function parseStreamIds(value: unknown): { ok: true; streamIds: string[] } | { ok: false; message: string } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, message: 'expected an object { streamId: string | string[] }' };
  }
  const raw = (value as { streamId?: unknown }).streamId;
  const ids = Array.isArray(raw) ? (raw as unknown[]) : [raw];
  if (ids.length === 0) return { ok: false, message: 'streamId must name at least one stream' };
  if (ids.length > MAX_STREAMS_PER_REQUEST) {
    return { ok: false, message: `at most ${MAX_STREAMS_PER_REQUEST} stream ids per request (got ${ids.length})` };
  }
  const bad = ids.filter((id) => typeof id !== 'string' || !STREAM_ID_REGEX.test(id));
  if (bad.length > 0) {
    const shown = bad.slice(0, 3).map((id) => JSON.stringify(id)?.slice(0, 80) ?? String(id)).join(', ');
    return { ok: false, message: `streamId must match ${STREAM_ID_REGEX.source} (got ${shown})` };
  }
  return { ok: true, streamIds: [...new Set(ids as string[])] };
}
