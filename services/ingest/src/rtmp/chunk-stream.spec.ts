import fc from 'fast-check';
import { basicHeader, ChunkReader, ChunkWriter, control, MessageType, type RtmpMessage, RtmpProtocolError } from './chunk-stream';

const LIMITS = { maxMessageBytes: 64 * 1024 };

/** One chunk by hand: basic header + message header of `fmt` + optional extended timestamp + payload. */
function chunk(fmt: 0 | 1 | 2 | 3, csid: number, fields: { ts?: number; length?: number; type?: number; msid?: number; extended?: number }, payload: Buffer): Buffer {
  const parts = [basicHeader(fmt, csid)];
  const header = Buffer.alloc([11, 7, 3, 0][fmt]);
  if (fmt <= 2) header.writeUIntBE(fields.extended !== undefined ? 0xffffff : (fields.ts ?? 0), 0, 3);
  if (fmt <= 1) {
    header.writeUIntBE(fields.length ?? payload.length, 3, 3);
    header[6] = fields.type ?? MessageType.Video;
  }
  if (fmt === 0) header.writeUInt32LE(fields.msid ?? 1, 7);
  parts.push(header);
  if (fields.extended !== undefined) {
    const ext = Buffer.alloc(4);
    ext.writeUInt32BE(fields.extended);
    parts.push(ext);
  }
  parts.push(payload);
  return Buffer.concat(parts);
}

const message = (extra: Partial<RtmpMessage> = {}): RtmpMessage => ({
  chunkStreamId: 6,
  timestamp: 0,
  typeId: MessageType.Video,
  messageStreamId: 1,
  payload: Buffer.from('x'),
  ...extra,
});

const arbitraryMessage = fc.record({
  chunkStreamId: fc.integer({ min: 3, max: 65599 }),
  timestamp: fc.oneof(fc.integer({ min: 0, max: 0xfffffe }), fc.integer({ min: 0xffffff, max: 0xffffffff })),
  typeId: fc.constantFrom(MessageType.Audio, MessageType.Video, MessageType.DataAmf0, MessageType.CommandAmf0),
  messageStreamId: fc.integer({ min: 0, max: 0xffffffff }),
  payload: fc.uint8Array({ minLength: 0, maxLength: 3000 }).map((bytes) => Buffer.from(bytes)),
});

/** Splits bytes at the given cut points (as TCP may deliver them). */
function split(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let last = 0;
  for (const point of points) {
    pieces.push(bytes.subarray(last, point));
    last = point;
  }
  pieces.push(bytes.subarray(last));
  return pieces;
}

