/**
 * FLV framing of RTMP media: the payload of an RTMP audio (8), video (9) or data (18) message is
 * exactly an FLV tag body, so a publish becomes an FLV file by adding the 9-byte header and an
 * 11-byte tag header + 4-byte back-pointer around each message.
 */
export const FlvTagType = {
  Audio: 8,
  Video: 9,
  Script: 18,
} as const;
export type FlvTagType = (typeof FlvTagType)[keyof typeof FlvTagType];

/** "FLV", version 1, audio+video present, header size 9, then PreviousTagSize0 = 0. */
export function flvHeader(): Buffer {
  return Buffer.from([0x46, 0x4c, 0x56, 0x01, 0x05, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00]);
}

export function flvTag(type: FlvTagType, timestamp: number, body: Buffer): Buffer {
  const tag = Buffer.alloc(11 + body.length + 4);
  tag[0] = type;
  tag.writeUIntBE(body.length, 1, 3);
  tag.writeUIntBE(timestamp & 0xffffff, 4, 3);
  tag[7] = (timestamp >>> 24) & 0xff;
  // bytes 8–10: stream id, always 0
  body.copy(tag, 11);
  tag.writeUInt32BE(11 + body.length, 11 + body.length);
  return tag;
}

/** FourCCs of Enhanced RTMP video (v1): HEVC, AV1, VP9. */
const ENHANCED_FOURCCS = new Set(['hvc1', 'av01', 'vp09']);

export type CodecCheck = { ok: true; codec: string } | { ok: false; codec: string; reason: string };

/**
 * Whether the remuxer can take this video tag. Legacy FLV codec id 7 (H.264) is the baseline;
 * Enhanced RTMP (the IsExHeader bit, then a FourCC) needs an ffmpeg that reads it (6.1+).
 */
export function checkVideoCodec(body: Buffer, enhancedRtmp: boolean): CodecCheck {
  if (body.length < 1) return { ok: false, codec: 'empty', reason: 'an empty video message' };
  const first = body[0];
  if (first & 0x80) {
    const fourCc = body.length >= 5 ? body.toString('latin1', 1, 5) : '?';
    if (!ENHANCED_FOURCCS.has(fourCc)) return { ok: false, codec: fourCc, reason: `Enhanced RTMP video FourCC '${fourCc}' is not supported (H.264, or HEVC/AV1/VP9 with ffmpeg ≥ 6.1)` };
    if (!enhancedRtmp) {
      return {
        ok: false,
        codec: fourCc,
        reason: `Enhanced RTMP video (${fourCc}) needs ffmpeg ≥ 6.1 on the ingest server; publish H.264 (OBS: Encoder x264 or an H.264 hardware encoder)`,
      };
    }
    return { ok: true, codec: fourCc };
  }
  const codecId = first & 0x0f;
  if (codecId === 7) return { ok: true, codec: 'h264' };
  return { ok: false, codec: `flv-video-${codecId}`, reason: `FLV video codec id ${codecId} is not supported: publish H.264 (codec id 7)` };
}

/** AAC (10) and MP3 (2, and 14 = MP3 8 kHz) are accepted. */
export function checkAudioCodec(body: Buffer): CodecCheck {
  if (body.length < 1) return { ok: false, codec: 'empty', reason: 'an empty audio message' };
  const format = body[0] >> 4;
  if (format === 10) return { ok: true, codec: 'aac' };
  if (format === 2 || format === 14) return { ok: true, codec: 'mp3' };
  return { ok: false, codec: `flv-audio-${format}`, reason: `FLV audio format ${format} is not supported: publish AAC (or MP3)` };
}

/** Whether an ffmpeg version string (`ffmpeg -version`'s first line) reads Enhanced RTMP (≥ 6.1). */
export function ffmpegReadsEnhancedRtmp(versionLine: string): boolean {
  const match = /ffmpeg version n?(\d+)\.(\d+)/.exec(versionLine);
  if (!match) return /ffmpeg version N-/.test(versionLine); // a git build: assume current
  const major = Number(match[1]);
  const minor = Number(match[2]);
  return major > 6 || (major === 6 && minor >= 1);
}
