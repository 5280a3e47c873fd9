import { TS_PACKET_SIZE } from '@tributary/contracts';

/**
 * One MPEG-TS packet that starts a video PES (stream_id 0xE0), with the adaptation field's
 * random_access_indicator set when `keyframe`: what libs/media's hasRandomAccessPoint takes for a
 * video keyframe. `size` pads the buffer (a chunk of one such packet followed by filler).
 */
export function videoPesPacket(keyframe = true, size = TS_PACKET_SIZE): Buffer {
  const data = Buffer.alloc(Math.max(size, TS_PACKET_SIZE), 0xff);
  // sync, payload unit start + PID 0x100, adaptation field + payload, 7 adaptation bytes, flags
  data.set([0x47, 0x41, 0x00, 0x30, 7, keyframe ? 0x40 : 0x00], 0);
  data.set([0x00, 0x00, 0x01, 0xe0], 12);
  return data;
}

/**
 * A video PES start (as videoPesPacket) whose PES header carries a PTS of `seconds` (90 kHz), then
 * filler to `size` (the probe waits for 1 KiB): what maxPts reads as the chunk's highest PTS.
 */
export function timedVideoPesPacket(seconds: number, keyframe: boolean, size = 1024): Buffer {
  const data = Buffer.alloc(Math.max(size, TS_PACKET_SIZE), 0xff);
  const pts = Math.round(seconds * 90_000);
  // sync, payload unit start + PID 0x100, adaptation field + payload, 1 adaptation byte, flags
  data.set([0x47, 0x41, 0x00, 0x30, 1, keyframe ? 0x40 : 0x00], 0);
  // PES start (video), length 0, flags: PTS only, header length 5
  data.set([0, 0, 1, 0xe0, 0, 0, 0x80, 0x80, 5], 6);
  data.set([0x21 | ((pts / 2 ** 29) & 0x0e), (pts >> 22) & 0xff, ((pts >> 14) & 0xfe) | 1, (pts >> 7) & 0xff, ((pts << 1) & 0xfe) | 1], 15);
  return data;
}
