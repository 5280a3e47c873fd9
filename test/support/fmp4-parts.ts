import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MEDIA_TOOLS } from './media-tools';

/**
 * Real low-latency parts for viewer tests: the resolved ffmpeg (≥ 5, e.g. Debian's; callers skip
 * with `lowLatencySupport` otherwise) writes fragmented MP4 the way
 * the low-latency transcoder does (`+empty_moov+default_base_moof+frag_keyframe`,
 * `-frag_duration 200000`), and the file is split into the init segment (ftyp+moov) and parts
 * (moof+mdat), each with its duration (video track), whether it starts with a sync sample
 * (trun/tfhd/trex sample flags), and its media sequence number (a segment starts at each
 * keyframe; numbering from 1).
 */
const run = promisify(execFile);

export interface Fmp4Part {
  msn: number;
  index: number;
  durationSeconds: number;
  independent: boolean;
  /** Media time of the part's first video sample (s from the start). */
  startSeconds: number;
  bytes: Buffer;
}

export interface Fmp4Rendition {
  init: Buffer;
  parts: Fmp4Part[];
}

interface Box {
  type: string;
  start: number;
  end: number;
  /** Payload start (after the header). */
  body: number;
}

function boxes(buffer: Buffer, start = 0, end = buffer.length): Box[] {
  const result: Box[] = [];
  let offset = start;
  while (offset + 8 <= end) {
    let size = buffer.readUInt32BE(offset);
    const type = buffer.toString('latin1', offset + 4, offset + 8);
    let header = 8;
    if (size === 1) {
      size = Number(buffer.readBigUInt64BE(offset + 8));
      header = 16;
    } else if (size === 0) {
      size = end - offset;
    }
    if (size < header || offset + size > end) throw new Error(`bad box ${type} at ${offset}`);
    result.push({ type, start: offset, end: offset + size, body: offset + header });
    offset += size;
  }
  return result;
}

const child = (buffer: Buffer, box: Box, type: string): Box | undefined => boxes(buffer, box.body, box.end).find((b) => b.type === type);
const path = (buffer: Buffer, box: Box, ...types: string[]): Box | undefined =>
  types.reduce<Box | undefined>((current, type) => (current ? child(buffer, current, type) : undefined), box);

const NON_SYNC = 0x10000;

