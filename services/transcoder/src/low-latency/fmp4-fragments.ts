import { type Box, boxBody, BoxReader, childBoxes, DEFAULT_MAX_BOX_BYTES } from './box-reader';

/** A track of the init segment, as the fragments need it. */
export interface Fmp4Track {
  id: number;
  /** `vide`, `soun`… */
  handler: string;
  timescale: number;
  /** trex defaults (used when a fragment's tfhd/trun do not say). */
  defaultSampleDuration: number;
  defaultSampleFlags: number;
}

/** What a fragmented MP4 byte stream yields: its init segment, then one fragment (moof+mdat) at a time. */
export type Fmp4Output =
  | { kind: 'init'; data: Buffer; tracks: Fmp4Track[] }
  | {
      kind: 'fragment';
      data: Buffer;
      /** Start (tfdt) and duration of the reference track (video if any), in seconds. */
      startSeconds: number;
      durationSeconds: number;
      /** The reference track's first sample is a sync sample (the part is independently decodable). */
      independent: boolean;
      /** Samples of the reference track in the fragment. */
      samples: number;
    };

/** `sample_is_non_sync_sample` in ISO/IEC 14496-12 sample flags. */
const NON_SYNC = 0x0001_0000;

/**
 * Reads ffmpeg's fragmented MP4 (`-movflags +empty_moov+default_base_moof+frag_keyframe`) from a
 * byte stream cut anywhere: the init segment is ftyp+moov, each part is moof+mdat. From the moov
 * come each track's timescale and trex defaults; from a moof's traf the tfdt (baseMediaDecodeTime)
 * and trun (sample durations, first-sample and sample flags) of the reference track give the
 * part's start, duration and whether it starts with a sync sample. Other top-level boxes (mfra at
 * the end, free, sidx, styp) are ignored.
 */
export class Fmp4FragmentReader {
  private readonly boxes: BoxReader;
  private ftyp?: Box;
  private tracks?: Fmp4Track[];
  private moof?: Box;

  constructor(maxBoxBytes = DEFAULT_MAX_BOX_BYTES) {
    this.boxes = new BoxReader(maxBoxBytes);
  }

  /** Bytes held for output not yet complete. */
  get buffered(): number {
    return this.boxes.buffered + (this.moof?.data.length ?? 0);
  }

  push(chunk: Buffer): Fmp4Output[] {
    const out: Fmp4Output[] = [];
    for (const box of this.boxes.push(chunk)) {
      const item = this.take(box);
      if (item) out.push(item);
    }
    return out;
  }

  private take(box: Box): Fmp4Output | undefined {
    switch (box.type) {
      case 'ftyp':
        this.ftyp = box;
        this.moof = undefined;
        return undefined;
      case 'moov': {
        if (!this.ftyp) throw new Error('moov without a preceding ftyp');
        this.tracks = parseMoov(box);
        const data = Buffer.concat([this.ftyp.data, box.data]);
        this.ftyp = undefined;
        return { kind: 'init', data, tracks: this.tracks };
      }
      case 'moof':
        if (!this.tracks) throw new Error('moof before the init segment (ftyp+moov)');
        if (this.moof) throw new Error('moof followed by another moof, not by its mdat');
        this.moof = box;
        return undefined;
      case 'mdat': {
        const moof = this.moof;
        if (!moof || !this.tracks) throw new Error('mdat without its moof');
        this.moof = undefined;
        return { kind: 'fragment', data: Buffer.concat([moof.data, box.data]), ...describeFragment(moof, this.tracks) };
      }
      default:
        return undefined;
    }
  }
}

function fullBoxVersion(body: Buffer): { version: number; flags: number } {
  return { version: body.readUInt8(0), flags: body.readUInt32BE(0) & 0xff_ffff };
}

function find(boxes: Box[], type: string): Box | undefined {
  return boxes.find((box) => box.type === type);
}

/** Track ids, handlers, timescales and trex defaults of an init segment's moov. */
export function parseMoov(moov: Box): Fmp4Track[] {
  const children = childBoxes(boxBody(moov));
  const trex = new Map<number, { duration: number; flags: number }>();
  const mvex = find(children, 'mvex');
  for (const box of mvex ? childBoxes(boxBody(mvex)) : []) {
    if (box.type !== 'trex') continue;
    const body = boxBody(box);
    // version/flags, track_ID, default_sample_description_index, duration, size, flags
    trex.set(body.readUInt32BE(4), { duration: body.readUInt32BE(12), flags: body.readUInt32BE(20) });
  }
  const tracks: Fmp4Track[] = [];
  for (const trak of children.filter((box) => box.type === 'trak')) {
    const inTrak = childBoxes(boxBody(trak));
    const tkhd = find(inTrak, 'tkhd');
    const mdia = find(inTrak, 'mdia');
    if (!tkhd || !mdia) throw new Error('trak without tkhd or mdia');
    const tkhdBody = boxBody(tkhd);
    const id = tkhdBody.readUInt32BE(fullBoxVersion(tkhdBody).version === 1 ? 20 : 12);
    const inMdia = childBoxes(boxBody(mdia));
    const mdhd = find(inMdia, 'mdhd');
    const hdlr = find(inMdia, 'hdlr');
    if (!mdhd || !hdlr) throw new Error('mdia without mdhd or hdlr');
    const mdhdBody = boxBody(mdhd);
    const timescale = mdhdBody.readUInt32BE(fullBoxVersion(mdhdBody).version === 1 ? 20 : 12);
    if (timescale === 0) throw new Error(`track ${id} has timescale 0`);
    const handler = boxBody(hdlr).toString('latin1', 8, 12);
    const defaults = trex.get(id) ?? { duration: 0, flags: 0 };
    tracks.push({ id, handler, timescale, defaultSampleDuration: defaults.duration, defaultSampleFlags: defaults.flags });
  }
  if (tracks.length === 0) throw new Error('moov has no tracks');
  return tracks;
}

