import type { TranscodeAction } from '@tributary/contracts';

export type ShedAction = Extract<TranscodeAction, 'drop_rendition' | 'faster_preset' | 'skip_to_live' | 'restore_preset' | 'restore_rendition'>;

/**
 * How a skip to the newest keyframe would go now: `in_place` drops queued input while ffmpeg keeps
 * running; `restart` restarts ffmpeg at the keyframe; `none`: ffmpeg runs and could skip in place,
 * but nothing queued lies before the newest keyframe (or a skip is still pending), so what delays
 * the stream is what ffmpeg already holds, which a restart would only add start-up to.
 */
export type SkipMode = 'in_place' | 'restart' | 'none';

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
 * to show its effect (no flapping). Once nothing is left to shed but skipping and the caller can
 * skip in place (SkipMode `in_place`: no restart, no start-up cost), a skip follows as soon as the
 * delay is over the bound, at most one per half a bound: waiting for a whole bound over it first
 * would let every stream that needs skips trail by more than the bound plus a segment before each
 * skip. With `none` it does not skip at all. Pure: the caller passes the clock and applies the
 * actions.
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

  /** Nothing is left to shed but skipping to the newest keyframe. */
  get onlySkipsLeft(): boolean {
    return (this.renditionDropped || !this.settings.canDropRendition) && (this.presetFaster || !this.settings.canFasterPreset);
  }

  /** The action to take now, given the stream's current edge delay (ms) and how it would skip, if any. */
  decide(now: number, edgeDelayMs: number, skip: SkipMode = 'restart'): ShedAction | undefined {
    const { boundMs, restoreAfterMs } = this.settings;
    this.samples.push({ at: now, delayMs: edgeDelayMs });
    while (this.samples[0].at < now - boundMs) this.samples.shift();
    if (edgeDelayMs > boundMs && skip === 'in_place' && this.onlySkipsLeft && now - this.lastActionAt >= boundMs / 2) {
      this.calmSince = undefined;
      this.lastActionAt = now;
      return 'skip_to_live';
    }
    const covers = this.samples.length > 1 && now - this.samples[0].at >= boundMs - 1_000;
    const lowest = Math.min(...this.samples.map((sample) => sample.delayMs));
    if (edgeDelayMs > boundMs && !(covers && lowest > boundMs)) {
      // Over the bound, but not for a whole bound yet.
      this.calmSince = undefined;
      return undefined;
    }
    if (edgeDelayMs > boundMs) {
      this.calmSince = undefined;
      if (now - this.lastActionAt < boundMs || (skip === 'none' && this.onlySkipsLeft)) return undefined;
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
