import { parseManifest } from '../../support/video-stack';
import { sleep } from './fault-platform';

interface SeenSegment {
  readonly uri: string;
  /** Discontinuity sequence number of the segment (EXT-X-DISCONTINUITY-SEQUENCE + tags before it). */
  readonly dseq: number;
  readonly programTime: number | undefined;
  readonly duration: number;
  readonly at: number;
}

/**
 * The suite's HLS client: polls a live media playlist like a player (m3u8-parser), downloads each
 * new segment, and fails over to the other viewer-api replica when one does not answer (a load
 * balancer's job in production). It checks what a player relies on: media sequence numbers never
 * go backward and a sequence never names a different segment; every time gap is marked with
 * EXT-X-DISCONTINUITY; and it measures stalls (the longest wait for a new segment).
 */
export class HlsWatcher {
  readonly segments = new Map<number, SeenSegment>();
  readonly violations: string[] = [];
  failovers = 0;
  segmentFailures = 0;
  private current = 0;
  private running = false;
  private loop: Promise<void> = Promise.resolve();
  private lastNewAt = 0;
  private maxStall = 0;
  private highest = -1;

  constructor(
    private readonly viewers: () => readonly string[],
    private readonly streamId: string,
    private readonly rendition = '180p',
  ) {}

  start(): void {
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        await this.poll().catch(() => this.failover());
        await sleep(1000);
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /** The longest time without a new segment, ms (also counting the wait up to now). */
  get maxStallMs(): number {
    return Math.max(this.maxStall, this.lastNewAt === 0 ? 0 : Date.now() - this.lastNewAt);
  }

  /** Segments first seen after `time` (ms). */
  newSince(time: number): number {
    return [...this.segments.values()].filter((segment) => segment.at > time).length;
  }

  /** Discontinuities between segments first seen in [from, to) and the one before them. */
  discontinuitiesBetween(from: number, to: number): number {
    const ordered = [...this.segments.entries()].sort(([a], [b]) => a - b);
    let count = 0;
    for (let index = 1; index < ordered.length; index++) {
      const [, previous] = ordered[index - 1];
      const [, segment] = ordered[index];
      if (segment.at >= from && segment.at < to && segment.dseq !== previous.dseq) count += segment.dseq - previous.dseq;
    }
    return count;
  }

  /** The longest wait between new segments first seen in [from, to), ms. */
  maxGapBetween(from: number, to: number): number {
    const times = [...this.segments.values()].map((segment) => segment.at).sort((a, b) => a - b);
    let previous = times.filter((time) => time < from).at(-1) ?? from;
    let gap = 0;
    for (const time of times.filter((at) => at >= from && at < to)) {
      gap = Math.max(gap, time - previous);
      previous = time;
    }
    return Math.max(gap, Math.min(to, Date.now()) - previous);
  }

  /** Violations recorded so far (for per-fault windows: compare counts before and after). */
  get violationCount(): number {
    return this.violations.length;
  }

  get discontinuities(): number {
    return this.discontinuitiesBetween(0, Number.MAX_SAFE_INTEGER);
  }

  /** The viewer-api replica the client currently reads from. */
  get currentUrl(): string | undefined {
    const urls = this.viewers();
    return urls[this.current % Math.max(1, urls.length)];
  }

  private failover(): void {
    this.failovers += 1;
    this.current = (this.current + 1) % Math.max(1, this.viewers().length);
  }

  private async poll(): Promise<void> {
    const base = this.viewers()[this.current % Math.max(1, this.viewers().length)];
    if (!base) throw new Error('no viewer');
    const playlistUrl = `${base}/live/${this.streamId}/${this.rendition}/index.m3u8`;
    const response = await fetch(playlistUrl, { signal: AbortSignal.timeout(4_000) });
    if (response.status === 404 && this.segments.size === 0) return; // not live yet
    if (!response.ok) throw new Error(`playlist ${response.status}`);
    const manifest = parseManifest(await response.text());
    let dseq = manifest.discontinuitySequence ?? 0;
    const now = Date.now();
    manifest.segments.forEach((segment, index) => {
      if (index > 0 && segment.discontinuity) dseq += 1;
      const sequence = manifest.mediaSequence + index;
      const programTime = segment.dateTimeString ? Date.parse(segment.dateTimeString) : undefined;
      const known = this.segments.get(sequence);
      if (known) {
        if (known.uri !== segment.uri) this.violations.push(`sequence ${sequence} named ${known.uri}, now ${segment.uri}`);
        return;
      }
      if (sequence < this.highest) {
        this.violations.push(`sequence ${sequence} appeared after ${this.highest} (backward)`);
        return;
      }
      const previous = this.segments.get(sequence - 1);
      if (previous?.programTime !== undefined && programTime !== undefined) {
        const gap = programTime - (previous.programTime + previous.duration * 1000);
        if (Math.abs(gap) > 1500 && dseq === previous.dseq) {
          this.violations.push(`unmarked ${(gap / 1000).toFixed(1)} s time gap before sequence ${sequence}`);
        }
      }
      this.segments.set(sequence, { uri: segment.uri, dseq, programTime, duration: segment.duration, at: now });
      this.highest = Math.max(this.highest, sequence);
      if (this.lastNewAt !== 0) this.maxStall = Math.max(this.maxStall, now - this.lastNewAt);
      this.lastNewAt = now;
    });
    const lastSequence = manifest.mediaSequence + manifest.segments.length - 1;
    if (manifest.segments.length > 0 && lastSequence < this.highest - 1) {
      this.violations.push(`playlist ends at ${lastSequence} after ${this.highest} was listed (backward)`);
    }
    // Download the newest segment, as a player would (failures count, never abort the poll).
    const newest = manifest.segments.at(-1);
    if (newest) {
      const segment = await fetch(new URL(newest.uri, playlistUrl), { signal: AbortSignal.timeout(4_000) }).catch(() => undefined);
      if (!segment?.ok || (await segment.arrayBuffer()).byteLength === 0) this.segmentFailures += 1;
    }
  }
}
