import * as HLS from 'hls-parser';
import type { MediaPlaylist, PartialSegment } from 'hls-parser/types';

/**
 * Checks a low-latency media playlist against the rules of draft-pantos-hls-rfc8216bis that
 * issue 12 lists, after parsing it with hls-parser (a maintained parser that knows
 * EXT-X-PART, PRELOAD-HINT, RENDITION-REPORT and SKIP). Used by the unit conformance spec on
 * every playlist state the writer produces and by the e2e test on every playlist the running
 * service answers. Returns the parsed playlist; throws with every violation found.
 *
 * hls-parser runs in non-strict mode (its own checks are logged, not thrown): its strict
 * mode applies the 85 % part rule to INDEPENDENT parts too, which the spec exempts; each rule
 * is checked here instead.
 */
export interface ConformanceExpectations {
  /** The other renditions that must have an EXT-X-RENDITION-REPORT. */
  otherRenditions: readonly string[];
  /** Whether a part's first sample is a sync sample (from its bytes or its record); undefined = not checked. */
  startsWithSyncSample?: (uri: string) => boolean | undefined;
}

export interface CheckedPlaylist {
  playlist: MediaPlaylist;
  /** The parts listed (hints excluded), oldest first, with their segment's media sequence. */
  parts: { msn: number; uri: string; duration: number; independent: boolean; last: boolean }[];
  hint: string | null;
  partTarget: number;
  lastMsn: number;
}

HLS.setOptions({ silent: true, strictMode: false });

const attribute = (text: string, tag: string, name: string): string | undefined => {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`#${tag}:`));
  return line ? new RegExp(`(?:^|[:,])${name}=("[^"]*"|[^,]*)`).exec(line.slice(tag.length + 2))?.[1]?.replace(/"/g, '') : undefined;
};

