import { partMeta, segmentMeta } from '../testing/segment-meta.fixture';
import { nextPartPosition, renditionReport, writeLowLatencyPlaylist, type LowLatencyOptions } from './low-latency-playlist';
import { SegmentWindowStore } from './segment-window';
import { checkLowLatencyPlaylist } from './testing/ll-hls-conformance';

const PARTS = 5;

/** A window of parts: segments from..to-1 complete, then `pending` parts of segment `to`. */
function windowWith(from: number, to: number, pending: number, durations: (msn: number, index: number) => number = () => 0.2, size = 6) {
  const store = new SegmentWindowStore(size, 10_000_000);
  store.add(segmentMeta('a', from, { kind: 'init', contentType: 'video/mp4' }), Buffer.alloc(5));
  const add = (msn: number, index: number) => store.add(partMeta('a', msn, index, { durationSeconds: durations(msn, index) }), Buffer.alloc(10));
  for (let msn = from; msn < to; msn++) for (let index = 0; index < PARTS; index++) add(msn, index);
  for (let index = 0; index < pending; index++) add(to, index);
  store.add(partMeta('a', to, 0, { rendition: '180p' }), Buffer.alloc(10));
  return store.rendition('a', '360p')!;
}

const options = (extra: Partial<LowLatencyOptions> = {}): LowLatencyOptions => ({
  targetDurationSeconds: 1,
  endList: false,
  skip: false,
  renditionReports: [{ uri: '../180p/index.m3u8', lastMsn: 9, lastPart: 0 }],
  ...extra,
});

const syncFromMeta = (uri: string) => /^\d+\.0\.m4s$/.test(uri);

describe(writeLowLatencyPlaylist.name, () => {
  it('writes the LL-HLS tags: PART-INF, SERVER-CONTROL, MAP, PROGRAM-DATE-TIME, parts, one preload hint, rendition reports', () => {
    const text = writeLowLatencyPlaylist(windowWith(4, 9, 2), options());
    const lines = text.trim().split('\n');
    expect(lines.slice(0, 7)).toEqual([
      '#EXTM3U',
      '#EXT-X-VERSION:9',
      '#EXT-X-TARGETDURATION:1',
      '#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL=6.000,PART-HOLD-BACK=0.600,HOLD-BACK=3.000',
      '#EXT-X-PART-INF:PART-TARGET=0.200',
      '#EXT-X-MEDIA-SEQUENCE:4',
      '#EXT-X-MAP:URI="init.mp4"',
    ]);
    expect(lines).toContain('#EXT-X-PART:DURATION=0.200,URI="9.0.m4s",INDEPENDENT=YES');
    expect(lines).toContain('#EXT-X-PART:DURATION=0.200,URI="9.1.m4s"');
    expect(lines.filter((line) => line.startsWith('#EXT-X-PRELOAD-HINT'))).toEqual(['#EXT-X-PRELOAD-HINT:TYPE=PART,URI="9.2.m4s"']);
    expect(lines[lines.length - 1]).toBe('#EXT-X-RENDITION-REPORT:URI="../180p/index.m3u8",LAST-MSN=9,LAST-PART=0');
    // Whole segments for clients without LL support, from the same parts.
    expect(lines).toContain('8.m4s');
    // Parts of old segments are no longer listed (only the last ~3 target durations).
    expect(text).not.toContain('URI="4.0.m4s"');
    expect(text).toContain('URI="7.0.m4s"');
  });

  it('takes the transcoder\'s reported PART-TARGET when it is larger than the longest part seen', () => {
    const window = windowWith(1, 3, 2);
    expect(writeLowLatencyPlaylist(window, options({ reportedPartTargetSeconds: 0.234 }))).toContain('#EXT-X-PART-INF:PART-TARGET=0.234');
    expect(writeLowLatencyPlaylist(window, options({ reportedPartTargetSeconds: 0.1 }))).toContain('#EXT-X-PART-INF:PART-TARGET=0.200');
  });

  it('hints the next segment\'s first part once the segment being produced has as many parts as the last one', () => {
    const window = windowWith(1, 3, PARTS);
    expect(nextPartPosition(window)).toEqual({ msn: 4, index: 0 });
    expect(nextPartPosition(windowWith(1, 3, 1))).toEqual({ msn: 3, index: 1 });
    expect(renditionReport('360p', window)).toEqual({ uri: '../360p/index.m3u8', lastMsn: 3, lastPart: 4 });
  });

  it('answers a delta update with EXT-X-SKIP for segments older than CAN-SKIP-UNTIL', () => {
    const window = windowWith(1, 12, 1, () => 0.2, 20);
    const full = checkLowLatencyPlaylist(writeLowLatencyPlaylist(window, options()), { otherRenditions: ['180p'] });
    const delta = checkLowLatencyPlaylist(writeLowLatencyPlaylist(window, options({ skip: true })), { otherRenditions: ['180p'] });
    expect(full.playlist.skip).toBe(0);
    // 11 complete 1 s segments + 0.2 s: those starting more than 6 s before the end are skipped.
    expect(delta.playlist.skip).toBe(6);
    expect(delta.playlist.segments[0].mediaSequenceNumber).toBe(7);
    expect(delta.lastMsn).toBe(full.lastMsn);
  });

  it('writes no preload hint and no CAN-SKIP-UNTIL after ENDLIST', () => {
    const window = windowWith(1, 4, 3);
    window.completePending();
    const text = writeLowLatencyPlaylist(window, options({ endList: true }));
    expect(text).toContain('#EXT-X-ENDLIST');
    expect(text).not.toContain('PRELOAD-HINT');
    expect(text).not.toContain('CAN-SKIP-UNTIL');
    expect(checkLowLatencyPlaylist(text, { otherRenditions: ['180p'] }).playlist.endlist).toBe(true);
  });
});

