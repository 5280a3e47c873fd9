import { checkAudioCodec, checkVideoCodec, ffmpegReadsEnhancedRtmp, flvHeader, flvTag, FlvTagType } from './flv';

describe('FLV', () => {
  it('frames a tag with its header, 32-bit timestamp and back-pointer', () => {
    const tag = flvTag(FlvTagType.Video, 0x12345678, Buffer.from([0x17, 1, 2]));
    expect(tag[0]).toBe(9);
    expect(tag.readUIntBE(1, 3)).toBe(3);
    expect(tag.readUIntBE(4, 3)).toBe(0x345678);
    expect(tag[7]).toBe(0x12);
    expect(tag.readUInt32BE(tag.length - 4)).toBe(14);
    expect(flvHeader().subarray(0, 3).toString()).toBe('FLV');
  });

  it('accepts H.264, AAC and MP3; refuses other legacy codecs with a reason', () => {
    expect(checkVideoCodec(Buffer.from([0x17, 0]), false)).toEqual({ ok: true, codec: 'h264' });
    expect(checkVideoCodec(Buffer.from([0x12]), false)).toMatchObject({ ok: false, reason: /codec id 2 is not supported/ });
    expect(checkAudioCodec(Buffer.from([0xaf, 0]))).toEqual({ ok: true, codec: 'aac' });
    expect(checkAudioCodec(Buffer.from([0x2f]))).toEqual({ ok: true, codec: 'mp3' });
    expect(checkAudioCodec(Buffer.from([0x6f]))).toMatchObject({ ok: false });
  });

  it('refuses Enhanced RTMP (FourCC) video unless ffmpeg reads it', () => {
    const hevc = Buffer.concat([Buffer.from([0x90]), Buffer.from('hvc1'), Buffer.alloc(4)]);
    expect(checkVideoCodec(hevc, false)).toMatchObject({ ok: false, codec: 'hvc1', reason: /needs ffmpeg ≥ 6.1/ });
    expect(checkVideoCodec(hevc, true)).toEqual({ ok: true, codec: 'hvc1' });
    expect(checkVideoCodec(Buffer.concat([Buffer.from([0x90]), Buffer.from('xxxx')]), true)).toMatchObject({ ok: false });
  });

  it('knows which ffmpeg versions read Enhanced RTMP', () => {
    expect(ffmpegReadsEnhancedRtmp('ffmpeg version 5.1.9-0+deb12u1 Copyright (c) 2000-2026')).toBe(false);
    expect(ffmpegReadsEnhancedRtmp('ffmpeg version 6.0 Copyright')).toBe(false);
    expect(ffmpegReadsEnhancedRtmp('ffmpeg version 6.1.1 Copyright')).toBe(true);
    expect(ffmpegReadsEnhancedRtmp('ffmpeg version n7.1 Copyright')).toBe(true);
    expect(ffmpegReadsEnhancedRtmp('ffmpeg version N-112233-gabc Copyright')).toBe(true);
  });
});
