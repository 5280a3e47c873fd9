import type { KafkaMessage } from 'kafkajs';
import { Headers, isStreamId, TS_PACKET_SIZE, VideoHeaders } from '@tributary/contracts';
import { headerString } from '@tributary/kafka';
import type { InputChunk } from './chunk-coverage';

/** A valid video.ingest message: one chunk of a stream's publish session. */
export interface IngestChunk extends InputChunk {
  streamId: string;
  publishSessionId: string;
}

/** Validates a consumed video.ingest message (key, session and sequence headers, whole TS packets). */
export function parseIngestChunk(message: KafkaMessage): { chunk: IngestChunk } | { problem: string } {
  const streamId = message.key?.toString() ?? '';
  const session = headerString(message.headers, VideoHeaders.publishSession);
  const sequence = Number(headerString(message.headers, VideoHeaders.chunkSequence));
  const problem = !isStreamId(streamId)
    ? 'key is not a valid stream id'
    : !session
      ? `missing ${VideoHeaders.publishSession} header`
      : !Number.isInteger(sequence) || sequence < 0
        ? `missing or invalid ${VideoHeaders.chunkSequence} header`
        : !message.value || message.value.length === 0 || message.value.length % TS_PACKET_SIZE !== 0
          ? `value is not a run of whole ${TS_PACKET_SIZE}-byte packets`
          : undefined;
  if (problem || !session || !message.value) return { problem: problem ?? 'invalid message' };
  const traceparent = headerString(message.headers, Headers.traceparent);
  const ingestTimeMs = Number(headerString(message.headers, VideoHeaders.ingestTimeMs));
  return {
    chunk: {
      streamId,
      publishSessionId: session,
      offset: message.offset,
      sequence,
      data: message.value,
      ...(traceparent ? { traceparent } : {}),
      ...(Number.isFinite(ingestTimeMs) && ingestTimeMs > 0 ? { ingestTimeMs } : {}),
    },
  };
}
