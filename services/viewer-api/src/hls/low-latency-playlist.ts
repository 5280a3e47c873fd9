import type { RenditionWindow, WindowPart, WindowSegment } from './segment-window';

/**
 * Low-latency HLS media playlists (draft-pantos-hls-rfc8216bis) from a rendition's window of
 * parts. Pure: the controller hands in the window and the request's options, so every rule is
 * unit-tested and the conformance spec parses what this writes with hls-parser.
 *
 * - EXT-X-PART-INF:PART-TARGET is the longest part seen (rounded up to the ms) or the value the
 *   transcoder reports if larger, §4.4.3.7;
 * - EXT-X-SERVER-CONTROL: CAN-BLOCK-RELOAD, PART-HOLD-BACK = 3 × PART-TARGET, HOLD-BACK = 3 ×
 *   target duration, CAN-SKIP-UNTIL = 6 × target duration (delta updates), §4.4.3.8;
 * - parts are listed for the segments of the last PART_LIST_TARGETS target durations only (they
 *   stay downloadable while their segment is in the window), §6.2.2;
 * - one EXT-X-PRELOAD-HINT for the next part, none after ENDLIST, §4.4.5.3;
 * - EXT-X-RENDITION-REPORT for every other rendition, §4.4.5.4.
 */
export const PART_LIST_TARGETS = 3;
export const HOLD_BACK_TARGETS = 3;
export const PART_HOLD_BACK_PARTS = 3;
export const SKIP_UNTIL_TARGETS = 6;

/** A part's URI, relative to its media playlist: `<msn>.<index>.m4s`. */
export const partUri = (msn: number, index: number): string => `${msn}.${index}.m4s`;
/** A whole segment's URI (its parts concatenated): `<msn>.m4s`. */
export const segmentUri = (msn: number): string => `${msn}.m4s`;

export interface RenditionReport {
  /** Relative to the playlist the report is written in (`../<rendition>/index.m3u8`). */
  uri: string;
  lastMsn: number;
  lastPart: number | null;
}

export interface LowLatencyOptions {
  /** The stream's configured segment duration: TARGETDURATION is at least this. */
  targetDurationSeconds: number;
  endList: boolean;
  /** `_HLS_skip=YES`: a delta update (older segments replaced by EXT-X-SKIP). */
  skip: boolean;
  renditionReports: readonly RenditionReport[];
  /** The PART-TARGET the transcoder reports for the session (stream.status `part_target_seconds`), if any. */
  reportedPartTargetSeconds?: number | null;
}

const seconds = (value: number): string => value.toFixed(3);

/**
 * TARGETDURATION: at least every segment's duration rounded to the nearest integer (rfc8216bis
 * §4.4.3.1; ffmpeg's first segment is a few ms long) and the configured one. It scales HOLD-BACK
 * and how long a blocking request may wait, so it is not rounded up.
 */
export function targetDuration(window: RenditionWindow, configuredSeconds: number): number {
  const longest = window.segments.reduce((max, segment) => Math.max(max, segment.meta.durationSeconds), 0);
  return Math.max(1, Math.round(longest), Math.ceil(configuredSeconds - 0.001));
}

/**
 * PART-TARGET: the longest part actually produced (ffmpeg's parts wobble around the configured
 * length), or the transcoder's reported value when larger (it reports one from the start, so the
 * hold-back does not grow as parts arrive).
 */
export function partTarget(window: RenditionWindow, reportedSeconds?: number | null): number {
  return Math.max(window.partTargetSeconds, reportedSeconds ?? 0);
}

/**
 * The next part's position: the next index of the segment being produced, or the first part of
 * the next segment once it has as many parts as the last complete segment had (segments are
 * GOP-aligned, so that is where the transcoder cuts).
 */
export function nextPartPosition(window: RenditionWindow): { msn: number; index: number } | null {
  const last = window.lastPart;
  if (!last) return null;
  const msn = last.meta.sequence;
  const index = (last.meta.part?.index ?? 0) + 1;
  const previous = window.segments[window.segments.length - 1];
  const partsPerSegment = previous?.parts?.length ?? 0;
  if (window.pending?.sequence === msn && partsPerSegment > 0 && index >= partsPerSegment) return { msn: msn + 1, index: 0 };
  if (window.pending?.sequence !== msn) return { msn: msn + 1, index: 0 };
  return { msn, index };
}

function partLine(part: WindowPart): string {
  const attributes = [`DURATION=${seconds(part.meta.durationSeconds)}`, `URI="${partUri(part.meta.sequence, part.meta.part?.index ?? 0)}"`];
  if (part.meta.part?.independent) attributes.push('INDEPENDENT=YES');
  return `#EXT-X-PART:${attributes.join(',')}`;
}

