import { formatIssues, Headers, type MessageContract } from '@tributary/contracts';
import type { KafkaMessage } from 'kafkajs';
import { headerString } from './trace-context';

export type CheckedMessage<T> = { ok: true; value: T } | { ok: false; reason: string };

/**
 * Parses and validates one consumed JSON message (kafkajs form, value as bytes): the schema header,
 * when present, must name the contract's schema (e.g. `playbackEventMessage` from the contracts). The reason of a rejection goes to the dead-letter
 * header, so it says what to fix.
 */
export function checkJsonMessage<T>(message: Pick<KafkaMessage, 'value' | 'headers'>, contract: MessageContract<T>): CheckedMessage<T> {
  const schema = sameSchema(message.headers?.[Headers.schema], contract.schemaId) ? undefined : headerString(message.headers, Headers.schema);
  if (schema !== undefined && schema !== contract.schemaId) {
    return { ok: false, reason: `unsupported ${Headers.schema} "${schema.slice(0, 100)}": expected ${contract.schemaId}` };
  }
  if (!message.value || message.value.length === 0) return { ok: false, reason: 'the message has no value' };
  let value: unknown;
  try {
    value = JSON.parse(message.value.toString('utf8'));
  } catch {
    return { ok: false, reason: 'the value is not valid JSON' };
  }
  const result = contract.validator.validate(value);
  return result.ok ? { ok: true, value: result.value } : { ok: false, reason: `invalid ${contract.name}: ${formatIssues(result.issues)}` };
}

/** True when the message's schema header is `schemaId`, as bytes (compared without decoding; a string or an absent header is false). */
export function carriesSchema(message: Pick<KafkaMessage, 'headers'>, schemaId: string): boolean {
  return sameSchema(message.headers?.[Headers.schema], schemaId);
}

const schemaBytes = new Map<string, Buffer>();

/** True when the schema header (as kafkajs hands it over: bytes) is exactly `schemaId`, compared without decoding it. */
function sameSchema(header: Buffer | string | (Buffer | string)[] | undefined, schemaId: string): boolean {
  if (!Buffer.isBuffer(header)) return false;
  let expected = schemaBytes.get(schemaId);
  if (!expected) {
    expected = Buffer.from(schemaId, 'utf8');
    schemaBytes.set(schemaId, expected);
  }
  // A byte loop: Buffer.equals' native call costs more than comparing ~20 bytes (one per consumed event).
  if (header.length !== expected.length) return false;
  for (let index = 0; index < expected.length; index++) if (header[index] !== expected[index]) return false;
  return true;
}
