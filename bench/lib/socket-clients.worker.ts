/**
 * A share of the benchmark's Socket.IO clients, in a worker thread: 100 clients at 1,000 events/s
 * are 100,000 messages/s to decode, more than one JavaScript thread can take, and the harness must
 * not be what limits the figure. Each client connects to /playback without a filter (every
 * stream), counts what it receives and, in latency mode, records receipt time − the event's `ts`
 * (set by the harness right before the POST; Date.now() is one clock across threads).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PLAYBACK_SOCKET_NAMESPACE, type PlaybackEventMessage, PlaybackSocketEvents } from '@tributary/contracts';
import { io, type Socket } from 'socket.io-client';

export interface ClientWorkerData {
  url: string;
  clients: number;
  latency: boolean;
}

export type ToWorker = { type: 'reset'; since: number } | { type: 'collect' } | { type: 'close' };
export type FromWorker =
  | { type: 'ready' }
  | { type: 'error'; message: string }
  | { type: 'progress'; min: number; total: number }
  | { type: 'reset-done' }
  | { type: 'result'; counts: number[]; latencies: Float64Array; unknown: number };

const { url, clients, latency } = workerData as ClientWorkerData;
const port = parentPort!;
const send = (message: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

const counts = new Array<number>(clients).fill(0);
let total = 0;
let since = 0;
let latencies = new Float64Array(latency ? 1 << 20 : 0);
let samples = 0;
let unknown = 0;

function record(message: PlaybackEventMessage): void {
  const sentAt = Date.parse(message.event.ts);
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

const sockets: Socket[] = [];
const ready = Array.from({ length: clients }, (_, index) => {
  const socket = io(`${url}${PLAYBACK_SOCKET_NAMESPACE}`, { transports: ['websocket'], reconnection: false, forceNew: true });
  sockets.push(socket);
  socket.on(PlaybackSocketEvents.event, (message: PlaybackEventMessage) => {
    counts[index] += 1;
    total += 1;
    if (latency) record(message);
  });
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`a client was not subscribed within 60 s`)), 60_000);
    socket.once(PlaybackSocketEvents.subscriptions, () => {
      clearTimeout(timer);
      resolve();
    });
    socket.once('connect_error', (error) => {
      clearTimeout(timer);
      reject(error);
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

port.on('message', (message: ToWorker) => {
  if (message.type === 'reset') {
    counts.fill(0);
    total = 0;
    lastTotal = -1;
    samples = 0;
    unknown = 0;
    since = message.since;
    send({ type: 'reset-done' });
  } else if (message.type === 'collect') {
    const result = latencies.slice(0, samples);
    send({ type: 'result', counts: [...counts], latencies: result, unknown }, [result.buffer]);
  } else {
    clearInterval(progress);
    for (const socket of sockets) socket.close();
    port.close();
  }
});
