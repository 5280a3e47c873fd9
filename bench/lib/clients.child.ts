/**
 * A share of a benchmark's playback clients, in a CHILD PROCESS of its own (so the harness's
 * decoding neither shares the bench's event loop nor competes with it), one of two kinds:
 * - `light`: a bare `ws` WebSocket speaking just enough Engine.IO v4 / Socket.IO v5 to connect to
 *   `/playback`, answer pings and count events — it never decodes a packet into objects. Events
 *   are counted by their `{"event":` openings in `playback.events` (batch) or `playback.event`
 *   (single) packets; each event's `"ts":"…"` and `"event_id":"…"` are read where they stand.
 * - `socket.io`: the real `socket.io-client` (what a browser runs), decoding every packet; the
 *   light kind is checked against it (verifyLightClients) and the tracing bench uses it.
 * Both count the same way: per client, in total, and in latency mode receipt − `ts` (Date.now() is
 * one clock for all processes); `ids` mode records client 0's event ids.
 */
import { PLAYBACK_SOCKET_NAMESPACE, type PlaybackEventMessage, PlaybackSocketEvents } from '@tributary/contracts';
import { io } from 'socket.io-client';
import WebSocket from 'ws';

export type ClientKind = 'light' | 'socket.io';

export interface ClientsArgs {
  kind: ClientKind;
  url: string;
  clients: number;
  latency: boolean;
  auth: Record<string, unknown>;
}

export type ToChild = { type: 'reset'; since: number; ids?: boolean } | { type: 'collect' } | { type: 'close' };
export type FromChild =
  | { type: 'ready' }
  | { type: 'error'; message: string }
  | { type: 'progress'; min: number; total: number }
  | { type: 'reset-done' }
  | { type: 'result'; counts: number[]; latencies: Float64Array; unknown: number; ids: string[] };

const args = JSON.parse(process.argv[2] ?? '{}') as ClientsArgs;
const send = (message: FromChild) => process.send?.(message);

// ---------------------------------------------------------------------------------------------
// Counting (both kinds)

const counts = new Array<number>(args.clients).fill(0);
let total = 0;
let since = 0;
let latencies = new Float64Array(args.latency ? 1 << 20 : 0);
let samples = 0;
let unknown = 0;
let recordIds = false;
let ids: string[] = [];

/** One event received by client `index`, sent at `sentAt` (NaN: its `ts` could not be read). */
function received(index: number, sentAt: number, eventId: () => string): void {
  counts[index] += 1;
  total += 1;
  if (recordIds && index === 0) ids.push(eventId());
  if (!args.latency) return;
  if (Number.isNaN(sentAt)) {
    unknown += 1;
    return;
  }
  if (sentAt < since) return;
  if (samples === latencies.length) {
    const grown = new Float64Array(latencies.length * 2);
    grown.set(latencies);
    latencies = grown;
  }
  latencies[samples++] = Date.now() - sentAt;
}

// ---------------------------------------------------------------------------------------------
// light: bare ws + the few Engine.IO/Socket.IO frames a playback client needs

const NSP = PLAYBACK_SOCKET_NAMESPACE;
const EVENT_OPEN = Buffer.from('{"event":');
const TS = Buffer.from('"ts":"');
const EVENT_ID = Buffer.from('"event_id":"');
const BATCH_HEAD = Buffer.from(`42${NSP},["${PlaybackSocketEvents.events}",`);
const SINGLE_HEAD = Buffer.from(`42${NSP},["${PlaybackSocketEvents.event}",`);
const SUBSCRIPTIONS_HEAD = Buffer.from(`42${NSP},["${PlaybackSocketEvents.subscriptions}",`);
const CONNECT_ERROR_HEAD = Buffer.from(`44${NSP},`);

/** The quoted string value that starts at `start` in `data`. */
const quoted = (data: Buffer, start: number, encoding: 'latin1' | 'utf8') => data.toString(encoding, start, data.indexOf(0x22, start));

