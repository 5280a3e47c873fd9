import { DEFAULT_LADDER } from '@tributary/contracts';
import { avcLevel, selectLadder } from './ladder';

describe('selectLadder', () => {
  it('produces the whole default ladder from a 720p source', () => {
    const plan = selectLadder(DEFAULT_LADDER, { width: 1280, height: 720, hasAudio: true, frameRate: 30 });
    expect(plan.map((r) => `${r.name}:${r.width}x${r.height}`)).toEqual(['720p:1280x720', '480p:854x480', '360p:640x360']);
    expect(plan[0].codecs).toBe('avc1.64001f,mp4a.40.2');
    expect(plan[0].bandwidth_bps).toBe(Math.round((2800 + 128) * 1000 * 1.1));
  });

  it('never upscales: a 480p source gets 480p and 360p only', () => {
    const plan = selectLadder(DEFAULT_LADDER, { width: 854, height: 480, hasAudio: true });
    expect(plan.map((r) => r.name)).toEqual(['480p', '360p']);
    expect(plan.every((r) => r.height <= 480)).toBe(true);
  });

  it('makes one rendition at the source size when the source is below every rung', () => {
    const plan = selectLadder(DEFAULT_LADDER, { width: 320, height: 240, hasAudio: false });
    expect(plan).toHaveLength(1);
    expect(plan[0]).toMatchObject({ name: '360p', width: 320, height: 240, video_bitrate_kbps: 800 });
    expect(plan[0].codecs).not.toContain('mp4a');
  });

  it('keeps the source aspect ratio in the reported width (4:3 source)', () => {
    const plan = selectLadder(DEFAULT_LADDER, { width: 960, height: 720, hasAudio: true });
    expect(plan.map((r) => r.width)).toEqual([960, 640, 480]);
  });

  it('signals Constrained Baseline for the ultrafast preset', () => {
    const [top] = selectLadder(DEFAULT_LADDER, { width: 640, height: 360, hasAudio: true }, { preset: 'ultrafast' });
    expect(top.codecs).toBe('avc1.42c01e,mp4a.40.2');
  });

  it('orders an unsorted custom ladder highest first', () => {
    const ladder = [DEFAULT_LADDER[2], DEFAULT_LADDER[0]];
    expect(selectLadder(ladder, { width: 1920, height: 1080, hasAudio: true }).map((r) => r.name)).toEqual(['720p', '360p']);
  });
});

describe('avcLevel', () => {
  it('picks the smallest level that fits the macroblock rate', () => {
    expect(avcLevel(640, 360, 30).level).toBe('3.0');
    expect(avcLevel(1280, 720, 30).level).toBe('3.1');
    expect(avcLevel(1920, 1080, 30).level).toBe('4.0');
  });
});
