import type { SegmentMeta } from '../hls/segment-message';

/** When a segment's media starts (its program date time, or its production time less its duration). */
export function segmentStartMs(meta: SegmentMeta): number {
  return meta.programTime ? Date.parse(meta.programTime) : meta.timestampMs - meta.durationSeconds * 1000;
}

/** One stream's archive index (segment metadata, never bytes) over a range of its partition. */
export class ReplayIndex {
  /** Next offset to read to extend the index. */
  nextOffset: bigint;
  readonly renditions = new Map<string, SegmentMeta[]>();
  private readonly inits = new Map<string, SegmentMeta>();
  private readonly seen = new Set<string>();

  /** Segments (media and init) held: the index's weight in the cache. */
  get size(): number {
    return this.seen.size + this.inits.size;
  }

  constructor(
    readonly streamId: string,
    readonly partition: number,
    readonly startOffset: bigint,
  ) {
    this.nextOffset = startOffset;
  }

  add(meta: SegmentMeta): void {
    if (meta.kind === 'init') {
      this.inits.set(`${meta.rendition}:${meta.transcodeSession ?? ''}`, meta);
      return;
    }
    // Low-latency streams are archived as parts: each part (a CMAF fragment) is a replay segment.
    const key = `${meta.rendition}:${meta.transcodeSession ?? ''}:${meta.sequence}${meta.part ? `.${meta.part.index}` : ''}`;
    if (this.seen.has(key)) return; // a re-sent segment
    this.seen.add(key);
    let list = this.renditions.get(meta.rendition);
    if (!list) {
      list = [];
      this.renditions.set(meta.rendition, list);
    }
    list.push(meta);
  }

  /** The init segment (fMP4) that belongs to a media segment, if any. */
  initFor(meta: SegmentMeta): SegmentMeta | undefined {
    return this.inits.get(`${meta.rendition}:${meta.transcodeSession ?? ''}`);
  }

  /**
   * A rendition's segments from `fromMs` (the segment containing it) on; a gap in numbering or
   * a new transcode session starts a discontinuity.
   */
  segments(rendition: string, fromMs: number | null): { meta: SegmentMeta; discontinuity: boolean }[] {
    const list = this.renditions.get(rendition) ?? [];
    const result: { meta: SegmentMeta; discontinuity: boolean }[] = [];
    // Low-latency parts: a replay from a time starts at the independent part (keyframe) before it.
    let first = fromMs === null ? 0 : list.findIndex((meta) => segmentStartMs(meta) + meta.durationSeconds * 1000 > fromMs);
    if (first < 0) return result;
    while (first > 0 && list[first].part && !list[first].part!.independent && list[first - 1].part) first -= 1;
    let previous: SegmentMeta | undefined = list[first - 1];
    for (const meta of list.slice(first)) {
      const include = fromMs === null || meta.part !== null || segmentStartMs(meta) + meta.durationSeconds * 1000 > fromMs;
      const gap = previous !== undefined && (previous.transcodeSession !== meta.transcodeSession || !follows(previous, meta));
      if (include) result.push({ meta, discontinuity: meta.discontinuity || gap });
      previous = meta;
    }
    return result;
  }
}

/** Whether `next` comes right after `previous`: the next segment, or (parts) the next part or the next segment's first. */
function follows(previous: SegmentMeta, next: SegmentMeta): boolean {
  if (!previous.part || !next.part) return next.sequence === previous.sequence + 1;
  if (next.sequence === previous.sequence) return next.part.index === previous.part.index + 1;
  return next.sequence === previous.sequence + 1 && next.part.index === 0;
}
