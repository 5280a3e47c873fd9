import { type Static, Type } from '@sinclair/typebox';
import { STREAM_ID_PATTERN } from '../ids';
import { createValidator, type MessageContract, StringEnum } from '../validation';

/**
 * Publish claims: topic `stream.claims`, key = stream id. Makes "one publisher per stream"
 * hold across every ingest replica: a replica writes a `claim` before it reads a byte of a
 * publish request and accepts the publisher only if its claim wins when it reads it back; the
 * winner renews its lease with `heartbeat`s and ends it with a `release`. Every ingest replica
 * reads the whole topic and decides with the same rules (services/ingest `ClaimLedger`), in log
 * order, with leases measured in the topic's own LogAppendTime timestamps (one clock: the
 * partition leader's). See docs/reliability.md "One publisher per stream".
 */
export const STREAM_CLAIM_SCHEMA_VERSION = 1;
export const STREAM_CLAIM_SCHEMA_ID = `stream-claim/${STREAM_CLAIM_SCHEMA_VERSION}`;

export const STREAM_CLAIM_KINDS = ['claim', 'heartbeat', 'release'] as const;
export type StreamClaimKind = (typeof STREAM_CLAIM_KINDS)[number];

export const StreamClaimSchema = Type.Object(
  {
    stream_id: Type.String({ pattern: STREAM_ID_PATTERN, maxLength: 63 }),
    /** The publish session (one publisher connection) the claim is for. */
    publish_session_id: Type.String({ minLength: 1, maxLength: 64 }),
    /** The ingest replica holding (or asking for) the publish. */
    replica_id: Type.String({ minLength: 1, maxLength: 128 }),
    kind: StringEnum(STREAM_CLAIM_KINDS),
    /**
     * With `heartbeat` and `release`: the offset of this session's winning `claim` (decimal), so
     * a replica that starts reading after the claim still knows which holder is the newer one.
     */
    claim_offset: Type.Optional(Type.String({ pattern: '^[0-9]{1,19}$' })),
    /** The writer's clock, for people reading the topic; leases use the log's timestamps. */
    at: Type.String({ format: 'date-time' }),
  },
  { $id: STREAM_CLAIM_SCHEMA_ID, additionalProperties: false },
);
export type StreamClaim = Static<typeof StreamClaimSchema>;
export const streamClaimValidator = createValidator(StreamClaimSchema);

export const StreamClaimContract: MessageContract<StreamClaim> = {
  schemaId: STREAM_CLAIM_SCHEMA_ID,
  validator: streamClaimValidator,
  name: 'stream claim',
};
