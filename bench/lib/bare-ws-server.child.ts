/**
 * The fan-out benchmark's yardstick, in a child process: a bare `ws` server that speaks just enough
 * Engine.IO/Socket.IO to let the light clients connect to `/playback`, then broadcasts ONE
 * pre-framed packet (the same `playback.events` frame the gateway would write) to every client as
 * fast as each drains it (a client is written to while less than 256 KiB is queued for it). What
 * the clients count per second is what bare Node + ws can push to them on this machine. With a
 * `rate`, it writes the frame to every client `rate` times a second instead: one write per client
 * per frame with nothing queued, the way a gateway at a low event rate writes.
 */
import { createServer } from 'node:http';
import WebSocket, { WebSocketServer } from 'ws';

export type ToBare = { type: 'broadcast'; seconds: number; rate?: number } | { type: 'close' };
export type FromBare = { type: 'listening'; port: number } | { type: 'done'; frames: number; cpuSeconds: number };

const { packet } = JSON.parse(process.argv[2] ?? '{}') as { packet: string };
const NSP = '/playback';
const { Sender } = WebSocket as unknown as {
  Sender: { frame(data: Buffer, options: { readOnly: boolean; mask: boolean; rsv1: boolean; opcode: number; fin: boolean }): Buffer[] };
};
type Framed = WebSocket & { _sender: { sendFrame(frame: Buffer[], cb?: () => void): void } };
const frame = Sender.frame(Buffer.from(`4${packet}`), { readOnly: false, mask: false, rsv1: false, opcode: 1, fin: true });
const send = (message: FromBare) => process.send?.(message);

const clients = new Set<Framed>();
const http = createServer();
const wss = new WebSocketServer({ server: http, perMessageDeflate: false });
wss.on('connection', (socket: Framed) => {
  socket.send(JSON.stringify({ sid: 'bare', upgrades: [], pingInterval: 25_000, pingTimeout: 20_000, maxPayload: 1_000_000 }).replace(/^/, '0'));
  socket.on('message', (data: Buffer) => {
    const text = data.toString();
    if (text.startsWith(`40${NSP}`)) {
      socket.send(`40${NSP},{"sid":"bare-${clients.size}"}`);
      socket.send(`42${NSP},["subscriptions",{"all":true,"streamIds":[]}]`);
      clients.add(socket);
    }
  });
  socket.on('close', () => clients.delete(socket));
});
http.listen(0, '127.0.0.1', () => {
  const address = http.address();
  send({ type: 'listening', port: typeof address === 'object' && address ? address.port : 0 });
});

process.on('message', (message: ToBare) => {
  if (message.type === 'close') {
    for (const socket of clients) socket.terminate();
    http.close();
    process.exit(0);
  }
  const started = process.cpuUsage();
  const end = Date.now() + message.seconds * 1000;
  let frames = 0;
  const tick = () => {
    if (Date.now() >= end) {
      const used = process.cpuUsage(started);
      send({ type: 'done', frames, cpuSeconds: (used.user + used.system) / 1e6 });
      return;
    }
    for (const socket of clients) {
      if (socket.bufferedAmount < 256 * 1024) {
        socket._sender.sendFrame(frame);
        frames += 1;
      }
    }
    if (message.rate) setTimeout(tick, 1000 / message.rate);
    else setImmediate(tick);
  };
  tick();
});
