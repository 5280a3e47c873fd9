/**
 * A share of the benchmark's playback clients in a CHILD PROCESS, as light as a client can be: a
 * bare `ws` WebSocket speaking just enough Engine.IO v4 / Socket.IO v5 to connect to `/playback`,
 * answer pings and count events — it never decodes a packet into objects. Events are counted by
 * their `{"event":` openings in `playback.events` (batch) or `playback.event` (single) packets; in
 * latency mode each event's `"ts":"…"` is read where it stands (receipt − ts; Date.now() is one
 * clock for all processes). `ids` mode also records client 0's event ids, so the parent can check
 * the counter against a real socket.io-client (see light-fleet.ts).
 */
import WebSocket from 'ws';

export interface LightClientsArgs {
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

const args = JSON.parse(process.argv[2] ?? '{}') as LightClientsArgs;
const send = (message: FromChild) => process.send?.(message);

const NSP = '/playback';
const EVENT_OPEN = Buffer.from('{"event":');
const TS = Buffer.from('"ts":"');
const EVENT_ID = Buffer.from('"event_id":"');
const BATCH_HEAD = Buffer.from(`42${NSP},["playback.events",`);
const SINGLE_HEAD = Buffer.from(`42${NSP},["playback.event",`);
const SUBSCRIPTIONS_HEAD = Buffer.from(`42${NSP},["subscriptions",`);
const CONNECT_ERROR_HEAD = Buffer.from(`44${NSP},`);

const counts = new Array<number>(args.clients).fill(0);
let total = 0;
let since = 0;
let latencies = new Float64Array(args.latency ? 1 << 20 : 0);
let samples = 0;
let unknown = 0;
let recordIds = false;
let ids: string[] = [];

function sample(data: Buffer, from: number): void {
  const at = data.indexOf(TS, from);
  if (at < 0) {
    unknown += 1;
    return;
  }
  const start = at + TS.length;
  const sentAt = Date.parse(data.toString('latin1', start, data.indexOf(0x22, start)));
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

function onEvents(index: number, data: Buffer, from: number): void {
  let at = data.indexOf(EVENT_OPEN, from);
  let events = 0;
  while (at >= 0) {
    events += 1;
    if (args.latency) sample(data, at);
    if (recordIds && index === 0) {
      const idAt = data.indexOf(EVENT_ID, at);
      const start = idAt + EVENT_ID.length;
      ids.push(data.toString('utf8', start, data.indexOf(0x22, start)));
    }
    at = data.indexOf(EVENT_OPEN, at + EVENT_OPEN.length);
  }
  counts[index] += events;
  total += events;
}

const startsWith = (data: Buffer, head: Buffer) => data.length >= head.length && data.compare(head, 0, head.length, 0, head.length) === 0;

const sockets: WebSocket[] = [];
const wsUrl = `${args.url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`;
const authJson = JSON.stringify(args.auth);
const ready = Array.from({ length: args.clients }, (_, index) => {
  const socket = new WebSocket(wsUrl, { perMessageDeflate: false });
  sockets.push(socket);
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('a light client was not subscribed within 60 s')), 60_000);
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('message', (raw: Buffer) => {
      const first = raw[0];
      if (first === 0x32) socket.send('3'); // Engine.IO ping → pong
      else if (first === 0x30) socket.send(`40${NSP},${authJson}`); // open → Socket.IO connect
      else if (first === 0x34) {
        if (startsWith(raw, BATCH_HEAD)) onEvents(index, raw, BATCH_HEAD.length);
        else if (startsWith(raw, SINGLE_HEAD)) onEvents(index, raw, SINGLE_HEAD.length);
        else if (startsWith(raw, SUBSCRIPTIONS_HEAD)) {
          clearTimeout(timer);
          resolve();
        } else if (startsWith(raw, CONNECT_ERROR_HEAD)) {
          clearTimeout(timer);
          reject(new Error(`connect refused: ${raw.toString().slice(0, 200)}`));
        }
      }
    });
  });
});

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
    for (const socket of sockets) socket.terminate();
    process.disconnect?.();
    process.exit(0);
  }
});
