import { type Static, Type } from '@sinclair/typebox';
import { createValidator, RenditionSchema, STREAM_ID_PATTERN } from '@tributary/contracts';

/** Body of `POST /v1/streams` (ingest's admin API, not a Kafka contract). */
export const CreateStreamRequestSchema = Type.Object(
  {
    id: Type.String({ pattern: STREAM_ID_PATTERN, maxLength: 63, description: 'DNS-label style: a-z, 0-9, inner dashes' }),
    title: Type.String({ minLength: 1, maxLength: 200 }),
    ladder: Type.Optional(Type.Array(RenditionSchema, { minItems: 1, maxItems: 8 })),
    segment_duration_seconds: Type.Optional(Type.Number({ minimum: 1, maximum: 10 })),
  },
  { additionalProperties: false },
);
export type CreateStreamRequest = Static<typeof CreateStreamRequestSchema>;
export const createStreamRequestValidator = createValidator(CreateStreamRequestSchema);

/** `/ladder/0/name` → `ladder.0.name`, `` → `(body)`. */
export function fieldName(pointer: string): string {
  return pointer === '' ? '(body)' : pointer.replace(/^\//, '').replaceAll('/', '.');
}
