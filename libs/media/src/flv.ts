/** One FLV tag (what an RTMP publisher sends as one audio/video/data message). */
export interface FlvTag {
  /** 8 audio, 9 video, 18 script data. */
  type: number;
  /** DTS in ms. */
  timestamp: number;
  body: Buffer;
}

/** The tags of an FLV file, header and back-pointers skipped; a truncated last tag is left out. */
export function readFlvTags(flv: Buffer): FlvTag[] {
  const tags: FlvTag[] = [];
  let offset = flv.readUInt32BE(5) + 4;
  while (offset + 11 <= flv.length) {
    const size = flv.readUIntBE(offset + 1, 3);
    const timestamp = (flv.readUIntBE(offset + 4, 3) | (flv[offset + 7] << 24)) >>> 0;
    if (offset + 11 + size > flv.length) break;
    tags.push({ type: flv[offset], timestamp, body: flv.subarray(offset + 11, offset + 11 + size) });
    offset += 11 + size + 4;
  }
  return tags;
}
