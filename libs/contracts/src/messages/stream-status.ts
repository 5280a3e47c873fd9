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
    ts: Type.String({ format: 'date-time' }),
  },
  { $id: STREAM_STATUS_SCHEMA_ID },
);
export type StreamStatus = Static<typeof StreamStatusSchema>;
export const streamStatusValidator = createValidator(StreamStatusSchema);
