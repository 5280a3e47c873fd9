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