interface TrafInfo {
  trackId: number;
  baseMediaDecodeTime: number;
  duration: number;
  samples: number;
  firstSampleFlags: number;
}

function parseTraf(traf: Box, tracks: readonly Fmp4Track[]): TrafInfo {
  const children = childBoxes(boxBody(traf));
  const tfhd = find(children, 'tfhd');
  if (!tfhd) throw new Error('traf without tfhd');
  const tfhdBody = boxBody(tfhd);
  const tfhdFlags = fullBoxVersion(tfhdBody).flags;
  const trackId = tfhdBody.readUInt32BE(4);
  const track = tracks.find((candidate) => candidate.id === trackId);
  if (!track) throw new Error(`traf of track ${trackId}, which the init segment does not declare`);
  let at = 8;
  if (tfhdFlags & 0x01) at += 8; // base_data_offset
  if (tfhdFlags & 0x02) at += 4; // sample_description_index
  let defaultDuration = track.defaultSampleDuration;
  let defaultFlags = track.defaultSampleFlags;
  if (tfhdFlags & 0x08) {
    defaultDuration = tfhdBody.readUInt32BE(at);
    at += 4;
  }
  if (tfhdFlags & 0x10) at += 4; // default_sample_size
  if (tfhdFlags & 0x20) defaultFlags = tfhdBody.readUInt32BE(at);

  const tfdt = find(children, 'tfdt');
  let baseMediaDecodeTime = 0;
  if (tfdt) {
    const body = boxBody(tfdt);
    baseMediaDecodeTime = fullBoxVersion(body).version === 1 ? Number(body.readBigUInt64BE(4)) : body.readUInt32BE(4);
  }
  let duration = 0;
  let samples = 0;
  let firstSampleFlags: number | undefined;
  for (const trun of children.filter((box) => box.type === 'trun')) {
    const body = boxBody(trun);
    const flags = fullBoxVersion(body).flags;
    const count = body.readUInt32BE(4);
    let pos = 8;
    if (flags & 0x001) pos += 4; // data_offset
    let runFirstFlags: number | undefined;
    if (flags & 0x004) {
      runFirstFlags = body.readUInt32BE(pos);
      pos += 4;
    }
    const perSample = [0x100, 0x200, 0x400, 0x800].filter((bit) => flags & bit).length * 4;
    if (pos + count * perSample > body.length) throw new Error(`trun of track ${trackId} declares ${count} samples, more than it holds`);
    for (let i = 0; i < count; i += 1) {
      let sampleDuration = defaultDuration;
      let sampleFlags = i === 0 && runFirstFlags !== undefined ? runFirstFlags : defaultFlags;
      if (flags & 0x100) {
        sampleDuration = body.readUInt32BE(pos);
        pos += 4;
      }
      if (flags & 0x200) pos += 4; // size
      if (flags & 0x400) {
        const explicit = body.readUInt32BE(pos);
        pos += 4;
        if (!(i === 0 && runFirstFlags !== undefined)) sampleFlags = explicit;
      }
      if (flags & 0x800) pos += 4; // composition time offset
      if (samples === 0 && i === 0) firstSampleFlags = sampleFlags;
      duration += sampleDuration;
    }
    samples += count;
  }
  return { trackId, baseMediaDecodeTime, duration, samples, firstSampleFlags: firstSampleFlags ?? defaultFlags };
}

/** Start, duration and independence of a fragment, from its reference track (the video track if any). */
export function describeFragment(moof: Box, tracks: readonly Fmp4Track[]): { startSeconds: number; durationSeconds: number; independent: boolean; samples: number } {
  const trafs = childBoxes(boxBody(moof))
    .filter((box) => box.type === 'traf')
    .map((traf) => parseTraf(traf, tracks));
  if (trafs.length === 0) throw new Error('moof without traf');
  const reference = referenceTrack(tracks);
  const traf = trafs.find((candidate) => candidate.trackId === reference.id) ?? trafs[0];
  const track = tracks.find((candidate) => candidate.id === traf.trackId)!;
  return {
    startSeconds: traf.baseMediaDecodeTime / track.timescale,
    durationSeconds: traf.duration / track.timescale,
    // Audio-only: every AAC frame is a sync sample.
    independent: track.handler === 'vide' ? traf.samples > 0 && (traf.firstSampleFlags & NON_SYNC) === 0 : true,
    samples: traf.samples,
  };
}

/** The track whose time a part is measured in: video when there is one. */
export function referenceTrack(tracks: readonly Fmp4Track[]): Fmp4Track {
  return tracks.find((track) => track.handler === 'vide') ?? tracks[0];
}
