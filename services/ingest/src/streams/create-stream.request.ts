import { type Static, Type } from '@sinclair/typebox';
import {
  createValidator,
  LatencyModeSchema,
  PLAYBACK_TOKEN_MAX_TTL_SECONDS,
  PLAYBACK_TOKEN_MIN_TTL_SECONDS,
  PLAYBACK_TOKEN_SCOPES,
  PlaybackModeSchema,
  RenditionSchema,
  STREAM_ID_PATTERN,
} from '@tributary/contracts';

/** Body of `POST /v1/streams` (ingest's admin API, not a Kafka contract). */
export const CreateStreamRequestSchema = Type.Object(
  {
    id: Type.String({ pattern: STREAM_ID_PATTERN, maxLength: 63, description: 'DNS-label style: a-z, 0-9, inner dashes' }),
    title: Type.String({ minLength: 1, maxLength: 200 }),
    ladder: Type.Optional(Type.Array(RenditionSchema, { minItems: 1, maxItems: 8 })),
    segment_duration_seconds: Type.Optional(Type.Number({ minimum: 1, maximum: 10 })),
    playback: Type.Optional(PlaybackModeSchema),
    /** `low`: low-latency HLS (fMP4 parts); needs segment_duration_seconds ≤ 2, like the LiveStream CRD. */
    latency_mode: Type.Optional(LatencyModeSchema),
  },
  {
    additionalProperties: false,
    // The LiveStream CRD's rule: low latency with segments of at most 2 s.
    if: { properties: { latency_mode: { const: 'low' } }, required: ['latency_mode'] },
    then: { properties: { segment_duration_seconds: { type: 'number', maximum: 2 } } },
  },
);
export type CreateStreamRequest = Static<typeof CreateStreamRequestSchema>;
export const createStreamRequestValidator = createValidator(CreateStreamRequestSchema);

/** Body of `PATCH /v1/streams/:id`: the fields that may change after creation. */
export const UpdateStreamRequestSchema = Type.Object(
  {
    title: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    playback: Type.Optional(PlaybackModeSchema),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateStreamRequest = Static<typeof UpdateStreamRequestSchema>;
export const updateStreamRequestValidator = createValidator(UpdateStreamRequestSchema);

/** Body of `POST /v1/streams/:id/playback-tokens` (may be empty). */
export const PlaybackTokenRequestSchema = Type.Object(
  {
    ttlSeconds: Type.Optional(Type.Integer({ minimum: PLAYBACK_TOKEN_MIN_TTL_SECONDS, maximum: PLAYBACK_TOKEN_MAX_TTL_SECONDS })),
    scope: Type.Optional(Type.Array(Type.Union(PLAYBACK_TOKEN_SCOPES.map((scope) => Type.Literal(scope))), { minItems: 1, maxItems: 2, uniqueItems: true })),
  },
  { additionalProperties: false },
);
export type PlaybackTokenRequestBody = Static<typeof PlaybackTokenRequestSchema>;
export const playbackTokenRequestValidator = createValidator(PlaybackTokenRequestSchema);

/** `/ladder/0/name` → `ladder.0.name`, `` → `(body)`. */
export function fieldName(pointer: string): string {
  return pointer === '' ? '(body)' : pointer.replace(/^\//, '').replaceAll('/', '.');
}
