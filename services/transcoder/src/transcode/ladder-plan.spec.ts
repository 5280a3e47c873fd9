import { DEFAULT_LADDER } from '@tributary/contracts';
import type { SourceInfo } from '@tributary/media';
import { LadderPlan } from './ladder-plan';

const hd: SourceInfo = { width: 1920, height: 1080, hasVideo: true, hasAudio: true, frameRate: 30 };
const names = (plan: { name: string }[]) => plan.map((rendition) => rendition.name);

describe(LadderPlan.name, () => {
  it('plans the ladder up to the source with the configured preset while nothing is shed', () => {
    const plan = new LadderPlan({ preset: 'veryfast', shedPreset: 'ultrafast' });
    const renditions = plan.renditions({ ...hd, width: 640, height: 360 });
    expect(renditions.length).toBeGreaterThan(0);
    expect(renditions.length).toBeLessThan(DEFAULT_LADDER.length);
    expect(renditions.every((rendition) => rendition.height <= 360)).toBe(true);
    expect(plan.preset()).toBe('veryfast');
    expect(plan.dropped(hd)).toEqual([]);
  });

  it('leaves out the largest rendition while it is dropped, and names it as dropped', () => {
    const plan = new LadderPlan({ preset: 'veryfast' });
    const full = names(plan.renditions(hd));
    const shed = { dropsRendition: true, usesFasterPreset: false };
    const top = plan.renditions(hd).reduce((best, r) => (r.width * r.height > best.width * best.height ? r : best)).name;
    expect(names(plan.renditions(hd, shed))).toEqual(full.filter((name) => name !== top));
    expect(plan.dropped(hd, shed)).toEqual([top]);
  });

  it('never drops the only rendition', () => {
    const plan = new LadderPlan({ ladder: [DEFAULT_LADDER[0]], preset: 'veryfast' });
    expect(plan.renditions(hd, { dropsRendition: true, usesFasterPreset: false })).toHaveLength(1);
  });

  it('uses the shedding preset only while a faster preset is shed, and only if one differs', () => {
    const plan = new LadderPlan({ preset: 'veryfast', shedPreset: 'ultrafast' });
    expect(plan.canFasterPreset).toBe(true);
    expect(plan.preset({ dropsRendition: true, usesFasterPreset: true })).toBe('ultrafast');
    // x264's ultrafast has no High profile features: the codecs string follows the preset.
    expect(plan.renditions(hd, { dropsRendition: false, usesFasterPreset: true }).every((r) => r.codecs.startsWith('avc1.42c0'))).toBe(true);
    expect(plan.renditions(hd).every((r) => r.codecs.startsWith('avc1.6400'))).toBe(true);
    expect(new LadderPlan({ preset: 'veryfast', shedPreset: 'veryfast' }).canFasterPreset).toBe(false);
    expect(new LadderPlan({ preset: 'veryfast' }).canFasterPreset).toBe(false);
  });
});
