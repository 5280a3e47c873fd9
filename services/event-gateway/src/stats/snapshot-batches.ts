import type { Message } from 'kafkajs';

/** A record's own framing in a v2 record batch (length, attributes, deltas, varints): at most ~25 bytes; rounded up. */
const RECORD_OVERHEAD_BYTES = 32;
/** A record batch's header (61 bytes in v2), rounded up. */
export const BATCH_OVERHEAD_BYTES = 128;

const length = (value: Message['key'] | Message['value']): number =>
  value === null || value === undefined ? 0 : typeof value === 'string' ? Buffer.byteLength(value) : value.length;

/** Upper bound of the bytes one message adds to a record batch, uncompressed. */
export function messageBytes(message: Message): number {
  let bytes = RECORD_OVERHEAD_BYTES + length(message.key) + length(message.value);
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    const values = Array.isArray(value) ? value : [value];
    for (const one of values) bytes += 8 + Buffer.byteLength(name) + length(one);
  }
  return bytes;
}

export interface SizedBatches {
  /** In the original order; each one's messages, framed as one record batch, fit in `maxBytes`. */
  readonly batches: Message[][];
  /** Messages that alone exceed `maxBytes` (never sent: the broker would refuse the whole request). */
  readonly oversized: Message[];
}

/**
 * Splits messages into sends that each stay under `maxBytes` uncompressed, so however many
 * streams one partition carries, no record batch exceeds the topic's `max.message.bytes` (a
 * too-large batch fails the whole send, for every stream on it).
 */
export function batchBySize(messages: readonly Message[], maxBytes: number): SizedBatches {
  const batches: Message[][] = [];
  const oversized: Message[] = [];
  let current: Message[] = [];
  let currentBytes = BATCH_OVERHEAD_BYTES;
  for (const message of messages) {
    const bytes = messageBytes(message);
    if (bytes + BATCH_OVERHEAD_BYTES > maxBytes) {
      oversized.push(message);
      continue;
    }
    if (currentBytes + bytes > maxBytes && current.length > 0) {
      batches.push(current);
      current = [];
      currentBytes = BATCH_OVERHEAD_BYTES;
    }
    current.push(message);
    currentBytes += bytes;
  }
  if (current.length > 0) batches.push(current);
  return { batches, oversized };
}
