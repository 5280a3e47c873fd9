import { Amf0DecodeError, Amf0EcmaArray, decodeAmf0, encodeAmf0 } from './amf0';

describe('AMF0', () => {
  it('round-trips a connect command as OBS sends it', () => {
    const command = { app: 'live', type: 'nonprivate', flashVer: 'FMLE/3.0 (compatible; FMSc/1.0)', swfUrl: 'rtmp://host/live', tcUrl: 'rtmp://host/live' };
    expect(decodeAmf0(encodeAmf0('connect', 1, command))).toEqual(['connect', 1, command]);
  });

  it('round-trips releaseStream, FCPublish, createStream, publish, FCUnpublish and deleteStream', () => {
    for (const values of [
      ['releaseStream', 2, null, 'key'],
      ['FCPublish', 3, null, 'key'],
      ['createStream', 4, null],
      ['publish', 5, null, 'key', 'live'],
      ['FCUnpublish', 6, null, 'key'],
      ['deleteStream', 7, null, 1],
    ]) {
      expect(decodeAmf0(encodeAmf0(...values))).toEqual(values);
    }
  });

  it('decodes @setDataFrame onMetaData with an ECMA array, nested objects, booleans, strict arrays and dates', () => {
    const when = new Date('2026-12-02T07:00:00.000Z');
    const encoded = encodeAmf0('@setDataFrame', 'onMetaData', new Amf0EcmaArray({ width: 1280, height: 720, stereo: true, encoder: 'obs', list: [1, 'a'], when, nested: { x: null } }));
    expect(decodeAmf0(encoded)).toEqual(['@setDataFrame', 'onMetaData', { width: 1280, height: 720, stereo: true, encoder: 'obs', list: [1, 'a'], when, nested: { x: null } }]);
  });

  it('encodes long strings with the long-string marker', () => {
    const long = 'x'.repeat(70_000);
    const encoded = encodeAmf0(long);
    expect(encoded[0]).toBe(0x0c);
    expect(decodeAmf0(encoded)).toEqual([long]);
  });

  it('refuses truncated values, unknown markers, lying array counts and deep nesting', () => {
    expect(() => decodeAmf0(encodeAmf0('connect').subarray(0, 4))).toThrow(Amf0DecodeError);
    expect(() => decodeAmf0(Buffer.from([0x42]))).toThrow(/unsupported AMF0 marker/);
    expect(() => decodeAmf0(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff]))).toThrow(/claims/);
    expect(() => decodeAmf0(Buffer.alloc(100, 0x0a).fill(0, 1))).toThrow(Amf0DecodeError);
    const deep = Buffer.concat([...Array.from({ length: 40 }, () => Buffer.from([0x0a, 0, 0, 0, 1])), Buffer.from([0x05])]);
    expect(() => decodeAmf0(deep)).toThrow(/too deep/);
  });
});
