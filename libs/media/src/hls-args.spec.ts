import { DEFAULT_LADDER } from '@tributary/contracts';
import { buildTranscodeArgs } from './hls-args';
import { selectLadder } from './ladder';

const ladder = selectLadder(DEFAULT_LADDER, { width: 1280, height: 720, hasAudio: true, frameRate: 30 });

function valueAfter(args: string[], flag: string): string | undefined {
  const index = args.indexOf(flag);
  return index >= 0 ? args[index + 1] : undefined;
}

describe('buildTranscodeArgs', () => {
  const args = buildTranscodeArgs({ renditions: ladder, outputDir: '/tmp/x', segmentDurationSeconds: 2, hasAudio: true, preset: 'veryfast' });

  it('splits one decode into one scaler per rendition', () => {
    const graph = valueAfter(args, '-filter_complex')!;
    expect(graph).toContain('split=3[s0][s1][s2]');
    expect(graph).toContain('[s0]scale=-2:720');
    expect(graph).toContain('[s2]scale=-2:360');
  });

  it('reads MPEG-TS on stdin analysing at most 0.5 s of it before decoding (a live input arrives in real time)', () => {
    expect(valueAfter(args, '-analyzeduration')).toBe('500000');
    expect(args.indexOf('-analyzeduration')).toBeLessThan(args.indexOf('-i'));
    expect(valueAfter(args, '-i')).toBe('pipe:0');
  });

  it('forces keyframes at segment boundaries and disables scene-cut keyframes', () => {
    expect(valueAfter(args, '-force_key_frames')).toBe('expr:gte(t,n_forced*2)');
    expect(valueAfter(args, '-sc_threshold')).toBe('0');
    expect(valueAfter(args, '-hls_time')).toBe('2');
  });

  it('sets per-rendition bitrates and maps one variant per rendition', () => {
    expect(valueAfter(args, '-b:v:0')).toBe('2800k');
    expect(valueAfter(args, '-b:v:2')).toBe('800k');
    expect(valueAfter(args, '-b:a:1')).toBe('96k');
    expect(valueAfter(args, '-var_stream_map')).toBe('v:0,a:0,name:720p v:1,a:1,name:480p v:2,a:2,name:360p');
    expect(args.at(-1)).toBe('/tmp/x/%v/index.m3u8');
    expect(valueAfter(args, '-profile:v')).toBe('high');
  });

  it('supports 1 s segments, no audio and thumbnails on stdout', () => {
    const video = buildTranscodeArgs({
      renditions: ladder.slice(2),
      outputDir: '/o',
      segmentDurationSeconds: 1,
      hasAudio: false,
      preset: 'ultrafast',
      thumbnailIntervalSeconds: 4,
    });
    expect(valueAfter(video, '-force_key_frames')).toBe('expr:gte(t,n_forced*1)');
    expect(valueAfter(video, '-var_stream_map')).toBe('v:0,name:360p');
    expect(video).not.toContain('-c:a');
    expect(video).not.toContain('-profile:v');
    expect(valueAfter(video, '-filter_complex')).toContain('fps=1/4,scale=320:-2[thumb]');
    expect(video.at(-1)).toBe('pipe:1');
  });

  it('accepts custom input arguments (a benchmark can feed a file)', () => {
    const bench = buildTranscodeArgs({
      renditions: ladder,
      outputDir: '/o',
      segmentDurationSeconds: 2,
      hasAudio: true,
      inputArgs: ['-re', '-i', 'in.ts'],
    });
    expect(bench.slice(5, 8)).toEqual(['-re', '-i', 'in.ts']);
  });

  it('refuses an empty ladder', () => {
    expect(() => buildTranscodeArgs({ renditions: [], outputDir: '/o', segmentDurationSeconds: 2, hasAudio: true })).toThrow();
  });
});
