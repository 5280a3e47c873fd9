import { type Static, Type } from '@sinclair/typebox';
import { STREAM_ID_PATTERN } from '../ids';
import { createValidator, StringEnum } from '../validation';
import { RenditionSchema } from './stream-registry';

/**
 * Stream lifecycle: topic `stream.status`, key = stream id. ingest reports `live` when a
 * publisher connects and `ended` when it disconnects; the transcoder reports `live` with the
 * renditions it actually produces (the source may be smaller than the ladder's top) and `error`
 * with a reason when the input cannot be transcoded.
 */
export const STREAM_STATUS_SCHEMA_VERSION = 1;
export const STREAM_STATUS_SCHEMA_ID = `stream-status/${STREAM_STATUS_SCHEMA_VERSION}`;

export const STREAM_STATES = ['idle', 'live', 'ended', 'error'] as const;
export type StreamState = (typeof STREAM_STATES)[number];

/** How the transcoder handles a publish session: `live` (publisher there) or `backlog` (publisher gone: catch-up work). */
export const TRANSCODE_MODES = ['live', 'backlog'] as const;
export type TranscodeMode = (typeof TRANSCODE_MODES)[number];

/** What the transcoder did to keep a live stream live, or with a session's backlog. */
export const TRANSCODE_ACTIONS = [
  'drop_rendition',
  'faster_preset',
  'skip_to_live',
  'restore_preset',
  'restore_rendition',
  'backlog_deferred',
  'backlog_skipped',
  'backlog_cut',
] as const;
export type TranscodeAction = (typeof TRANSCODE_ACTIONS)[number];

/**
 * The transcoder's view of a stream's latency (optional; added after version 1 without a version
 * change: readers that do not know it ignore it).
 */
export const TranscodeDetailSchema = Type.Object(
  {
    mode: StringEnum(TRANSCODE_MODES),
    /** How long the oldest input not yet covered by published output has been waiting since ingest (ms). */
    edge_delay_ms: Type.Optional(Type.Integer({ minimum: 0 })),
    /** Media seconds published per wall second over the last seconds (1 = real time). */
    speed: Type.Optional(Type.Number({ minimum: 0 })),
    /** 0 = full ladder and preset; 1 = top rendition dropped; 2 = and a faster preset. */
    shed_level: Type.Optional(Type.Integer({ minimum: 0, maximum: 2 })),
    dropped_renditions: Type.Optional(Type.Array(Type.String({ maxLength: 32 }), { maxItems: 16 })),
    preset: Type.Optional(Type.String({ maxLength: 16 })),
    /** The action this report is about. */
    action: Type.Optional(StringEnum(TRANSCODE_ACTIONS)),
    /** Input chunks skipped, not transcoded, in this session so far (a recorded gap). */
    skipped_chunks: Type.Optional(Type.Integer({ minimum: 0 })),
    /**
     * The latency mode the transcoder actually runs the session in (`low`: parts on video.segments;
     * a `low` stream falls back to `standard` when the transcoder's ffmpeg cannot make parts, `reason` says why).
     */
    latency_mode: Type.Optional(StringEnum(['standard', 'low'] as const)),
    /**
     * Low-latency mode: the EXT-X-PART-INF PART-TARGET (s) the session's parts need — the longest
     * part produced so far, rounded up to the millisecond (at least the configured part plus one
     * frame). Reported with `live` at start and again whenever a longer part raises it.
     */
    part_target_seconds: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 10 })),
  },
  { additionalProperties: false },
);
export type TranscodeDetail = Static<typeof TranscodeDetailSchema>;

export const StreamStatusSchema = Type.Object(
  {
    stream_id: Type.String({ pattern: STREAM_ID_PATTERN, maxLength: 63 }),
    state: StringEnum(STREAM_STATES),
    /** Who reported it. */
    reporter: StringEnum(['ingest', 'transcoder'] as const),
    /** One publisher connection; a new publish of the same stream gets a new id. */
    publish_session_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    reason: Type.Optional(Type.String({ maxLength: 2000 })),
    /**
     * With ingest's `ended`: the last chunk sequence of the publish session on `video.ingest`
     * (-1 when none was written), so the transcoder knows when it has all of the input.
     */
    last_chunk_sequence: Type.Optional(Type.Integer({ minimum: -1 })),
    /** Renditions with their HLS attributes, when the transcoder knows them. */
    renditions: Type.Optional(
      Type.Array(
        Type.Composite(
          [
            RenditionSchema,
            Type.Object({
              bandwidth_bps: Type.Integer({ minimum: 1 }),
              codecs: Type.String({ minLength: 1, maxLength: 100 }),
            }),
          ],
          { additionalProperties: false },
        ),
      ),
    ),
    /** The transcoder's latency detail (backlog, shedding); optional. */
    detail: Type.Optional(TranscodeDetailSchema),
    ts: Type.String({ format: 'date-time' }),
  },
  { $id: STREAM_STATUS_SCHEMA_ID },
);
export type StreamStatus = Static<typeof StreamStatusSchema>;
export const streamStatusValidator = createValidator(StreamStatusSchema);