export function checkLowLatencyPlaylist(text: string, expectations: ConformanceExpectations): CheckedPlaylist {
  const problems: string[] = [];
  const fail = (message: string): void => {
    problems.push(message);
  };
  const parsed = HLS.parse(text);
  if (parsed.isMasterPlaylist) throw new Error('expected a media playlist');
  const playlist = parsed;
  const endList = playlist.endlist;
  const target = playlist.targetDuration;
  const partTarget = playlist.partTargetDuration ?? Number.NaN;
  const lines = text.trim().split('\n');
  if (lines[0] !== '#EXTM3U') fail('first line is not #EXTM3U');

  // §4.4.3.7: EXT-X-PART-INF whenever parts appear.
  const hasParts = lines.some((line) => line.startsWith('#EXT-X-PART:'));
  if (hasParts && !Number.isFinite(partTarget)) fail('EXT-X-PART without EXT-X-PART-INF:PART-TARGET');
  // §4.4.3.8: server control.
  const control = playlist.lowLatencyCompatibility;
  if (!control) fail('no EXT-X-SERVER-CONTROL');
  else {
    if (attribute(text, 'EXT-X-SERVER-CONTROL', 'CAN-BLOCK-RELOAD') !== 'YES') fail('CAN-BLOCK-RELOAD is not YES');
    if (!(control.partHoldBack >= 3 * partTarget - 1e-9)) fail(`PART-HOLD-BACK ${control.partHoldBack} < 3 × PART-TARGET ${partTarget}`);
    if (!(control.holdBack >= 3 * target)) fail(`HOLD-BACK ${control.holdBack} < 3 × TARGETDURATION ${target}`);
    const skipUntil = attribute(text, 'EXT-X-SERVER-CONTROL', 'CAN-SKIP-UNTIL');
    if (skipUntil !== undefined && Number(skipUntil) < 6 * target) fail(`CAN-SKIP-UNTIL ${skipUntil} < 6 × TARGETDURATION`);
  }
  if (playlist.mediaSequenceBase !== undefined && playlist.mediaSequenceBase < 1) fail('media sequence starts below 1 (hls.js skips blocking reload at 0)');
  if (!lines.some((line) => line.startsWith('#EXT-X-MAP:'))) fail('no EXT-X-MAP (fMP4 parts need the init segment)');
  if (!lines.some((line) => line.startsWith('#EXT-X-PROGRAM-DATE-TIME:'))) fail('no EXT-X-PROGRAM-DATE-TIME');

  // Parts, segment by segment (hls-parser puts the segment being produced last, with an empty URI).
  const parts: CheckedPlaylist['parts'] = [];
  let hint: string | null = null;
  const segments = playlist.segments;
  // Distance of each segment's start from the playlist's end.
  let fromEnd = 0;
  const startFromEnd = new Map<number, number>();
  for (let i = segments.length - 1; i >= 0; i--) {
    const duration = segments[i].uri ? segments[i].duration : segments[i].parts.reduce((sum, part) => sum + (part.duration ?? 0), 0);
    fromEnd += duration;
    startFromEnd.set(i, fromEnd);
  }
  segments.forEach((segment, i) => {
    const listed = segment.parts.filter((part: PartialSegment) => !part.hint);
    for (const part of segment.parts) if (part.hint) hint = part.uri;
    if (listed.length > 0 && startFromEnd.get(i)! > 3 * target + 0.5) {
      fail(`segment ${segment.mediaSequenceNumber} lists parts ${startFromEnd.get(i)!.toFixed(3)} s from the end (> ~3 target durations)`);
    }
    listed.forEach((part, index) => {
      const duration = part.duration ?? Number.NaN;
      const last = segment.uri !== '' && index === listed.length - 1;
      parts.push({ msn: segment.mediaSequenceNumber, uri: part.uri, duration, independent: part.independent === true, last });
      if (!(duration <= partTarget + 1e-9)) fail(`part ${part.uri} DURATION ${duration} > PART-TARGET ${partTarget}`);
      if (!part.independent && !last && duration < 0.85 * partTarget) fail(`part ${part.uri} DURATION ${duration} < 85 % of PART-TARGET ${partTarget}`);
      if (part.uri.includes('?') && !/^[^?]*\?token=[^&]*$/.test(part.uri)) fail(`part URI ${part.uri} carries a query other than the playback token`);
      const sync = expectations.startsWithSyncSample?.(part.uri);
      if (part.independent && sync === false) fail(`part ${part.uri} is INDEPENDENT=YES but does not start with a sync sample`);
    });
  });
  // §4.4.5.3: one preload hint, none after ENDLIST.
  const hints = lines.filter((line) => line.startsWith('#EXT-X-PRELOAD-HINT:'));
  if (endList && hints.length > 0) fail('EXT-X-PRELOAD-HINT after EXT-X-ENDLIST');
  if (!endList && hints.length !== 1) fail(`${hints.length} EXT-X-PRELOAD-HINT tags (expected one)`);
  if (hints.length === 1 && !/TYPE=PART/.test(hints[0])) fail('the preload hint is not TYPE=PART');
  // §4.4.5.4: a report for every other rendition.
  const reported = playlist.renditionReports.map((report) => report.uri.replace(/\?.*$/, ''));
  for (const name of expectations.otherRenditions) {
    if (!reported.includes(`../${name}/index.m3u8`)) fail(`no EXT-X-RENDITION-REPORT for ${name}`);
  }
  for (const report of playlist.renditionReports) {
    if (!Number.isInteger(report.lastMSN)) fail(`rendition report ${report.uri} without LAST-MSN`);
  }
  // Delta updates: EXT-X-SKIP needs version 9 and only skips segments without listed parts.
  if (playlist.skip > 0 && (playlist.version ?? 0) < 9) fail('EXT-X-SKIP with a version below 9');

  if (problems.length > 0) throw new Error(`low-latency playlist violates the rules:\n- ${problems.join('\n- ')}\n${text}`);
  const lastSegment = segments[segments.length - 1];
  return { playlist, parts, hint, partTarget, lastMsn: lastSegment.mediaSequenceNumber };
}
