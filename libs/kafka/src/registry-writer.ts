import type { Message } from 'kafkajs';
import { Headers, STREAM_RECORD_SCHEMA_ID, type StreamRecord } from '@tributary/contracts';

/**
 * The one way to write `stream.registry` (ingest's admin API and the operator both use it): key =
 * stream id, value = the whole StreamRecord as JSON with its schema header; a tombstone (null
 * value) deletes the stream once compaction has run, and every reader drops it at once.
 */
export function streamRecordMessage(record: StreamRecord): Message {
  return {
    key: record.id,
    value: JSON.stringify(record),
    headers: { [Headers.schema]: STREAM_RECORD_SCHEMA_ID, [Headers.contentType]: 'application/json' },
  };
}

/** Deletes a stream from the registry. */
export function streamTombstoneMessage(id: string): Message {
  return { key: id, value: null };
}
