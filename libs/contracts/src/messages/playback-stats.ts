import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { STREAM_ID_PATTERN } from '../ids';
import { createValidator, type MessageContract } from '../validation';
import { DEVICES, EVENT_SOURCES, PLAYBACK_EVENT_TYPES } from './playback-event';

/**
 * Live statistics of one stream, computed by event-gateway's stats processor (consumer group
 * `stats-processor`) from `playback.events` over sliding event-time windows. Topic
 * `playback.stats`, key = `stream_id`; a new snapshot replaces the previous one.
 */
export const PLAYBACK_STATS_SCHEMA_VERSION = 1;
export const PLAYBACK_STATS_SCHEMA_ID = `playback-stats/${PLAYBACK_STATS_SCHEMA_VERSION}`;

/** Upper bounds (kbps, inclusive) of the bitrate distribution; a last bucket (`le_kbps: null`) takes the rest. */
export const BITRATE_BUCKETS_KBPS = [500, 1000, 2000, 3000, 5000, 8000] as const;

const Count = (description: string) => Type.Integer({ minimum: 0, description });
const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** An object with exactly one count per name (every name present, nothing else). */
function countsOf(names: readonly string[], description: string) {
  return Type.Object(Object.fromEntries(names.map((name) => [name, Count(name)])), {
    additionalProperties: false,
    description,
  });
}

export const WindowStatsSchema = Type.Object(
  {
    window_seconds: Type.Integer({ minimum: 1, description: 'Length of the window.' }),
    from: Type.String({ format: 'date-time', description: 'Window start (inclusive), event time.' }),
    to: Type.String({ format: 'date-time', description: 'Window end (exclusive), event time.' }),
    events: Count('Events in the window.'),
    events_by_type: countsOf(PLAYBACK_EVENT_TYPES, 'Events per event_type.'),
    events_by_device: countsOf(DEVICES, 'Events per device.'),
    events_by_source: countsOf(EVENT_SOURCES, 'Events per source (`player` when absent).'),
    sessions: Count('Distinct sessions with an event in the window.'),
    plays_started: Count('Playbacks started: the first `play` of a session, or a `play` after `stop`.'),
    buffer_starvations: Count('CMCD requests that reported buffer starvation (`bs`).'),
    bitrate: Type.Object(
      {
        samples: Count('Events that reported a bitrate (bitrate_kbps > 0).'),
        avg_kbps: Nullable(Type.Number({ minimum: 0, description: 'Mean of the samples; null without samples.' })),
        buckets: Type.Array(
          Type.Object(
            {
              le_kbps: Nullable(Type.Number({ minimum: 0, description: 'Upper bound (inclusive); null = +Inf.' })),
              count: Count('Samples in (previous bound, le_kbps].'),
            },
            { additionalProperties: false },
          ),
          { description: 'Distribution of the samples (not cumulative).' },
        ),
      },
      { additionalProperties: false },
    ),
    rebuffering: Type.Object(
      {
        buffering_ms: Type.Number({ minimum: 0, description: 'Time between buffer_start and buffer_end (player events).' }),
        watch_ms: Type.Number({ minimum: 0, description: 'Time sessions spent playing or buffering.' }),
        ratio: Nullable(Type.Number({ minimum: 0, description: 'buffering_ms ÷ watch_ms; null without watch time.' })),
      },
      { additionalProperties: false },
    ),
    startup: Type.Object(
      {
        samples: Count('Starts whose first `position` arrived in the window.'),
        p50_ms: Nullable(Type.Number({ minimum: 0 })),
        p95_ms: Nullable(Type.Number({ minimum: 0 })),
      },
      { additionalProperties: false, description: 'Video startup time: starting `play` → first `position` of the session.' },
    ),
  },
  { additionalProperties: false },
);

export type WindowStats = Static<typeof WindowStatsSchema>;

export const PlaybackStatsSchema = Type.Object(
  {
    stream_id: Type.String({ pattern: STREAM_ID_PATTERN, maxLength: 63 }),
    generated_at: Type.String({ format: 'date-time', description: 'When the snapshot was computed (window end).' }),
    active_viewers: Count('Distinct sessions seen in the last `active_window_seconds` whose last event is not `stop`.'),
    active_viewers_by_device: countsOf(DEVICES, 'Active viewers per device.'),
    active_window_seconds: Type.Integer({ minimum: 1 }),
    windows: Type.Array(WindowStatsSchema, { minItems: 1, description: 'One entry per window length, shortest first.' }),
  },
  { $id: PLAYBACK_STATS_SCHEMA_ID, title: 'Tributary playback statistics', additionalProperties: false },
);

export type PlaybackStats = Static<typeof PlaybackStatsSchema>;

export const playbackStatsValidator = createValidator(PlaybackStatsSchema);

/** How consumers check a `playback.stats` message. */
export const playbackStatsMessage: MessageContract<PlaybackStats> = { schemaId: PLAYBACK_STATS_SCHEMA_ID, validator: playbackStatsValidator, name: 'playback stats' };

export function playbackStatsKey(stats: PlaybackStats): string {
  return stats.stream_id;
}
