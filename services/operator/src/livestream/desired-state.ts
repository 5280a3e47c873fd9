import { DEFAULT_LADDER, type Rendition, type StreamRecord } from '@tributary/contracts';
import type { LiveStream, LiveStreamRendition } from './livestream.types';

/** `livestream/<namespace>/<name>`: the registry's `managed_by` of a LiveStream's entry. */
export const managedByOf = (liveStream: Pick<LiveStream, 'metadata'>): string => `livestream/${liveStream.metadata.namespace}/${liveStream.metadata.name}`;

/** 16:9 from the height, rounded to an even number of pixels (4:2:0 video): 720 → 1280, 480 → 854. */
export function widthForHeight(height: number): number {
  return Math.round((height * 16) / 9 / 2) * 2;
}

function renditionOf(rendition: LiveStreamRendition): Rendition {
  return {
    name: rendition.name,
    width: rendition.width ?? widthForHeight(rendition.height),
    height: rendition.height,
    video_bitrate_kbps: rendition.videoBitrateKbps,
    audio_bitrate_kbps: rendition.audioBitrateKbps,
  };
}

const DURATION = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/** `24h`, `1h30m`, `90s` → seconds (the CRD's CEL rule has already checked the form and bounds). */
export function durationSeconds(duration: string): number {
  const match = DURATION.exec(duration);
  if (!match || duration === '') throw new Error(`not a duration of h/m/s units: ${duration}`);
  const [, hours, minutes, seconds] = match;
  return Number(hours ?? 0) * 3600 + Number(minutes ?? 0) * 60 + Number(seconds ?? 0);
}

/**
 * The registry entry a LiveStream asks for. `createdAt` is kept from the entry already written (or
 * the resource's creation time), so re-writing an unchanged spec yields an identical record.
 */
export function desiredRecord(liveStream: LiveStream, streamKeySha256: string, createdAt: string): StreamRecord {
  const { spec } = liveStream;
  return {
    id: liveStream.metadata.name,
    title: spec.title,
    ladder: spec.ladder?.length ? spec.ladder.map(renditionOf) : DEFAULT_LADDER.map((rendition) => ({ ...rendition })),
    segment_duration_seconds: spec.segmentSeconds ?? 2,
    stream_key_sha256: streamKeySha256,
    created_at: createdAt,
    playback: spec.viewers?.public === false ? 'signed' : 'public',
    latency_mode: spec.latencyMode ?? 'standard',
    ...(spec.retention ? { retention_seconds: durationSeconds(spec.retention) } : {}),
    publishing_enabled: spec.publishing?.enabled !== false,
    managed_by: managedByOf(liveStream),
  };
}

/** Same content, whatever the key order (records come back from Kafka as parsed JSON). */
export function sameRecord(a: StreamRecord, b: StreamRecord): boolean {
  return canonical(a) === canonical(b);
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, entry]) => entry !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, entry]) => `${JSON.stringify(key)}:${canonical(entry)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
