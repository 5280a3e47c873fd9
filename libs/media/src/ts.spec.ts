import { execFileSync } from 'node:child_process';
import { TS_PACKET_SIZE } from '@tributary/contracts';
import { resolveMediaTools } from './tools';
import { hasRandomAccessPoint, looksLikeTransportStream, maxPts, TsChunker } from './ts';

function packets(count: number, fill = 0): Buffer {
  const buffer = Buffer.alloc(count * TS_PACKET_SIZE, fill);
  for (let i = 0; i < count; i += 1) buffer[i * TS_PACKET_SIZE] = 0x47;
  return buffer;
}

/** A TS packet starting a PES with the given PTS (90 kHz). */
function pesPacket(pts: number): Buffer {
  const packet = Buffer.alloc(TS_PACKET_SIZE, 0xff);
  packet.set([0x47, 0x41, 0x00, 0x10], 0); // PUSI, PID 0x100, payload only
  packet.set([0x00, 0x00, 0x01, 0xe0, 0x00, 0x00, 0x80, 0x80, 0x05], 4);
  const high = Math.floor(pts / 2 ** 30) & 0x7;
  const mid = Math.floor(pts / 2 ** 15) & 0x7fff;
  const low = pts & 0x7fff;
  packet.set([0x21 | (high << 1), mid >> 7, ((mid & 0x7f) << 1) | 1, low >> 7, ((low & 0x7f) << 1) | 1], 13);
  return packet;
}

describe(TsChunker.name, () => {
  it('cuts only whole 188-byte packets and carries the remainder into the next chunk', () => {
    const chunker = new TsChunker({ targetBytes: 10 * TS_PACKET_SIZE });
    const stream = packets(25);
    const out: Buffer[] = [];
    // Awkward read sizes, as a network delivers them.
    for (let offset = 0; offset < stream.length; offset += 333) out.push(...chunker.push(stream.subarray(offset, offset + 333)));
    const last = chunker.drain();
    if (last) out.push(last);
    expect(out.length).toBeGreaterThanOrEqual(2);
    for (const chunk of out) expect(chunk.length % TS_PACKET_SIZE).toBe(0);
    expect(Buffer.concat(out).equals(stream)).toBe(true);
    expect(chunker.misalignedPackets).toBe(0);
    expect(chunker.remainderBytes).toBe(0);
  });

  it('keeps an unfinished packet pending and reports it at the end', () => {
    const chunker = new TsChunker({ targetBytes: 4 * TS_PACKET_SIZE });
    expect(chunker.push(packets(2))).toEqual([]);
    expect(chunker.push(Buffer.from([0x47, 1, 2]))).toEqual([]);
    const drained = chunker.drain();
    expect(drained?.length).toBe(2 * TS_PACKET_SIZE);
    expect(chunker.remainderBytes).toBe(3);
  });

  it('counts packets without the sync byte but still cuts them', () => {
    const chunker = new TsChunker({ targetBytes: TS_PACKET_SIZE });
    const chunks = chunker.push(Buffer.alloc(3 * TS_PACKET_SIZE, 0x11));
    expect(chunks[0]?.length).toBe(3 * TS_PACKET_SIZE);
    expect(chunker.misalignedPackets).toBe(3);
    expect(looksLikeTransportStream(chunks[0])).toBe(false);
    expect(looksLikeTransportStream(packets(3))).toBe(true);
  });

  it('rejects a target below one packet', () => {
    expect(() => new TsChunker({ targetBytes: 100 })).toThrow(/targetBytes/);
  });
});

describe('maxPts', () => {
  it('finds the highest PES presentation timestamp in a chunk', () => {
    const chunk = Buffer.concat([pesPacket(90_000), packets(1), pesPacket(2 ** 32 + 12_345), pesPacket(180_000)]);
    expect(maxPts(chunk)).toBe(2 ** 32 + 12_345);
  });

  it('is undefined when no PES starts in the chunk', () => {
    expect(maxPts(packets(3))).toBeUndefined();
  });
});

describe('hasRandomAccessPoint', () => {
  function packet(flags: number, adaptation = true, streamId = 0xe0): Buffer {
    const p = Buffer.alloc(TS_PACKET_SIZE, 0xff);
    p[0] = 0x47;
    p[1] = 0x40 | 0x01; // payload unit start, PID 0x100
    p[2] = 0x00;
    p[3] = adaptation ? 0x30 : 0x10;
    p[4] = 7;
    p[5] = flags;
    p.set([0x00, 0x00, 0x01, streamId], adaptation ? 12 : 4);
    return p;
  }

  it('finds a video PES start flagged random access (a keyframe) and nothing else', () => {
    expect(hasRandomAccessPoint(Buffer.concat([packets(2), packet(0x40)]))).toBe(true);
    expect(hasRandomAccessPoint(Buffer.concat([packets(2), packet(0x10)]))).toBe(false);
    expect(hasRandomAccessPoint(packet(0x40, false))).toBe(false);
  });

  it('ignores audio PES starts, which ffmpeg flags as random access on every frame', () => {
    expect(hasRandomAccessPoint(packet(0x40, true, 0xc0))).toBe(false);
    expect(hasRandomAccessPoint(Buffer.concat([packet(0x40, true, 0xc0), packet(0x40, true, 0xe0)]))).toBe(true);
  });

  it('counts only the video keyframes of real ffmpeg output', () => {
    const ts = execFileSync(resolveMediaTools().ffmpeg, ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=25', '-f', 'lavfi', '-i', 'sine', '-t', '4', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '50', '-c:a', 'aac', '-f', 'mpegts', 'pipe:1'], { maxBuffer: 64 * 1024 * 1024 });
    let keyframes = 0;
    for (let offset = 0; offset < ts.length; offset += TS_PACKET_SIZE) if (hasRandomAccessPoint(ts.subarray(offset, offset + TS_PACKET_SIZE))) keyframes += 1;
    expect(keyframes).toBe(2);
  });
});
