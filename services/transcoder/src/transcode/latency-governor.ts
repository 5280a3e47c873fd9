import type { TranscodeAction } from '@tributary/contracts';

export type ShedAction = Extract<TranscodeAction, 'drop_rendition' | 'faster_preset' | 'skip_to_live' | 'restore_preset' | 'restore_rendition'>;

export interface GovernorSettings {
  /** A live stream may trail its input by this much (ms) before it sheds work. */
  boundMs: number;
  /** Shed work comes back one step after the edge delay stayed at or under half the bound this long. */
  restoreAfterMs: number;
  /** Whether the top rendition may be dropped (the ladder has more than one). */
  canDropRendition: boolean;
  /** Whether a faster preset exists than the configured one. */
  canFasterPreset: boolean;
}

/**
 * Decides, from a live stream's edge delay, when to shed work and when to take it back, in a
 * fixed order: drop the top rendition → a faster preset → skip to the newest keyframe; restored in
 * reverse (preset first), one step per calm period. The delay is a sawtooth (it grows by a segment
 * duration between segments), so a stream trails only when even its lowest delay over the last
 * bound's worth of time was over the bound: a spike (a GC pause, a slow segment) sheds nothing.
 * After any action it waits one bound's worth of time before the next, so a restarted ffmpeg gets
 * to show its effect (no flapping). Pure: the caller passes the clock and applies the actions.
 */
export class LatencyGovernor {
  private renditionDropped = false;
  private presetFaster = false;
  private lastActionAt = Number.NEGATIVE_INFINITY;
  private calmSince?: number;
  private readonly samples: { at: number; delayMs: number }[] = [];

  constructor(private readonly settings: GovernorSettings) {}

  /** 0 = everything on, 1 = top rendition dropped, 2 = a faster preset too. */
  get level(): number {
    return this.presetFaster ? 2 : this.renditionDropped ? 1 : 0;
  }

  get dropsRendition(): boolean {
    return this.renditionDropped;
  }

  get usesFasterPreset(): boolean {
    return this.presetFaster;
  }

  /** The action to take now, given the stream's current edge delay (ms), if any. */
  decide(now: number, edgeDelayMs: number): ShedAction | undefined {
    const { boundMs, restoreAfterMs } = this.settings;
    this.samples.push({ at: now, delayMs: edgeDelayMs });
    while (this.samples[0].at < now - boundMs) this.samples.shift();
    const covers = this.samples.length > 1 && now - this.samples[0].at >= boundMs - 1_000;
    const lowest = Math.min(...this.samples.map((sample) => sample.delayMs));
    if (edgeDelayMs > boundMs && !(covers && lowest > boundMs)) {
      // Over the bound, but not for a whole bound yet.
      this.calmSince = undefined;
      return undefined;
    }
    if (edgeDelayMs > boundMs) {
      this.calmSince = undefined;
      if (now - this.lastActionAt < boundMs) return undefined;
      this.lastActionAt = now;
      if (!this.renditionDropped && this.settings.canDropRendition) {
        this.renditionDropped = true;
        return 'drop_rendition';
      }
      if (!this.presetFaster && this.settings.canFasterPreset) {
        this.presetFaster = true;
        return 'faster_preset';
      }
      return 'skip_to_live';
    }
    if (edgeDelayMs > boundMs / 2) {
      this.calmSince = undefined;
      return undefined;
    }
    this.calmSince ??= now;
    if (this.level === 0 || now - this.calmSince < restoreAfterMs || now - this.lastActionAt < restoreAfterMs) return undefined;
    this.lastActionAt = now;
    this.calmSince = now;
    if (this.presetFaster) {
      this.presetFaster = false;
      return 'restore_preset';
    }
    this.renditionDropped = false;
    return 'restore_rendition';
  }
}
