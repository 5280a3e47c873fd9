import { type Static, Type } from '@sinclair/typebox';
import { STREAM_ID_PATTERN } from '../ids';
import { createValidator } from '../validation';

/**
 * The registry of streams: topic `stream.registry` (compacted), key = stream id, value = the
 * latest StreamRecord; a tombstone (null value) deletes the stream. Every service rebuilds its
 * view of the streams by reading this topic from the beginning; there is no database.
 */
export const STREAM_RECORD_SCHEMA_VERSION = 1;
export const STREAM_RECORD_SCHEMA_ID = `stream-record/${STREAM_RECORD_SCHEMA_VERSION}`;

export const RenditionSchema = Type.Object(
  {
    name: Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,31}$', description: 'Path-safe rendition name, e.g. 720p.' }),
    width: Type.Integer({ minimum: 16, maximum: 7680 }),
    height: Type.Integer({ minimum: 16, maximum: 4320 }),
    video_bitrate_kbps: Type.Integer({ minimum: 50, maximum: 100_000 }),
    audio_bitrate_kbps: Type.Integer({ minimum: 16, maximum: 512 }),
  },
  { additionalProperties: false },
);
export type Rendition = Static<typeof RenditionSchema>;

/** The default ABR ladder (from a 720p source); renditions above the source are never produced. */
export const DEFAULT_LADDER: readonly Rendition[] = [
  { name: '720p', width: 1280, height: 720, video_bitrate_kbps: 2800, audio_bitrate_kbps: 128 },
  { name: '480p', width: 854, height: 480, video_bitrate_kbps: 1400, audio_bitrate_kbps: 96 },
  { name: '360p', width: 640, height: 360, video_bitrate_kbps: 800, audio_bitrate_kbps: 64 },
];

export const PLAYBACK_MODES = ['public', 'signed'] as const;
export const PlaybackModeSchema = Type.Union(PLAYBACK_MODES.map((mode) => Type.Literal(mode)), {
  description: 'public (default) or signed: media and events need a playback token',
});
export type PlaybackMode = (typeof PLAYBACK_MODES)[number];
/** The stream's playback mode; records without the field are public. */
export const playbackModeOf = (record: { playback?: PlaybackMode }): PlaybackMode => record.playback ?? 'public';

export const LATENCY_MODES = ['standard', 'low'] as const;
export type LatencyMode = (typeof LATENCY_MODES)[number];
export const LatencyModeSchema = Type.Union(LATENCY_MODES.map((mode) => Type.Literal(mode)), {
  description: 'standard (default) or low: the stream asks for the shortest segments and playlist window the services offer',
});

/** Retention bounds (seconds): how long a stream's segments stay replayable. */
export const RETENTION_SECONDS_MIN = 60;
export const RETENTION_SECONDS_MAX = 365 * 24 * 3600;

/** `managed_by` of records the operator writes: `livestream/<namespace>/<name>`. */
export const MANAGED_BY_PATTERN = '^livestream/[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?/[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$';

export const StreamRecordSchema = Type.Object(
  {
    id: Type.String({ pattern: STREAM_ID_PATTERN, maxLength: 63 }),
    title: Type.String({ minLength: 1, maxLength: 200 }),
    ladder: Type.Array(RenditionSchema, { minItems: 1, maxItems: 8 }),
    segment_duration_seconds: Type.Number({ minimum: 1, maximum: 10 }),
    /** sha256 (hex) of the stream key; the key itself is shown once and never stored. */
    stream_key_sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
    created_at: Type.String({ format: 'date-time' }),
    /**
     * `signed`: playlists, segments, parts, MJPEG, thumbnails and the stream's Socket.IO events need
     * a playback token (see playback-token.ts). Absent = `public` (records written before it existed).
     */
    playback: Type.Optional(PlaybackModeSchema),
    /*
     * The fields below were added later and are optional, so records written before them stay
     * valid (same schema version): absent = the default named on each.
     */
    /** Absent = `standard`. */
    latency_mode: Type.Optional(LatencyModeSchema),
    /** How long segments stay replayable, in seconds; absent = the platform's topic retention. */
    retention_seconds: Type.Optional(Type.Integer({ minimum: RETENTION_SECONDS_MIN, maximum: RETENTION_SECONDS_MAX })),
    /** `false`: ingest refuses publishes to this stream (403); absent = `true`. */
    publishing_enabled: Type.Optional(Type.Boolean()),
    /**
     * Which declaration owns the record: absent = the ingest admin API; `livestream/<ns>/<name>` =
     * a LiveStream resource reconciled by the operator (docs/operator.md: which writer wins).
     */
    managed_by: Type.Optional(Type.String({ pattern: MANAGED_BY_PATTERN, maxLength: 140 })),
  },
  { $id: STREAM_RECORD_SCHEMA_ID, additionalProperties: false },
);
export type StreamRecord = Static<typeof StreamRecordSchema>;
export const streamRecordValidator = createValidator(StreamRecordSchema);

/** Whether publishers may publish to the stream; records without the field allow it. */
export const publishingEnabledOf = (record: { publishing_enabled?: boolean }): boolean => record.publishing_enabled !== false;
/** The stream's latency mode; records without the field are `standard`. */
export const latencyModeOf = (record: { latency_mode?: LatencyMode }): LatencyMode => record.latency_mode ?? 'standard';
