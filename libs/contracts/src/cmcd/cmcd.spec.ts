import fc from 'fast-check';
import { CMCD_MAX_LENGTH, parseCmcd, parseCmcdRequest } from './cmcd';

/** What hls.js 1.7 sends (CMCD v1, query mode): keys sorted, strings quoted, tokens bare, booleans as bare keys. */
const HLS_JS_PAYLOAD = 'bl=21300,br=3200,bs,cid="movie-42",d=4004,dl=18500,mtp=48100,nor="..%2F300kbps%2Ftrack.m4v",ot=v,pr=1.08,sf=h,sid="6e2fb550-c457-11e9-bb97-0800200c9a66",st=v,su,tb=6000';

describe('parseCmcd', () => {
  it('parses the hls.js query payload into typed CMCD keys', () => {
    expect(parseCmcd(HLS_JS_PAYLOAD)).toEqual({
      ok: true,
      data: {
        bl: 21300,
        br: 3200,
        bs: true,
        cid: 'movie-42',
        d: 4004,
        dl: 18500,
        mtp: 48100,
        nor: '..%2F300kbps%2Ftrack.m4v',
        ot: 'v',
        pr: 1.08,
        sf: 'h',
        sid: '6e2fb550-c457-11e9-bb97-0800200c9a66',
        st: 'v',
        su: true,
        tb: 6000,
        custom: {},
      },
    });
  });

  it('reads the query parameter exactly as hls.js encodes it (encodeURIComponent)', () => {
    const url = new URL(`http://x/live/s/720p/seg1.ts?CMCD=${encodeURIComponent(HLS_JS_PAYLOAD)}`);
    const parsed = parseCmcdRequest(url.searchParams.get('CMCD') ?? undefined);
    expect(parsed?.ok && parsed.data.sid).toBe('6e2fb550-c457-11e9-bb97-0800200c9a66');
  });

  it('merges the four CMCD headers', () => {
    const parsed = parseCmcdRequest(undefined, {
      'cmcd-request': 'bl=3000,mtp=25400,su',
      'cmcd-object': 'br=3200,d=4004,ot=v',
      'cmcd-status': 'bs,rtp=15000',
      'cmcd-session': 'cid="faq",sid="abc",sf=h,st=l',
    });
    expect(parsed).toEqual({
      ok: true,
      data: { bl: 3000, mtp: 25400, su: true, br: 3200, d: 4004, ot: 'v', bs: true, rtp: 15000, cid: 'faq', sid: 'abc', sf: 'h', st: 'l', custom: {} },
    });
  });

  it('returns undefined when a request has no CMCD', () => {
    expect(parseCmcdRequest(undefined, { accept: '*/*' })).toBeUndefined();
  });

  it('accepts ?0/?1 booleans, escapes, spaces after commas, vendor keys and repeated keys (last wins)', () => {
    expect(parseCmcd('bs=?0, su=?1,cid="a\\"b\\\\c",com.example-x=7,br=1,br=2')).toEqual({
      ok: true,
      data: { bs: false, su: true, cid: 'a"b\\c', br: 2, custom: { 'com.example-x': 7 } },
    });
  });

  it.each([
    ['unterminated string', 'sid="abc'],
    ['wrong type for a known key', 'br="fast"'],
    ['negative bitrate', 'br=-5'],
    ['unknown object type', 'ot=x'],
    ['boolean key with a value', 'bs=1'],
    ['trailing comma', 'br=1,'],
    ['missing comma', 'br=1 bl=2'],
    ['upper-case key', 'BR=1'],
    ['bad escape', 'sid="a\\n"'],
    ['inner list (CMCD v2)', 'br=(3200 6000)'],
    ['parameters', 'br=1;x=2'],
    ['too many digits', 'bl=1234567890123456'],
    ['sid too long', `sid="${'a'.repeat(65)}"`],
    ['non-ASCII in a string', 'cid="é"'],
  ])('rejects %s', (_name, payload) => {
    const result = parseCmcd(payload);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatch(/CMCD/);
  });

  it('rejects a payload over the length limit', () => {
    expect(parseCmcd(`cid="${'a'.repeat(CMCD_MAX_LENGTH)}"`).ok).toBe(false);
  });

  it('rejects two CMCD query parameters', () => {
    expect(parseCmcdRequest(['br=1', 'br=2'])?.ok).toBe(false);
  });
});

describe('parseCmcd (property-based)', () => {
  it('never throws, whatever the input', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (input) => {
        const result = parseCmcd(input);
        expect(typeof result.ok).toBe('boolean');
      }),
      { numRuns: 1000 },
    );
  });

  it('never throws on inputs built from CMCD-like pieces', () => {
    const piece = fc.constantFrom('br', 'bl', 'sid', 'ot', 'su', 'bs', '=', ',', '"', '\\', '?0', '?1', '-', '1', '.', ' ', 'v', '(', ';', 'x');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 40 }), fc.dictionary(fc.string(), fc.string()), (pieces, headers) => {
        parseCmcd(pieces.join(''));
        parseCmcdRequest(pieces.join(''), headers);
      }),
      { numRuns: 3000 },
    );
  });

  it('round-trips well-formed payloads', () => {
    const sid = fc.string({ unit: fc.constantFrom(...'abcdef0123456789-'.split('')), minLength: 1, maxLength: 64 });
    fc.assert(
      fc.property(fc.nat({ max: 1e9 }), fc.nat({ max: 1e6 }), sid, fc.boolean(), fc.constantFrom('m', 'a', 'v', 'av', 'i'), (bl, br, id, bs, ot) => {
        const payload = [`bl=${bl}`, `br=${br}`, bs ? 'bs' : 'bs=?0', `ot=${ot}`, `sid="${id}"`].join(',');
        expect(parseCmcd(payload)).toEqual({ ok: true, data: { bl, br, bs, ot, sid: id, custom: {} } });
      }),
    );
  });
});
