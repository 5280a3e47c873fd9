import { Headers, PLAYBACK_EVENT_SCHEMA_ID, type PlaybackEvent, playbackEventReader, formatIssues } from '@tributary/contracts';

export type ConsumedPlaybackEvent = { ok: true; event: PlaybackEvent } | { ok: false; reason: string };

/**
 * Checks one raw `playback.events` value (eachBatch hands over the bytes) and keeps its JSON text:
 * the validator never changes the event, so that text IS the event, and the socket payload is
 * built around it instead of re-serialising the parsed object.
 */
export function readPlaybackValue(
  value: Buffer | null,
  headers: Record<string, unknown> | undefined,
): { ok: true; event: PlaybackEvent; json: string } | { ok: false; reason: string } {
  if (value === null) return checkPlaybackMessage(null, headers) as { ok: false; reason: string };
  const json = value.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    // Not JSON: bytes that are not UTF-8 text are binary; otherwise broken text.
    parsed = Buffer.from(json, 'utf8').equals(value) ? json : value;
  }
  const checked = checkPlaybackMessage(parsed, headers);
  return checked.ok ? { ...checked, json } : checked;
}

/**
 * Checks one consumed `playback.events` value, as Nest's Kafka transport hands it over: parsed
 * JSON for an object or array, a string when the value is not JSON, a Buffer for binary values.
 * The reason of a rejection goes to the dead-letter header, so it says what to fix.
 */
export function checkPlaybackMessage(value: unknown, headers: Record<string, unknown> | undefined): ConsumedPlaybackEvent {
  const schema = headers?.[Headers.schema];
  if (schema !== undefined && schema !== null) {
    const schemaId = Buffer.isBuffer(schema) ? schema.toString() : typeof schema === 'string' ? schema : JSON.stringify(schema);
    if (schemaId !== PLAYBACK_EVENT_SCHEMA_ID) {
      return { ok: false, reason: `unsupported ${Headers.schema} "${schemaId.slice(0, 100)}": expected ${PLAYBACK_EVENT_SCHEMA_ID}` };
    }
  }
  if (value === null || value === undefined) return { ok: false, reason: 'the message has no value' };
  if (Buffer.isBuffer(value)) return { ok: false, reason: 'the value is binary, not JSON' };
  if (typeof value === 'string') return { ok: false, reason: 'the value is not valid JSON (or not a JSON object)' };
  if (Array.isArray(value)) return { ok: false, reason: 'the value is a JSON array: one message carries one event' };
  const result = playbackEventReader.validate(value);
  if (!result.ok) return { ok: false, reason: `invalid playback event: ${formatIssues(result.issues)}` };
  return { ok: true, event: result.value };
}

/** The value's bytes for the dead-letter copy (Nest decoded them; JSON values are re-encoded). */
export function originalValue(value: unknown): Buffer | null {
  if (value === null || value === undefined) return null;
  if (Buffer.isBuffer(value)) return value;
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  return Buffer.from(JSON.stringify(value), 'utf8');
}
