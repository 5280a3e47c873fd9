import { lowLatencySupportOf } from './ffmpeg-capability';

describe(lowLatencySupportOf.name, () => {
  it('accepts ffmpeg 5 and newer', () => {
    expect(lowLatencySupportOf('ffmpeg version 5.1.9-0+deb12u1 Copyright (c) 2000-2026', '/usr/bin/ffmpeg')).toEqual({ supported: true, version: '5.1.9-0+deb12u1' });
    expect(lowLatencySupportOf('ffmpeg version n7.1 Copyright', '/x/ffmpeg').supported).toBe(true);
  });

  it('refuses older or unnumbered builds, saying what to install and that the stream runs in standard mode', () => {
    const old = lowLatencySupportOf('ffmpeg version 4.4.2-0ubuntu0.22.04.1 Copyright', '/usr/bin/ffmpeg');
    expect(old.supported).toBe(false);
    expect(old.reason).toMatch(/needs ffmpeg >= 5.*\/usr\/bin\/ffmpeg is version 4\.4\.2.*FFMPEG_PATH.*standard mode/);
    // The 2018 static build of @ffmpeg-installer.
    expect(lowLatencySupportOf('ffmpeg version N-47683-g0e8eb07980-static https://johnvansickle.com/ffmpeg/', '/npm/ffmpeg').supported).toBe(false);
    expect(lowLatencySupportOf('ffmpeg version unreadable (spawn ENOENT)', '/nowhere').supported).toBe(false);
  });
});
