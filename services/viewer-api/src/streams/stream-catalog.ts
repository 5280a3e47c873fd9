import {
  DEFAULT_LADDER,
  type LatencyMode,
  latencyModeOf,
  type PlaybackMode,
  playbackModeOf,
  type Rendition,
  type StreamRecord,
  type StreamState,
  type StreamStatus,
  type TranscodeDetail,
} from '@tributary/contracts';

/** A rendition with the HLS attributes a multivariant playlist needs. */
export interface RenditionInfo extends Rendition {
  bandwidth_bps: number;
  codecs: string;
}

/** What the catalogue knows about one stream. */
export interface StreamView {
  id: string;
  title: string;
  state: StreamState;
  renditions: RenditionInfo[];
  /**
   * `renditions` are what the transcoder's latest `live` report of this publish says it produces
   * (else the registry ladder): a rendition it left out (shed) is not advertised, even while its
   * segments are still in the live window.
   */
  renditions_reported: boolean;
  segment_duration_seconds: number;
  started_at: string | null;
  ended_at: string | null;
  reason: string | null;
  /** The transcoder reported that it produced every segment of the current publish. */
  output_complete: boolean;
  created_at: string;
  publish_session_id: string | null;
  /** `signed`: media needs a playback token (absent in the record = public). */
  playback: PlaybackMode;
  /** The transcoder's latest latency detail for the current publish (backlog, shedding), if any. */
  transcode: TranscodeDetail | null;
  /** How long segments stay replayable (seconds); null = as long as `video.segments` keeps them. */
  retention_seconds: number | null;
  /** `low`: the transcoder writes LL-HLS parts (the player turns hls.js's low-latency mode on). */
  latency_mode: LatencyMode;
}

/**
 * Whether a stream's playlists are final (ENDLIST; replays turn VOD). ingest reports `ended` when
 * the publisher disconnects, while the transcoder may still be encoding the last seconds; the
 * transcoder's own `ended` says every segment is on `video.segments`. Without it (no transcoder
 * running, or it died), a generous grace ends the playlists anyway so players are not left waiting.
 */
export function isComplete(
  stream: Pick<StreamView, 'state' | 'ended_at' | 'segment_duration_seconds' | 'output_complete'>,
  nowMs = Date.now(),
): boolean {
  if (stream.state === 'error') return true;
  if (stream.state !== 'ended') return false;
  if (stream.output_complete) return true;
  const endedMs = stream.ended_at ? Date.parse(stream.ended_at) : 0;
  return nowMs - endedMs >= Math.max(30, 5 * stream.segment_duration_seconds) * 1000;
}

/** H.264 High@4.0 + AAC-LC: what the transcoder's ladder encodes when it does not report codecs. */
export const DEFAULT_CODECS = 'avc1.640028,mp4a.40.2';

/** BANDWIDTH when the transcoder has not reported one: nominal bitrates plus 10 % container overhead. */
export function deriveRendition(rendition: Rendition): RenditionInfo {
  const bandwidth = (rendition.video_bitrate_kbps + rendition.audio_bitrate_kbps) * 1100;
  return { ...rendition, bandwidth_bps: bandwidth, codecs: DEFAULT_CODECS };
}

interface Entry {
  record: StreamRecord | null;
  /** Latest status per reporter in the current publish session. */
  state: StreamState;
  reason: string | null;
  startedAt: string | null;
  endedAt: string | null;
  publishSession: string | null;
  reportedRenditions: RenditionInfo[] | null;
  outputComplete: boolean;
  transcode: TranscodeDetail | null;
}

/**
 * The in-memory view of `stream.registry` + `stream.status`, fed in topic order. Pure (no Kafka)
 * so it is unit-tested directly.
 */
export class StreamCatalog {
  private readonly entries = new Map<string, Entry>();

  private entry(id: string): Entry {
    let entry = this.entries.get(id);
    if (!entry) {
      entry = {
        record: null,
        state: 'idle',
        reason: null,
        startedAt: null,
        endedAt: null,
        publishSession: null,
        reportedRenditions: null,
        outputComplete: false,
        transcode: null,
      };
      this.entries.set(id, entry);
    }
    return entry;
  }

  applyRecord(record: StreamRecord): void {
    this.entry(record.id).record = record;
  }

  /** A registry tombstone: the stream is deleted (its status history is dropped too). */
  applyTombstone(id: string): void {
    this.entries.delete(id);
  }

  applyStatus(status: StreamStatus): void {
    const entry = this.entry(status.stream_id);
    const session = status.publish_session_id ?? null;
    const newSession = session !== null && session !== entry.publishSession;
    if (status.state === 'live') {
      if (newSession || entry.state !== 'live') {
        // A new publish (or a restart after ended/error): a fresh live period.
        if (newSession || entry.state === 'ended' || entry.state === 'idle') {
          entry.startedAt = status.ts;
          entry.endedAt = null;
          entry.reportedRenditions = null;
          entry.outputComplete = false;
          entry.transcode = null;
        }
      }
      entry.state = 'live';
      entry.reason = null;
      if (status.renditions && status.renditions.length > 0) {
        entry.reportedRenditions = status.renditions.map((r) => ({ ...r }));
      }
    } else if (status.state === 'ended') {
      // An `ended` from an older publish session must not end a newer one.
      if (session !== null && entry.publishSession !== null && session !== entry.publishSession) return;
      // Whichever reports first; ingest's time (the publisher left) is the stream's end.
      if (entry.state !== 'ended') entry.endedAt = status.ts;
      entry.state = 'ended';
      if (status.reporter === 'transcoder') entry.outputComplete = true;
    } else if (status.state === 'error') {
      entry.state = 'error';
      entry.reason = status.reason ?? null;
      entry.endedAt = entry.endedAt ?? status.ts;
    } else {
      entry.state = 'idle';
    }
    if (session !== null) entry.publishSession = session;
    if (status.reporter === 'transcoder' && status.detail && (session === null || session === entry.publishSession)) entry.transcode = { ...status.detail };
  }

  get(id: string): StreamView | undefined {
    const entry = this.entries.get(id);
    if (!entry?.record) return undefined; // status without a registry record: not a known stream
    return this.view(entry.record, entry);
  }

  list(): StreamView[] {
    const views: StreamView[] = [];
    for (const entry of this.entries.values()) {
      if (entry.record) views.push(this.view(entry.record, entry));
    }
    return views.sort((a, b) => a.id.localeCompare(b.id));
  }

  private view(record: StreamRecord, entry: Entry): StreamView {
    const ladder = record.ladder.length > 0 ? record.ladder : DEFAULT_LADDER;
    return {
      id: record.id,
      title: record.title,
      state: entry.state,
      renditions: entry.reportedRenditions ?? ladder.map(deriveRendition),
      renditions_reported: entry.reportedRenditions !== null,
      segment_duration_seconds: record.segment_duration_seconds,
      started_at: entry.startedAt,
      ended_at: entry.state === 'live' ? null : entry.endedAt,
      reason: entry.reason,
      output_complete: entry.outputComplete,
      created_at: record.created_at,
      publish_session_id: entry.publishSession,
      playback: playbackModeOf(record),
      transcode: entry.transcode,
      retention_seconds: record.retention_seconds ?? null,
      latency_mode: latencyModeOf(record),
    };
  }
}
