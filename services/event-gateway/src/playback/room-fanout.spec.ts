import { Decoder, type Packet } from 'socket.io-parser';
import { testing, type PlaybackEventMessage } from '@tributary/contracts';
import { encodePacket, eventPacket, type FanoutSocket, messageJson, queuedBytes, RoomPackets } from './room-fanout';
import { SlowClients } from './slow-clients';

/** Decodes a Socket.IO packet string the way socket.io-client does. */
function decode(data: string): { nsp: string; data: unknown[] } {
  const decoder = new Decoder();
  let packet: Packet | undefined;
  decoder.on('decoded', (decoded: Packet) => {
    packet = decoded;
  });
  decoder.add(data);
  return { nsp: packet!.nsp, data: packet!.data as unknown[] };
}

function fakeSocket(id: string, format?: 'single' | 'batch', queued = 0) {
  const written: { data: string; frame?: readonly Buffer[] }[] = [];
  const socket: FanoutSocket & { written: typeof written; queued: number } = {
    id,
    data: format ? { format } : {},
    written,
    queued,
    conn: {
      get writeBuffer() {
        return socket.queued > 0 ? [{ data: 'x'.repeat(socket.queued) }] : [];
      },
      write: (data: string, options: { wsPreEncodedFrame?: readonly Buffer[] }) => written.push({ data, frame: options.wsPreEncodedFrame }),
    },
  };
  return socket;
}

const event = testing.validPlaybackEvent();
const item = (offset: string, raw = JSON.stringify(event)) => {
  const position = { partition: 2, offset };
  return { message: { event, position, trace_id: 'abc' } as PlaybackEventMessage, json: messageJson(raw, position, 'abc') };
};

describe(RoomPackets.name, () => {
  it('writes one playback.events packet with every event, in order, that socket.io-parser decodes to the messages', () => {
    const packets = new RoomPackets('/playback', [item('7'), item('8')]);
    const socket = fakeSocket('a');
    expect(packets.writeTo(socket)).toBe(1);
    const decoded = decode(socket.written[0].data);
    expect(decoded.nsp).toBe('/playback');
    expect(decoded.data).toEqual([
      'playback.events',
      [
        { event, position: { partition: 2, offset: '7' }, trace_id: 'abc' },
        { event, position: { partition: 2, offset: '8' }, trace_id: 'abc' },
      ],
    ]);
  });

  it('encodes once per room: every client gets the same frame', () => {
    const packets = new RoomPackets('/playback', [item('1')]);
    const [a, b] = [fakeSocket('a'), fakeSocket('b')];
    packets.writeTo(a);
    packets.writeTo(b);
    expect(a.written[0].frame).toBeDefined();
    expect(a.written[0].frame).toBe(b.written[0].frame);
  });

  it('gives single-format clients one playback.event per event', () => {
    const socket = fakeSocket('s', 'single');
    expect(new RoomPackets('/playback', [item('1'), item('2')]).writeTo(socket)).toBe(2);
    expect(socket.written.map((w) => decode(w.data).data)).toEqual([
      ['playback.event', { event, position: { partition: 2, offset: '1' }, trace_id: 'abc' }],
      ['playback.event', { event, position: { partition: 2, offset: '2' }, trace_id: 'abc' }],
    ]);
  });

  it('passes the Kafka value through byte for byte', () => {
    const raw = `{ "stream_id" : "x\\u00e9" }`;
    const socket = fakeSocket('a');
    new RoomPackets('/playback', [item('1', raw)]).writeTo(socket);
    expect(socket.written[0].data).toContain(raw);
  });

  it('frames the Engine.IO message as one unmasked WebSocket text frame', () => {
    const { frame, bytes } = encodePacket(eventPacket('/playback', 'playback.events', '[]'));
    const header = frame[0];
    expect(header[0]).toBe(0x81); // FIN + text
    expect(header[1]).toBe(bytes); // short payload, no mask bit
    expect(Buffer.concat(frame.slice(1)).toString()).toBe('42/playback,["playback.events",[]]');
  });
});

describe(SlowClients.name, () => {
  const limits = { slowHighWaterBytes: 100, slowLowWaterBytes: 10, slowDisconnectBytes: 1_000, slowMaxMs: 60_000 };

  function policy() {
    const calls: string[] = [];
    const slow = new SlowClients<ReturnType<typeof fakeSocket>>(limits, {
      lagging: (socket, queued) => calls.push(`lagging ${socket.id} ${queued}`),
      recovered: (socket, held) => calls.push(`recovered ${socket.id} ${held.dropped}`),
      tooSlow: (socket, held) => calls.push(`too slow ${socket.id} ${held.dropped}`),
    });
    return { slow, calls };
  }

  it('admits a client below the high water and holds it back from the high water on, counting what it misses', () => {
    const { slow, calls } = policy();
    const client = fakeSocket('c', 'batch', 99);
    expect(slow.admit(client, 3)).toBe(true);
    client.queued = 100;
    expect(queuedBytes(client)).toBe(100);
    expect(slow.admit(client, 3)).toBe(false);
    client.queued = 0; // drained, but still held back until the check lets it in
    expect(slow.admit(client, 4)).toBe(false);
    slow.check(() => client);
    expect(calls).toEqual(['lagging c 100', 'recovered c 7']);
    expect(slow.admit(client, 1)).toBe(true);
  });

  it('disconnects a client past the disconnect mark or held back too long, and forgets gone ones', () => {
    const { slow, calls } = policy();
    const far = fakeSocket('far', 'batch', 2_000);
    const long = fakeSocket('long', 'batch', 500);
    slow.admit(far, 1, 0);
    slow.admit(long, 1, 0);
    slow.check((id) => (id === 'far' ? far : long), 1_000);
    expect(calls).toEqual(['lagging far 2000', 'lagging long 500', 'too slow far 1']);
    slow.check(() => long, 61_001);
    expect(calls.at(-1)).toBe('too slow long 1');
    slow.admit(fakeSocket('gone', 'batch', 500), 1);
    slow.check(() => undefined);
    expect(slow.size).toBe(0);
  });
});