function onPacket(index: number, data: Buffer, from: number): void {
  let at = data.indexOf(EVENT_OPEN, from);
  while (at >= 0) {
    const event = at;
    let sentAt = Number.NaN;
    if (args.latency) {
      const ts = data.indexOf(TS, event);
      if (ts >= 0) sentAt = Date.parse(quoted(data, ts + TS.length, 'latin1'));
    }
    received(index, sentAt, () => quoted(data, data.indexOf(EVENT_ID, event) + EVENT_ID.length, 'utf8'));
    at = data.indexOf(EVENT_OPEN, at + EVENT_OPEN.length);
  }
}

const startsWith = (data: Buffer, head: Buffer) => data.length >= head.length && data.compare(head, 0, head.length, 0, head.length) === 0;

function connectLight(index: number, onReady: () => void, onError: (error: Error) => void): () => void {
  const socket = new WebSocket(`${args.url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`, { perMessageDeflate: false });
  const authJson = JSON.stringify(args.auth);
  socket.on('error', onError);
  socket.on('message', (raw: Buffer) => {
    const first = raw[0];
    if (first === 0x32) socket.send('3'); // Engine.IO ping → pong
    else if (first === 0x30) socket.send(`40${NSP},${authJson}`); // open → Socket.IO connect
    else if (first === 0x34) {
      if (startsWith(raw, BATCH_HEAD)) onPacket(index, raw, BATCH_HEAD.length);
      else if (startsWith(raw, SINGLE_HEAD)) onPacket(index, raw, SINGLE_HEAD.length);
      else if (startsWith(raw, SUBSCRIPTIONS_HEAD)) onReady();
      else if (startsWith(raw, CONNECT_ERROR_HEAD)) onError(new Error(`connect refused: ${raw.toString().slice(0, 200)}`));
    }
  });
  return () => socket.terminate();
}

// ---------------------------------------------------------------------------------------------
// socket.io: the real client

function connectSocketIo(index: number, onReady: () => void, onError: (error: Error) => void): () => void {
  const socket = io(`${args.url}${NSP}`, { transports: ['websocket'], reconnection: false, forceNew: true, auth: args.auth });
  const one = (message: PlaybackEventMessage) => received(index, Date.parse(message.event.ts), () => message.event.event_id);
  socket.on(PlaybackSocketEvents.events, (batch: PlaybackEventMessage[]) => batch.forEach(one));
  socket.on(PlaybackSocketEvents.event, one);
  socket.once(PlaybackSocketEvents.subscriptions, onReady);
  socket.once('connect_error', onError);
  return () => socket.close();
}

// ---------------------------------------------------------------------------------------------

const connect = args.kind === 'socket.io' ? connectSocketIo : connectLight;
const closers: (() => void)[] = [];
const ready = Array.from(
  { length: args.clients },
  (_, index) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`a ${args.kind} client was not subscribed within 60 s`)), 60_000);
      const settle = (error?: Error) => {
        clearTimeout(timer);
        if (error) reject(error);
        else resolve();
      };
      closers.push(connect(index, () => settle(), settle));
    }),
);

Promise.all(ready).then(
  () => send({ type: 'ready' }),
  (error: Error) => send({ type: 'error', message: error.message }),
);

let lastTotal = -1;
const progress = setInterval(() => {
  if (total === lastTotal) return;
  lastTotal = total;
  let min = Number.POSITIVE_INFINITY;
  for (const count of counts) if (count < min) min = count;
  send({ type: 'progress', min, total });
}, 10);

process.on('message', (message: ToChild) => {
  if (message.type === 'reset') {
    counts.fill(0);
    total = 0;
    lastTotal = -1;
    samples = 0;
    unknown = 0;
    since = message.since;
    recordIds = message.ids === true;
    ids = [];
    send({ type: 'reset-done' });
  } else if (message.type === 'collect') {
    send({ type: 'result', counts: [...counts], latencies: latencies.slice(0, samples), unknown, ids });
  } else {
    clearInterval(progress);
    for (const close of closers) close();
    process.disconnect?.();
    process.exit(0);
  }
});
