import { readFlvTags } from './flv';

/** An FLV file: 9-byte header + PreviousTagSize0, then tags each followed by their back-pointer. */
function flvFile(tags: { type: number; timestamp: number; body: Buffer }[]): Buffer {
  const parts: Buffer[] = [Buffer.from([0x46, 0x4c, 0x56, 1, 5, 0, 0, 0, 9]), Buffer.alloc(4)];
  for (const tag of tags) {
    const header = Buffer.alloc(11);
    header[0] = tag.type;
    header.writeUIntBE(tag.body.length, 1, 3);
    header.writeUIntBE(tag.timestamp & 0xffffff, 4, 3);
    header[7] = tag.timestamp >>> 24;
    const back = Buffer.alloc(4);
    back.writeUInt32BE(11 + tag.body.length);
    parts.push(header, tag.body, back);
  }
  return Buffer.concat(parts);
}

describe(readFlvTags.name, () => {
  it('reads every tag with its type, 32-bit timestamp (extended byte included) and body', () => {
    const tags = [
      { type: 18, timestamp: 0, body: Buffer.from('meta') },
      { type: 9, timestamp: 33, body: Buffer.from([0x17, 1, 0, 0, 0, 9]) },
      { type: 8, timestamp: 0x01_00_00_05, body: Buffer.from([0xaf, 1, 2]) },
    ];
    expect(readFlvTags(flvFile(tags))).toEqual(tags);
  });

  it('leaves out a truncated last tag', () => {
    const file = flvFile([
      { type: 9, timestamp: 0, body: Buffer.alloc(10) },
      { type: 9, timestamp: 40, body: Buffer.alloc(100) },
    ]);
    expect(readFlvTags(file.subarray(0, file.length - 20)).map((tag) => tag.timestamp)).toEqual([0]);
  });
});