describe(ChunkReader.name, () => {
  it('reassembles whatever ChunkWriter writes, at any chunk size, however TCP splits the bytes (property)', () => {
    fc.assert(
      fc.property(fc.array(arbitraryMessage, { minLength: 1, maxLength: 8 }), fc.integer({ min: 1, max: 5000 }), fc.array(fc.nat(), { maxLength: 20 }), (messages, size, cuts) => {
        const writer = new ChunkWriter();
        const bytes = Buffer.concat([writer.write(control.setChunkSize(size)), ...messages.map((m) => ((writer.chunkSize = size), writer.write(m)))]);
        const reader = new ChunkReader({ maxMessageBytes: 1024 * 1024 });
        const out = split(bytes, cuts).flatMap((piece) => reader.push(piece));
        expect(out.slice(1).map((m) => ({ ...m, payload: m.payload.toString('hex') }))).toEqual(messages.map((m) => ({ ...m, payload: m.payload.toString('hex') })));
        expect(reader.currentChunkSize).toBe(size);
        expect(reader.bytesRead).toBe(bytes.length);
      }),
      { numRuns: 300 },
    );
  });

  it('reassembles messages whose chunks interleave across chunk streams (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 2000 }),
        fc.uint8Array({ minLength: 1, maxLength: 2000 }),
        fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }),
        (a, b, order) => {
          const size = 128;
          const chunksOf = (csid: number, type: number, payload: Buffer): Buffer[] => {
            const out: Buffer[] = [];
            for (let offset = 0; offset < payload.length; offset += size) {
              const piece = payload.subarray(offset, offset + size);
              out.push(offset === 0 ? chunk(0, csid, { ts: 40, length: payload.length, type }, piece) : chunk(3, csid, {}, piece));
            }
            return out;
          };
          const audio = chunksOf(4, MessageType.Audio, Buffer.from(a));
          const video = chunksOf(6, MessageType.Video, Buffer.from(b));
          const wire: Buffer[] = [];
          let i = 0;
          while (audio.length || video.length) {
            const takeAudio = video.length === 0 || (audio.length > 0 && order[i++ % order.length]);
            wire.push((takeAudio ? audio : video).shift() as Buffer);
          }
          const out = new ChunkReader(LIMITS).push(Buffer.concat(wire));
          expect(out.find((m) => m.typeId === MessageType.Audio)?.payload.equals(Buffer.from(a))).toBe(true);
          expect(out.find((m) => m.typeId === MessageType.Video)?.payload.equals(Buffer.from(b))).toBe(true);
          expect(out).toHaveLength(2);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('never throws anything but RtmpProtocolError on random bytes (fuzz)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 0, maxLength: 600 }), { maxLength: 20 }), (pieces) => {
        const reader = new ChunkReader(LIMITS);
        try {
          for (const piece of pieces) reader.push(Buffer.from(piece));
        } catch (error) {
          expect(error).toBeInstanceOf(RtmpProtocolError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('applies fmt 1, 2 and 3 timestamp deltas, and a fmt 3 new message repeats the last delta', () => {
    const reader = new ChunkReader(LIMITS);
    const out = reader.push(
      Buffer.concat([
        chunk(0, 6, { ts: 1000, type: MessageType.Video }, Buffer.from('a')),
        chunk(1, 6, { ts: 33, length: 2, type: MessageType.Video }, Buffer.from('bb')),
        chunk(2, 6, { ts: 34 }, Buffer.from('cc')),
        chunk(3, 6, {}, Buffer.from('dd')),
      ]),
    );
    expect(out.map((m) => [m.timestamp, m.payload.toString()])).toEqual([
      [1000, 'a'],
      [1033, 'bb'],
      [1067, 'cc'],
      [1101, 'dd'],
    ]);
  });

  it('after a type 0 header, a type 3 new message adds that header\'s timestamp field again (as ffmpeg writes and reads)', () => {
    const reader = new ChunkReader(LIMITS);
    const out = reader.push(Buffer.concat([chunk(0, 6, { ts: 40, length: 1 }, Buffer.from('a')), chunk(3, 6, {}, Buffer.from('b'))]));
    expect(out.map((m) => m.timestamp)).toEqual([40, 80]);
  });

  it('reads extended timestamps, also on the fmt 3 continuation chunks of the same message', () => {
    const reader = new ChunkReader(LIMITS);
    const payload = Buffer.alloc(300, 7);
    const out = reader.push(
      Buffer.concat([
        chunk(0, 6, { length: 300, extended: 0x01000000 }, payload.subarray(0, 128)),
        chunk(3, 6, { extended: 0x01000000 }, payload.subarray(128, 256)),
        chunk(3, 6, { extended: 0x01000000 }, payload.subarray(256)),
      ]),
    );
    expect(out).toHaveLength(1);
    expect(out[0].timestamp).toBe(0x01000000);
    expect(out[0].payload.equals(payload)).toBe(true);
  });

  it('changes the chunk size mid-stream at Set Chunk Size', () => {
    const writer = new ChunkWriter();
    const big = message({ payload: Buffer.alloc(5000, 1) });
    const before = writer.write(big);
    const change = writer.write(control.setChunkSize(4096));
    writer.chunkSize = 4096;
    const after = writer.write({ ...big, timestamp: 40 });
    const reader = new ChunkReader(LIMITS);
    const out = reader.push(Buffer.concat([before, change, after]));
    expect(out.map((m) => m.typeId)).toEqual([MessageType.Video, MessageType.SetChunkSize, MessageType.Video]);
    expect(out[2].payload.length).toBe(5000);
    expect(reader.currentChunkSize).toBe(4096);
  });

  it('drops the partial message of a chunk stream at Abort, and reads the next one whole', () => {
    const reader = new ChunkReader(LIMITS);
    const abort = Buffer.alloc(4);
    abort.writeUInt32BE(6);
    const out = reader.push(
      Buffer.concat([
        chunk(0, 6, { length: 300 }, Buffer.alloc(128, 1)),
        chunk(0, 2, { length: 4, type: MessageType.Abort, msid: 0 }, abort),
        chunk(0, 6, { length: 3 }, Buffer.from('new')),
      ]),
    );
    expect(out.map((m) => m.typeId)).toEqual([MessageType.Abort, MessageType.Video]);
    expect(out[1].payload.toString()).toBe('new');
  });

  it('refuses a message longer than the limit (a 10 MB claim) before buffering it', () => {
    const reader = new ChunkReader({ maxMessageBytes: 4 * 1024 * 1024 });
    expect(() => reader.push(chunk(0, 6, { length: 10 * 1024 * 1024 }, Buffer.alloc(128)))).toThrow(/10485760 bytes exceeds the limit/);
  });

  it('refuses absurd or zero chunk sizes', () => {
    const writer = new ChunkWriter();
    expect(() => new ChunkReader(LIMITS).push(writer.write(control.setChunkSize(0x7fffffff)))).toThrow(RtmpProtocolError);
    expect(() => new ChunkReader(LIMITS).push(writer.write(control.setChunkSize(0)))).toThrow(RtmpProtocolError);
  });

  it('refuses a chunk stream that starts without a type 0 header', () => {
    expect(() => new ChunkReader(LIMITS).push(chunk(3, 6, {}, Buffer.from('x')))).toThrow(/needs type 0 first/);
  });

  it('bounds partial messages held across chunk streams', () => {
    const reader = new ChunkReader({ maxMessageBytes: 64 * 1024, maxOpenChunkStreams: 4 });
    const opens = [3, 4, 5, 6, 7].map((csid) => chunk(0, csid, { length: 60 * 1024 }, Buffer.alloc(128)));
    expect(() => reader.push(Buffer.concat(opens))).toThrow(RtmpProtocolError);
  });
});

describe(ChunkWriter.name, () => {
  it('uses one to three byte basic headers by chunk stream id', () => {
    expect(basicHeader(0, 3)).toEqual(Buffer.from([0x03]));
    expect(basicHeader(3, 64)).toEqual(Buffer.from([0xc0, 0x00]));
    expect(basicHeader(0, 400)).toEqual(Buffer.from([0x01, (400 - 64) & 0xff, (400 - 64) >> 8]));
  });
});