/** The rendition report of `window` for another rendition's playlist. */
export function renditionReport(name: string, window: RenditionWindow): RenditionReport | null {
  const last = window.lastPart;
  if (!last) return null;
  return { uri: `../${name}/index.m3u8`, lastMsn: last.meta.sequence, lastPart: last.meta.part?.index ?? null };
}

/** Writes a rendition's low-latency media playlist (the window must hold media: `hasMedia`). */
export function writeLowLatencyPlaylist(window: RenditionWindow, options: LowLatencyOptions): string {
  const target = targetDuration(window, options.targetDurationSeconds);
  const partTargetSeconds = partTarget(window, options.reportedPartTargetSeconds);
  const segments: WindowSegment[] = window.segments;
  const pending = window.pending && window.pending.parts.length > 0 ? window.pending : null;
  const mediaSequence = segments[0]?.meta.sequence ?? pending!.sequence;

  // Parts are listed for the newest segments covering PART_LIST_TARGETS target durations.
  let listedFrom = segments.length;
  let covered = pending ? pending.parts.reduce((sum, part) => sum + part.meta.durationSeconds, 0) : 0;
  // A segment's parts stay listed while the segment starts at most that far from the playlist's end.
  while (listedFrom > 0 && covered + segments[listedFrom - 1].meta.durationSeconds <= PART_LIST_TARGETS * target + 0.001) {
    listedFrom -= 1;
    covered += segments[listedFrom].meta.durationSeconds;
  }
  // Delta update: skip the segments that start more than CAN-SKIP-UNTIL before the playlist's end.
  const skipUntil = SKIP_UNTIL_TARGETS * target;
  let skipped = 0;
  if (options.skip && !options.endList) {
    let fromEnd = pending ? pending.parts.reduce((sum, part) => sum + part.meta.durationSeconds, 0) : 0;
    for (let i = segments.length - 1; i >= 0; i--) {
      fromEnd += segments[i].meta.durationSeconds;
      if (fromEnd > skipUntil) {
        skipped = i + 1;
        break;
      }
    }
    skipped = Math.min(skipped, listedFrom);
  }

  const lines = ['#EXTM3U', '#EXT-X-VERSION:9', `#EXT-X-TARGETDURATION:${target}`];
  const control = ['CAN-BLOCK-RELOAD=YES'];
  if (!options.endList) control.push(`CAN-SKIP-UNTIL=${seconds(skipUntil)}`);
  control.push(`PART-HOLD-BACK=${seconds(PART_HOLD_BACK_PARTS * partTargetSeconds)}`, `HOLD-BACK=${seconds(HOLD_BACK_TARGETS * target)}`);
  lines.push(`#EXT-X-SERVER-CONTROL:${control.join(',')}`);
  lines.push(`#EXT-X-PART-INF:PART-TARGET=${seconds(partTargetSeconds)}`);
  lines.push(`#EXT-X-MEDIA-SEQUENCE:${mediaSequence}`);
  if (window.discontinuitySequence > 0) lines.push(`#EXT-X-DISCONTINUITY-SEQUENCE:${window.discontinuitySequence}`);
  if (skipped > 0) lines.push(`#EXT-X-SKIP:SKIPPED-SEGMENTS=${skipped}`);
  if (window.init) lines.push('#EXT-X-MAP:URI="init.mp4"');
  segments.forEach((segment, index) => {
    if (index < skipped) return;
    // The first listed segment's discontinuity is counted by EXT-X-DISCONTINUITY-SEQUENCE.
    if (segment.meta.discontinuity && index > 0) lines.push('#EXT-X-DISCONTINUITY');
    if (segment.meta.programTime) lines.push(`#EXT-X-PROGRAM-DATE-TIME:${segment.meta.programTime}`);
    if (index >= listedFrom) for (const part of segment.parts ?? []) lines.push(partLine(part));
    lines.push(`#EXTINF:${seconds(segment.meta.durationSeconds)},`, segmentUri(segment.meta.sequence));
  });
  if (pending) {
    const first = pending.parts[0].meta;
    if (first.discontinuity && segments.length > 0) lines.push('#EXT-X-DISCONTINUITY');
    if (first.programTime) lines.push(`#EXT-X-PROGRAM-DATE-TIME:${first.programTime}`);
    for (const part of pending.parts) lines.push(partLine(part));
  }
  if (options.endList) {
    lines.push('#EXT-X-ENDLIST');
  } else {
    const next = nextPartPosition(window);
    if (next) lines.push(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="${partUri(next.msn, next.index)}"`);
  }
  for (const report of options.renditionReports) {
    const attributes = [`URI="${report.uri}"`, `LAST-MSN=${report.lastMsn}`];
    if (report.lastPart !== null) attributes.push(`LAST-PART=${report.lastPart}`);
    lines.push(`#EXT-X-RENDITION-REPORT:${attributes.join(',')}`);
  }
  return `${lines.join('\n')}\n`;
}
