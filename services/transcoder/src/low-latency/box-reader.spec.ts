import { BoxReader, childBoxes } from './box-reader';
import { fmp4Fixture, itWithLowLatencyFfmpeg } from './testing/fmp4-fixture';

function box(type: string, body: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32BE(8 + body.length, 0);
  header.write(type, 4, 'latin1');
  return Buffer.concat([header, body]);
}

describe(BoxReader.name, () => {
  it('reassembles boxes cut at every byte, in order', () => {
    const stream = Buffer.concat([box('ftyp', Buffer.from('isom')), box('moof', Buffer.alloc(300, 1)), box('mdat', Buffer.alloc(5000, 2))]);
    const reader = new BoxReader();
    const types: string[] = [];
    const sizes: number[] = [];
    for (let i = 0; i < stream.length; i += 1) {
      for (const found of reader.push(stream.subarray(i, i + 1))) {
        types.push(found.type);
        sizes.push(found.data.length);
      }
    }
    expect(types).toEqual(['ftyp', 'moof', 'mdat']);
    expect(sizes).toEqual([12, 308, 5008]);
    expect(reader.buffered).toBe(0);
  });

  it('reads 64-bit box sizes', () => {
    const body = Buffer.alloc(20, 7);
    const large = Buffer.alloc(16);
    large.writeUInt32BE(1, 0);
    large.write('mdat', 4, 'latin1');
    large.writeBigUInt64BE(BigInt(16 + body.length), 8);
    const [found] = new BoxReader().push(Buffer.concat([large, body]));
    expect(found.type).toBe('mdat');
    expect(found.data.length).toBe(36);
  });

  it('rejects absurd sizes before buffering them (memory stays bounded)', () => {
    const huge = Buffer.alloc(8);
    huge.writeUInt32BE(0xffff_fff0, 0);
    huge.write('mdat', 4, 'latin1');
    expect(() => new BoxReader(1024 * 1024).push(huge)).toThrow(/more than the 1048576 accepted/);
    const tiny = Buffer.alloc(8);
    tiny.writeUInt32BE(3, 0);
    tiny.write('moof', 4, 'latin1');
    expect(() => new BoxReader().push(tiny)).toThrow(/less than its header/);
    const toEnd = Buffer.alloc(8);
    toEnd.write('mdat', 4, 'latin1');
    expect(() => new BoxReader().push(toEnd)).toThrow(/end of the stream/);
  });

  it('walks child boxes and refuses one that overruns its container', () => {
    const children = Buffer.concat([box('tfhd', Buffer.alloc(8)), box('trun', Buffer.alloc(12))]);
    expect(childBoxes(children).map((child) => child.type)).toEqual(['tfhd', 'trun']);
    const broken = Buffer.from(children);
    broken.writeUInt32BE(400, 0);
    expect(() => childBoxes(broken)).toThrow(/overruns/);
  });

  itWithLowLatencyFfmpeg('splits real ffmpeg fMP4 pipe output into the same boxes whatever the chunking', async () => {
    const fixture = await fmp4Fixture(2);
    const whole = new BoxReader().push(fixture);
    expect(whole.map((found) => found.type).slice(0, 4)).toEqual(['ftyp', 'moov', 'moof', 'mdat']);
    expect(Buffer.concat(whole.map((found) => found.data)).equals(fixture)).toBe(true);
    const reader = new BoxReader();
    const byteByByte = [];
    for (let i = 0; i < fixture.length; i += 1) byteByByte.push(...reader.push(fixture.subarray(i, i + 1)));
    expect(byteByByte.map((found) => found.type)).toEqual(whole.map((found) => found.type));
    expect(Buffer.concat(byteByByte.map((found) => found.data)).equals(fixture)).toBe(true);
  }, 60_000);
});
