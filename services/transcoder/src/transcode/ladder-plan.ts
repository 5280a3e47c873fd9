import { DEFAULT_LADDER, type Rendition } from '@tributary/contracts';
import { type PlannedRendition, selectLadder, type SourceInfo } from '@tributary/media';

/** What a stream currently sheds (its LatencyGovernor; nothing before the probe). */
export interface ShedState {
  readonly dropsRendition: boolean;
  readonly usesFasterPreset: boolean;
}

export interface LadderPlanOptions {
  /** The stream's ladder (default: DEFAULT_LADDER). */
  ladder?: readonly Rendition[];
  preset: string;
  /** The preset of the second shedding step. */
  shedPreset?: string;
}

/**
 * The renditions and x264 preset ffmpeg runs with, for a source and what is shed: the ladder never
 * above the source, without its top rendition while that is dropped (if more than one remains
 * otherwise), and the shedding preset while a faster one is used. Pure.
 */
export class LadderPlan {
  constructor(private readonly options: LadderPlanOptions) {}

  /** Whether shedding has a faster preset to switch to (one is configured and differs). */
  get canFasterPreset(): boolean {
    return this.options.shedPreset !== undefined && this.options.shedPreset !== this.options.preset;
  }

  preset(shed?: ShedState): string {
    return shed?.usesFasterPreset && this.options.shedPreset ? this.options.shedPreset : this.options.preset;
  }

  renditions(source: SourceInfo, shed?: ShedState): PlannedRendition[] {
    const planned = this.full(source, shed);
    if (!shed?.dropsRendition || planned.length < 2) return planned;
    const top = planned.reduce((best, rendition) => (rendition.height * rendition.width > best.height * best.width ? rendition : best));
    return planned.filter((rendition) => rendition !== top);
  }

  /** The names of the renditions the full ladder has and this plan leaves out. */
  dropped(source: SourceInfo, shed?: ShedState): string[] {
    const active = new Set(this.renditions(source, shed).map((rendition) => rendition.name));
    return this.full(source, shed)
      .map((rendition) => rendition.name)
      .filter((name) => !active.has(name));
  }

  private full(source: SourceInfo, shed?: ShedState): PlannedRendition[] {
    return selectLadder(this.options.ladder ?? DEFAULT_LADDER, source, { preset: this.preset(shed) });
  }
}
