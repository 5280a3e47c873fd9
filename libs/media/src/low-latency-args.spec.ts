import type { PlannedRendition } from './ladder';
import { buildLowLatencyArgs, partGeometry } from './low-latency-args';

const rendition = (name: string, height: number): PlannedRendition => ({
  name,
  width: Math.round((height * 16) / 9),
  height,
  video_bitrate_kbps: 1000,
  audio_bitrate_kbps: 96,
  bandwidth_bps: 1_200_000,
  codecs: 'avc1.64001f,mp4a.40.2',
});

function outputsOf(args: string[]): string[][] {
  // Each output's options end at its pipe:N.
  const outputs: string[][] = [];
  let start = args.indexOf('-filter_complex') + 2;
  for (let i = start; i < args.length; i += 1) {
    if (/^pipe:\d$/.test(args[i])) {
      outputs.push(args.slice(start, i + 1));
      start = i + 1;
    }
  }
  return outputs;
}

describe(buildLowLatencyArgs.name, () => {
  it('writes one fragmented MP4 per rendition to its own pipe from fd 3, with a fixed GOP of whole parts', () => {
    const args = buildLowLatencyArgs({ renditions: [rendition('720p', 720), rendition('360p', 360)], hasAudio: true, frameRate: 30, partSeconds: 0.2, gopSeconds: 1, preset: 'veryfast', threads: 2, thumbnailIntervalSeconds: 5 });
    const outputs = outputsOf(args);
    expect(outputs.map((output) => output.at(-1))).toEqual(['pipe:3', 'pipe:4', 'pipe:1']);
    for (const output of outputs.slice(0, 2)) {
      const value = (flag: string) => output[output.indexOf(flag) + 1];
      expect(value('-f')).toBe('mp4');
      expect(value('-movflags')).toBe('+empty_moov+default_base_moof+frag_keyframe');
      expect(value('-frag_duration')).toBe('200000');
      expect(value('-flush_packets')).toBe('1');
      expect(value('-g')).toBe('30');
      expect(value('-keyint_min')).toBe('30');
      expect(value('-sc_threshold')).toBe('0');
      expect(value('-c:a')).toBe('aac');
    }
    expect(outputs[2]).toEqual(expect.arrayContaining(['image2pipe']));
    expect(args[args.indexOf('-filter_complex') + 1]).toBe('[0:v:0]split=3[s0][s1][s2];[s0]scale=-2:720:flags=bicubic,format=yuv420p[v0];[s1]scale=-2:360:flags=bicubic,format=yuv420p[v1];[s2]fps=1/5,scale=320:-2[thumb]');
  });

  it('maps no audio for a silent source and refuses an empty ladder', () => {
    const args = buildLowLatencyArgs({ renditions: [rendition('360p', 360)], hasAudio: false, partSeconds: 0.2, gopSeconds: 1, preset: 'ultrafast' });
    expect(args).not.toContain('0:a:0');
    expect(args).not.toContain('-profile:v');
    expect(() => buildLowLatencyArgs({ renditions: [], hasAudio: false, partSeconds: 0.2, gopSeconds: 1, preset: 'ultrafast' })).toThrow(/at least one/);
  });
});

describe(partGeometry.name, () => {
  it('makes the GOP a whole number of parts at any frame rate', () => {
    expect(partGeometry(30, 0.2, 1)).toEqual({ partFrames: 6, gopFrames: 30, gopParts: 5 });
    expect(partGeometry(25, 0.2, 1)).toEqual({ partFrames: 5, gopFrames: 25, gopParts: 5 });
    expect(partGeometry(60, 0.25, 0.8)).toEqual({ partFrames: 15, gopFrames: 45, gopParts: 3 });
    expect(partGeometry(undefined, 0.2, 2)).toEqual({ partFrames: 6, gopFrames: 60, gopParts: 10 });
  });
});