/** Splits a fragmented MP4 into its init segment and parts. */
export function splitFmp4(file: Buffer): Fmp4Rendition {
  const top = boxes(file);
  const moov = top.find((box) => box.type === 'moov');
  if (!moov) throw new Error('no moov');
  const init = file.subarray(0, moov.end);
  // Video track: id, timescale; trex defaults.
  let videoTrack = -1;
  let timescale = 1;
  for (const trak of boxes(file, moov.body, moov.end).filter((box) => box.type === 'trak')) {
    const handler = path(file, trak, 'mdia', 'hdlr');
    if (!handler || file.toString('latin1', handler.body + 8, handler.body + 12) !== 'vide') continue;
    const tkhd = child(file, trak, 'tkhd')!;
    videoTrack = file.readUInt32BE(tkhd.body + (file[tkhd.body] === 1 ? 20 : 12));
    const mdhd = path(file, trak, 'mdia', 'mdhd')!;
    timescale = file.readUInt32BE(mdhd.body + (file[mdhd.body] === 1 ? 20 : 12));
  }
  const trexDefaults = { duration: 0, flags: 0 };
  for (const trex of boxes(file, child(file, moov, 'mvex')?.body ?? 0, child(file, moov, 'mvex')?.end ?? 0).filter((b) => b.type === 'trex')) {
    if (file.readUInt32BE(trex.body + 4) === videoTrack) {
      trexDefaults.duration = file.readUInt32BE(trex.body + 12);
      trexDefaults.flags = file.readUInt32BE(trex.body + 20);
    }
  }
  const parts: Fmp4Part[] = [];
  let msn = 0;
  let index = 0;
  for (let i = 0; i < top.length; i++) {
    if (top[i].type !== 'moof') continue;
    const moof = top[i];
    const mdat = top[i + 1];
    if (mdat?.type !== 'mdat') throw new Error('moof without mdat');
    let duration = 0;
    let independent = false;
    let start = 0;
    for (const traf of boxes(file, moof.body, moof.end).filter((b) => b.type === 'traf')) {
      const tfhd = child(file, traf, 'tfhd')!;
      if (file.readUInt32BE(tfhd.body + 4) !== videoTrack) continue;
      const tfhdFlags = file.readUInt32BE(tfhd.body) & 0xffffff;
      let cursor = tfhd.body + 8;
      if (tfhdFlags & 0x01) cursor += 8;
      if (tfhdFlags & 0x02) cursor += 4;
      const defaultDuration = tfhdFlags & 0x08 ? file.readUInt32BE(cursor + 0) : trexDefaults.duration;
      if (tfhdFlags & 0x08) cursor += 4;
      if (tfhdFlags & 0x10) cursor += 4;
      const defaultFlags = tfhdFlags & 0x20 ? file.readUInt32BE(cursor) : trexDefaults.flags;
      const tfdt = child(file, traf, 'tfdt')!;
      start = file[tfdt.body] === 1 ? Number(file.readBigUInt64BE(tfdt.body + 4)) : file.readUInt32BE(tfdt.body + 4);
      const trun = child(file, traf, 'trun')!;
      const flags = file.readUInt32BE(trun.body) & 0xffffff;
      const count = file.readUInt32BE(trun.body + 4);
      let at = trun.body + 8;
      if (flags & 0x01) at += 4;
      let firstFlags: number | null = null;
      if (flags & 0x04) {
        firstFlags = file.readUInt32BE(at);
        at += 4;
      }
      for (let s = 0; s < count; s++) {
        const sampleDuration = flags & 0x100 ? file.readUInt32BE(at) : defaultDuration;
        if (flags & 0x100) at += 4;
        if (flags & 0x200) at += 4;
        let sampleFlags = defaultFlags;
        if (flags & 0x400) {
          sampleFlags = file.readUInt32BE(at);
          at += 4;
        }
        if (flags & 0x800) at += 4;
        if (s === 0) independent = ((firstFlags ?? sampleFlags) & NON_SYNC) === 0;
        duration += sampleDuration;
      }
    }
    if (independent || msn === 0) {
      msn += 1;
      index = 0;
    }
    parts.push({
      msn,
      index,
      durationSeconds: duration / timescale,
      independent,
      startSeconds: start / timescale,
      bytes: file.subarray(moof.start, mdat.end),
    });
    index += 1;
  }
  return { init, parts };
}

/** `seconds` of test pattern + tone at 30 fps, 1 s GOPs, cut into ~200 ms parts. */
export async function makeFmp4Parts(size: { width: number; height: number }, seconds: number): Promise<Fmp4Rendition> {
  const dir = await mkdtemp(join(tmpdir(), 'tributary-parts-'));
  try {
    const out = join(dir, 'out.mp4');
    await run(MEDIA_TOOLS.ffmpeg, [
      '-hide_banner', '-loglevel', 'error', '-nostdin',
      '-f', 'lavfi', '-i', `testsrc2=size=${size.width}x${size.height}:rate=30`,
      '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
      '-t', String(seconds),
      '-c:v', 'libx264', '-preset', 'ultrafast', '-profile:v', 'baseline', '-pix_fmt', 'yuv420p',
      '-g', '30', '-keyint_min', '30', '-sc_threshold', '0', '-threads', '1',
      '-c:a', 'aac', '-b:a', '64k', '-ac', '2',
      '-f', 'mp4', '-movflags', '+empty_moov+default_base_moof+frag_keyframe', '-frag_duration', '200000', out,
    ]);
    return splitFmp4(await readFile(out));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
