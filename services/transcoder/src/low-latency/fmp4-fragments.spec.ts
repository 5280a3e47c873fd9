import { Fmp4FragmentReader, type Fmp4Output } from './fmp4-fragments';
import { fmp4Fixture, requireLowLatencyFfmpeg } from './testing/fmp4-fixture';

type Fragment = Extract<Fmp4Output, { kind: 'fragment' }>;

function readAll(data: Buffer, chunk: number): Fmp4Output[] {
  const reader = new Fmp4FragmentReader();
  const out: Fmp4Output[] = [];
  for (let i = 0; i < data.length; i += chunk) out.push(...reader.push(data.subarray(i, i + chunk)));
  return out;
}

describe(Fmp4FragmentReader.name, () => {
  let fixture: Buffer;
  beforeAll(async () => {
    requireLowLatencyFfmpeg();
    fixture = await fmp4Fixture(3);
  }, 60_000);

  it('reads the init segment (ftyp+moov) and every part (moof+mdat) of real ffmpeg output, with tfdt/trun time and sync flags', () => {
    const out = readAll(fixture, 64 * 1024);
    const [init, ...rest] = out;
    expect(init.kind).toBe('init');
    if (init.kind !== 'init') return;
    expect(init.data.toString('latin1', 4, 8)).toBe('ftyp');
    expect(init.tracks.map((track) => track.handler).sort()).toEqual(['soun', 'vide']);
    const parts = rest as Fragment[];
    expect(parts.every((part) => part.kind === 'fragment')).toBe(true);
    // 3 s at 200 ms: 15 parts; a keyframe every 30 frames = every 5th part.
    expect(parts.length).toBe(15);
    expect(parts.map((part) => part.independent)).toEqual(parts.map((_, i) => i % 5 === 0));
    expect(parts.map((part) => part.samples)).toEqual(parts.map(() => 6));
    for (const part of parts) {
      expect(part.data.toString('latin1', 4, 8)).toBe('moof');
      expect(part.durationSeconds).toBeGreaterThan(0.19);
      expect(part.durationSeconds).toBeLessThan(0.25);
    }
    // Parts follow each other on the media timeline.
    for (let i = 1; i < parts.length; i += 1) expect(parts[i].startSeconds).toBeCloseTo(parts[i - 1].startSeconds + parts[i - 1].durationSeconds, 3);
    // Nothing lost: init + parts are the file (minus ffmpeg's trailing mfra).
    const joined = Buffer.concat(out.map((item) => item.data));
    expect(fixture.subarray(0, joined.length).equals(joined)).toBe(true);
  });

  it('gives the same parts when the pipe delivers one byte at a time', () => {
    const describe = (items: Fmp4Output[]) =>
      items.map((item) => (item.kind === 'init' ? `init:${item.data.length}` : `${item.startSeconds}:${item.durationSeconds}:${item.independent}:${item.data.length}`));
    expect(describe(readAll(fixture, 1))).toEqual(describe(readAll(fixture, 64 * 1024)));
  }, 60_000);

  it('refuses a stream that is out of order (a part before the init segment)', () => {
    const [, ...after] = readAll(fixture, 64 * 1024);
    const firstPart = (after[0] as Fragment).data;
    expect(() => new Fmp4FragmentReader().push(firstPart)).toThrow(/moof before the init segment/);
  });
});