describe('LL-HLS playlist conformance (hls-parser)', () => {
  // ffmpeg's parts wobble (it cuts on whichever track crosses the duration): 9–10 AAC frames, 0.192–0.213 s.
  const wobbly = (msn: number, index: number) => [0.2, 0.213, 0.192, 0.2, 0.205][(msn + index) % 5];
  const states: [string, ReturnType<typeof windowWith>, Partial<LowLatencyOptions>][] = [
    ['the first part only', windowWith(1, 1, 1), {}],
    ['one segment being produced', windowWith(1, 1, 3), {}],
    ['a full window', windowWith(3, 9, 4), {}],
    ['a full window at a segment boundary', windowWith(3, 9, PARTS), {}],
    ['wobbling part durations', windowWith(3, 9, 2, wobbly), {}],
    ['a delta update', windowWith(1, 15, 2, () => 0.2, 20), { skip: true }],
    ['2 s segments', windowWith(1, 6, 7, () => 0.4), { targetDurationSeconds: 2 }],
  ];

  it.each(states)('every rule holds for %s', (_name, window, extra) => {
    const text = writeLowLatencyPlaylist(window, options(extra));
    const checked = checkLowLatencyPlaylist(text, { otherRenditions: ['180p'], startsWithSyncSample: syncFromMeta });
    expect(checked.parts.length).toBeGreaterThan(0);
    expect(checked.hint).not.toBeNull();
    expect(checked.partTarget).toBe(window.partTargetSeconds);
    // The last listed part is the window's newest.
    expect(checked.parts[checked.parts.length - 1].uri).toBe(`${window.lastPart!.meta.sequence}.${window.lastPart!.meta.part!.index}.m4s`);
  });

  it('catches violations (the checker is not vacuous)', () => {
    const text = writeLowLatencyPlaylist(windowWith(3, 9, 2), options());
    const broken = [
      text.replace('PART-HOLD-BACK=0.600', 'PART-HOLD-BACK=0.300'),
      text.replace(/#EXT-X-PRELOAD-HINT.*\n/, ''),
      text.replace(/#EXT-X-RENDITION-REPORT.*\n/, ''),
      text.replace('PART-TARGET=0.200', 'PART-TARGET=0.100'),
      text.replace(/URI="9.1.m4s"/, 'URI="9.1.m4s",INDEPENDENT=YES'),
      text.replace('URI="9.0.m4s"', 'URI="9.0.m4s?CMCD=br%3D800"'),
    ];
    for (const playlist of broken) {
      expect(() => checkLowLatencyPlaylist(playlist, { otherRenditions: ['180p'], startsWithSyncSample: syncFromMeta })).toThrow(/violates/);
    }
  });
});
