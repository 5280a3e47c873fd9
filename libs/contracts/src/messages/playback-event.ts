import { type Static, Type } from '@sinclair/typebox';
import { CMCD_OBJECT_TYPES } from '../cmcd/cmcd';
import { STREAM_ID_PATTERN } from '../ids';
import { createValidator, type MessageContract, StringEnum } from '../validation';

/**
 * A playback event: what a player (or CMCD data, or the simulator) reports about one viewing
 * session. Topic `playback.events`, key = `stream_id` so one stream's events stay in order.
 */
export const PLAYBACK_EVENT_SCHEMA_VERSION = 1;
export const PLAYBACK_EVENT_SCHEMA_ID = `playback-event/${PLAYBACK_EVENT_SCHEMA_VERSION}`;

export const PLAYBACK_EVENT_TYPES = [
  'play',
  'pause',
  'stop',
  'seek',
  'buffer_start',
  'buffer_end',
  /** The player switched rendition; `bitrate_kbps` is the new one. */
  'bitrate',
  /** Periodic progress heartbeat while playing. */
  'position',
] as const;
export type PlaybackEventType = (typeof PLAYBACK_EVENT_TYPES)[number];

export const DEVICES = ['web', 'tv', 'mobile'] as const;
export type Device = (typeof DEVICES)[number];

export const EVENT_SOURCES = ['player', 'cmcd', 'simulator'] as const;

const Id = (description: string) => Type.String({ minLength: 1, maxLength: 128, description });

export const PlaybackEventSchema = Type.Object(
  {
    event_id: Id('Unique per event; consumers use it to de-duplicate retries.'),
    session_id: Id('One viewing session of one player.'),
    user_id: Id('The viewer (opaque).'),
    stream_id: Type.String({ pattern: STREAM_ID_PATTERN, maxLength: 63, description: 'The stream or title watched.' }),
    event_type: StringEnum(PLAYBACK_EVENT_TYPES, { description: 'What happened.' }),
    position_seconds: Type.Number({ minimum: 0, maximum: 1e9, description: 'Playhead position.' }),
    bitrate_kbps: Type.Number({ minimum: 0, maximum: 1e6, description: 'Bitrate of the rendition playing.' }),
    device: StringEnum(DEVICES, { description: 'Device class.' }),
    ts: Type.String({ format: 'date-time', description: 'When it happened (ISO-8601, with zone).' }),
    source: Type.Optional(StringEnum(EVENT_SOURCES, { description: 'Who reported it; `player` when absent.' })),
    buffer_length_ms: Type.Optional(Type.Number({ minimum: 0, maximum: 1e9, description: 'Buffer ahead of the playhead.' })),
    throughput_kbps: Type.Optional(Type.Number({ minimum: 0, maximum: 1e8, description: 'Measured download throughput.' })),
    playback_rate: Type.Optional(Type.Number({ minimum: 0, maximum: 100, description: 'Playback rate, 1 = real time.' })),
    object_type: Type.Optional(
      Type.Union(
        CMCD_OBJECT_TYPES.map((type) => Type.Literal(type)),
        { description: 'CMCD object type of the request (m manifest, a audio, v video, av muxed, i init, c caption, tt timed text, k key, o other).' },
      ),
    ),
  },
  {
    $id: PLAYBACK_EVENT_SCHEMA_ID,
    title: 'Tributary playback event',
    additionalProperties: false,
  },
);

export type PlaybackEvent = Static<typeof PlaybackEventSchema>;

/** For what enters the platform (HTTP): unknown fields are rejected by name. */
export const playbackEventValidator = createValidator(PlaybackEventSchema);

/**
 * For consumers of `playback.events`: the same schema, but fields it does not know are ignored
 * instead of dead-lettered. New fields are always optional (a breaking change gets a new schema
 * version), so producers can be upgraded before consumers without losing events.
 */
export const playbackEventReader = createValidator(tolerantOf(PlaybackEventSchema));

/** How consumers check a `playback.events` message (with the tolerant reader). */
export const playbackEventMessage: MessageContract<PlaybackEvent> = { schemaId: PLAYBACK_EVENT_SCHEMA_ID, validator: playbackEventReader, name: 'playback event' };

function tolerantOf<S extends typeof PlaybackEventSchema>(schema: S): S {
  // Without $id: Ajv refuses two schemas with one id.
  const { $id: _id, ...rest } = schema;
  return { ...rest, additionalProperties: true } as S;
}

/** The Kafka key: per-stream order is the ordering guarantee consumers rely on. */
export function playbackEventKey(event: PlaybackEvent): string {
  return event.stream_id;
}
