import { Injectable, NotFoundException } from '@nestjs/common';
import { writeMediaPlaylist, writeMultivariant } from '../hls/playlist-writer';
import { segmentExtension, type SegmentMeta } from '../hls/segment-message';
import { isComplete, type StreamView } from '../streams/stream-catalog';
import { type ReplayIndex, segmentStartMs } from './replay-index';
import { ReplayService } from './replay.service';

/** Segments produced a little before the registry's created_at cannot exist; this margin covers clock skew. */
const CREATED_AT_MARGIN_MS = 60_000;

/**
 * The stream's retention (`retention_seconds`, from a LiveStream's `spec.retention` or the ingest
 * API): media that ended before this instant is no longer replayable. Null: the topic's retention.
 */
export function retentionCutoffMs(stream: Pick<StreamView, 'retention_seconds'>, nowMs = Date.now()): number | null {
  return stream.retention_seconds === null ? null : nowMs - stream.retention_seconds * 1000;
}

/** Whether a segment is still replayable under the stream's retention. */
export function withinRetention(meta: SegmentMeta, stream: Pick<StreamView, 'retention_seconds'>, nowMs = Date.now()): boolean {
  const cutoff = retentionCutoffMs(stream, nowMs);
  return cutoff === null || segmentStartMs(meta) + meta.durationSeconds * 1000 > cutoff;
}

/** Builds replay (VOD/EVENT) playlists from the archive index. */
@Injectable()
export class ReplayPlaylists {
  constructor(private readonly replay: ReplayService) {}

  /** A rendition's replayable segments from `from` on, and how many older ones retention dropped. */
  private replayable(index: ReplayIndex, stream: StreamView, rendition: string, from: 'start' | number | null, nowMs: number) {
    const all = index.segments(rendition, typeof from === 'number' ? from : null);
    const kept = all.filter(({ meta }) => withinRetention(meta, stream, nowMs));
    return { segments: kept, dropped: all.length - kept.length };
  }

  private sinceMs(stream: StreamView, from: 'start' | number | null): number {
    const created = Date.parse(stream.created_at) - CREATED_AT_MARGIN_MS;
    // A segment containing `from` is produced after it: start reading at `from` minus the
    // longest segment we allow (10 s) so its neighbour is found too, rounded down to the minute
    // so that viewers' distinct `from`s share an index (one per stream and minute at most).
    return typeof from === 'number' ? Math.max(created, Math.floor((from - 10_000) / 60_000) * 60_000) : created;
  }

  private query(from: 'start' | number | null): string {
    return typeof from === 'number' ? `?from=${encodeURIComponent(new Date(from).toISOString())}` : '';
  }

  async master(stream: StreamView, from: 'start' | number | null, nowMs = Date.now()): Promise<string> {
    const index = await this.replay.index(stream.id, this.sinceMs(stream, from));
    const present = [...index.renditions.keys()].filter((name) => this.replayable(index, stream, name, from, nowMs).segments.length > 0);
    if (present.length === 0) throw new NotFoundException(`stream ${stream.id} has no archived segments${typeof from === 'number' ? ' after that time' : ''} within retention`);
    const variants = present.map((name) => {
      const info = stream.renditions.find((rendition) => rendition.name === name);
      return {
        uri: `/vod/${stream.id}/${name}/index.m3u8${this.query(from)}`,
        bandwidth: info?.bandwidth_bps ?? 1_000_000,
        width: info?.width,
        height: info?.height,
        codecs: info?.codecs,
        name,
      };
    });
    return writeMultivariant(variants.sort((a, b) => b.bandwidth - a.bandwidth));
  }

  async media(stream: StreamView, rendition: string, from: 'start' | number | null, nowMs = Date.now()): Promise<{ body: string; complete: boolean }> {
    const index = await this.replay.index(stream.id, this.sinceMs(stream, from));
    const { segments, dropped } = this.replayable(index, stream, rendition, from, nowMs);
    if (segments.length === 0) throw new NotFoundException(`stream ${stream.id} has no archived segments for rendition ${rendition} within retention`);
    const complete = isComplete(stream);
    const uri = (meta: SegmentMeta) => `${meta.partition}-${meta.offset}.${segmentExtension(meta)}`;
    // With a stream retention, segments leave the front as they age: such a playlist may not be
    // VOD or EVENT (both promise never to remove one), and its media sequence counts what left.
    const expiring = stream.retention_seconds !== null;
    const body = writeMediaPlaylist({
      mediaSequence: dropped,
      discontinuitySequence: 0,
      targetDurationSeconds: stream.segment_duration_seconds,
      // Still live: an EVENT playlist (grows, no ENDLIST) so players keep reloading it.
      playlistType: expiring ? undefined : complete ? 'VOD' : 'EVENT',
      endList: complete,
      segments: segments.map(({ meta, discontinuity }) => {
        const init = meta.contentType !== 'video/mp2t' ? index.initFor(meta) : undefined;
        return {
          uri: uri(meta),
          durationSeconds: meta.durationSeconds,
          programTime: meta.programTime,
          discontinuity,
          mapUri: init ? uri(init) : null,
        };
      }),
    });
    return { body, complete };
  }
}
