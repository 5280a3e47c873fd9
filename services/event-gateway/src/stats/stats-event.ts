import { type PlaybackEvent, PlaybackEventSchema } from '@tributary/contracts';
import { canonicalTimeAt, CLOSE, COLON, COMMA, isAtMost, numberAt, numberEnd, OPEN, plainStringEnd, QUOTE, quoteAfter, quotedAt, sameBytes } from './json-bytes';

/** What the stats aggregator reads of a playback event: no user id, no player details, the time as epoch ms. */
export interface StatsEvent {
  event_id: string;
  session_id: string;
  stream_id: string;
  event_type: PlaybackEvent['event_type'];
  device: PlaybackEvent['device'];
  /** `player` when the event has none. */
  source: NonNullable<PlaybackEvent['source']>;
  bitrate_kbps: number;
  /** `Date.parse(ts)`. */
  tsMs: number;
}

/** The aggregator's view of a parsed (and validated) event. */
export function statsEventOf(event: PlaybackEvent): StatsEvent {
  return {
    event_id: event.event_id,
    session_id: event.session_id,
    stream_id: event.stream_id,
    event_type: event.event_type,
    device: event.device,
    source: event.source ?? 'player',
    bitrate_kbps: event.bitrate_kbps,
    tsMs: Date.parse(event.ts),
  };
}

/** How the reader checks a field's value: what the schema's keywords for it ask (`readerOf`). */
const NUMBER = 0;
const TEXT = 1;
const ENUM = 2;
const DATE_TIME = 3;

export interface FieldReader {
  readonly name: string;
  readonly bytes: Buffer;
  readonly kind: typeof NUMBER | typeof TEXT | typeof ENUM | typeof DATE_TIME;
  /** NUMBER: `maximum` (an integer; every `minimum` is ≤ 0, which the unsigned form always meets). */
  readonly maximum: number;
  /** TEXT: length bounds (ASCII, so characters = bytes) and `pattern` as the validator compiles it. */
  readonly minLength: number;
  readonly maxLength: number;
  readonly pattern: RegExp | undefined;
  /** ENUM: the allowed values. */
  readonly values: readonly { value: string; bytes: Buffer }[];
}

const ANNOTATIONS = ['description', 'title', 'examples'];
/** Object keywords the reader honours; anything else in PlaybackEventSchema stops the module from loading. */
const OBJECT_KEYWORDS = [...ANNOTATIONS, '$id', 'type', 'properties', 'required', 'additionalProperties'];

/**
 * What the reader must check of one field, taken from its schema once at load. A keyword it does
 * not know how to check throws here (the service then fails to start, naming the field) rather
 * than being skipped, so tightening the contract can never make this path accept what the
 * validator rejects.
 */
function readerOf(name: string, schema: Record<string, unknown>): FieldReader {
  const refuse = (why: string): never => {
    throw new Error(`stats-event: PlaybackEventSchema field ${name} ${why}; teach readStatsEvent (stats-event.ts) to check it`);
  };
  const only = (...allowed: string[]) => {
    for (const key of Object.keys(schema)) if (!allowed.includes(key) && !ANNOTATIONS.includes(key)) refuse(`uses the keyword ${key}`);
  };
  const reader = { name, bytes: Buffer.from(name, 'latin1'), maximum: Number.POSITIVE_INFINITY, minLength: 0, maxLength: Number.POSITIVE_INFINITY, pattern: undefined, values: [] };
  if (schema.type === 'number') {
    only('type', 'minimum', 'maximum');
    if (schema.minimum !== undefined && !((schema.minimum as number) <= 0)) refuse(`has minimum ${JSON.stringify(schema.minimum)} (the reader knows only minima ≤ 0)`);
    if (schema.maximum !== undefined && !Number.isSafeInteger(schema.maximum)) refuse(`has maximum ${JSON.stringify(schema.maximum)} (the reader knows only integer maxima)`);
    return { ...reader, kind: NUMBER, maximum: (schema.maximum as number | undefined) ?? Number.POSITIVE_INFINITY };
  }
  const enumValues = Array.isArray(schema.enum)
    ? (only('type', 'enum'), schema.type === 'string' ? (schema.enum as unknown[]) : refuse('is a non-string enum'))
    : Array.isArray(schema.anyOf)
      ? (only('anyOf'),
        (schema.anyOf as Record<string, unknown>[]).map((branch) =>
          Object.keys(branch).every((key) => key === 'const' || key === 'type' || ANNOTATIONS.includes(key)) ? branch.const : refuse('has an anyOf branch other than a literal'),
        ))
      : undefined;
  if (enumValues !== undefined) {
    const values = enumValues.map((value) => (typeof value === 'string' && /^[\x20-\x7e]*$/.test(value) && !/["\\]/.test(value) ? value : refuse(`has the enum value ${JSON.stringify(value)}`)));
    return { ...reader, kind: ENUM, values: values.map((value) => ({ value, bytes: Buffer.from(value, 'latin1') })) };
  }
  if (schema.type !== 'string') return refuse(`has the type ${JSON.stringify(schema.type)}`);
  if (schema.format !== undefined) {
    only('type', 'format');
    if (schema.format !== 'date-time') refuse(`has the format ${JSON.stringify(schema.format)}`);
    return { ...reader, kind: DATE_TIME };
  }
  only('type', 'minLength', 'maxLength', 'pattern');
  return {
    ...reader,
    kind: TEXT,
    minLength: (schema.minLength as number | undefined) ?? 0,
    maxLength: (schema.maxLength as number | undefined) ?? Number.POSITIVE_INFINITY,
    // As Ajv compiles `pattern` (its default `unicode` flag).
    pattern: typeof schema.pattern === 'string' ? new RegExp(schema.pattern, 'u') : undefined,
  };
}

/** Each field's reader, in the schema's order; throws for any keyword the reader does not check (exported for its spec). */
export function fieldReadersOf(schema: Record<string, unknown>): FieldReader[] {
  for (const key of Object.keys(schema)) if (!OBJECT_KEYWORDS.includes(key)) throw new Error(`stats-event: PlaybackEventSchema uses the keyword ${key}; teach readStatsEvent (stats-event.ts) to check it`);
  const properties = Object.entries(schema.properties as Record<string, Record<string, unknown>>);
  if (properties.length > 31) throw new Error('stats-event: PlaybackEventSchema has more than 31 fields, more than the reader\'s bit mask holds');
  return properties.map(([name, field]) => readerOf(name, field));
}

/** The schema's fields, in its order (producers write them so): a bit each in the `seen` mask. */
const FIELDS = fieldReadersOf(PlaybackEventSchema);
const REQUIRED_MASK = (PlaybackEventSchema.required ?? []).reduce((mask, name) => mask | (1 << fieldIndex(name)), 0);

/** The index of a field the aggregator keeps, checked to be of the kind the reader keeps it as. */
function fieldIndex(name: string, kind?: FieldReader['kind']): number {
  const index = FIELDS.findIndex((field) => field.name === name);
  if (index < 0 || (kind !== undefined && FIELDS[index].kind !== kind)) throw new Error(`stats-event: PlaybackEventSchema has no ${name} of the kind readStatsEvent keeps`);
  return index;
}
const EVENT_ID = fieldIndex('event_id', TEXT);
const SESSION_ID = fieldIndex('session_id', TEXT);
const STREAM_ID = fieldIndex('stream_id', TEXT);
const EVENT_TYPE = fieldIndex('event_type', ENUM);
const BITRATE = fieldIndex('bitrate_kbps', NUMBER);
const DEVICE = fieldIndex('device', ENUM);
const TS = fieldIndex('ts', DATE_TIME);
const SOURCE = fieldIndex('source', ENUM);

/**
 * Reads a `playback.events` value straight from its bytes, for the stats processor's hot loop:
 * no whole-object JSON.parse, no decoded copy of the value, strings made only for the three ids
 * the aggregator keeps (the parse, the validation and their garbage were the largest part of its
 * CPU, issue 11). It answers only for the plain form JSON.stringify writes of a VALID event —
 * one flat object, known fields once each, ASCII strings without escapes, unsigned numbers without
 * exponent, canonical `…Z` times with 0 or 3 fraction digits, no whitespace — and undefined for
 * anything else, valid or not: the caller then parses and validates the usual way
 * (`checkEventMessage`), which gives the reason for the dead-letter header. So this never accepts
 * what the contract's validator rejects, and reads the same values (stats-event.spec.ts compares
 * the two on generated and mutated events). What it checks of each field (names, required set,
 * maxima, lengths, patterns, enums) is read from PlaybackEventSchema at load; a keyword it cannot
 * check makes the module throw at load instead of being skipped.
 */
export function readStatsEvent(bytes: Buffer): StatsEvent | undefined {
  const end = bytes.length - 1;
  if (end < 1 || bytes[0] !== OPEN || bytes[end] !== CLOSE) return undefined;
  let seen = 0;
  let eventId = '';
  let sessionId = '';
  let streamId = '';
  let eventType: StatsEvent['event_type'] = 'play';
  let device: StatsEvent['device'] = 'web';
  let source: StatsEvent['source'] = 'player';
  let bitrate = 0;
  let tsMs = 0;
  let at = 1;
  // Producers write the fields in the schema's order: the next key is checked first.
  let next = 0;
  for (;;) {
    if (bytes[at] !== QUOTE) return undefined;
    let field = next < FIELDS.length && quotedAt(FIELDS[next].bytes, bytes, at + 1) ? next : -1;
    let keyEnd: number;
    if (field >= 0) {
      keyEnd = at + 1 + FIELDS[field].bytes.length;
    } else {
      keyEnd = plainStringEnd(bytes, at + 1, end);
      if (keyEnd < 0) return undefined;
      field = fieldAt(bytes, at + 1, keyEnd);
    }
    if (field < 0 || (seen & (1 << field)) !== 0 || bytes[keyEnd + 1] !== COLON) return undefined;
    seen |= 1 << field;
    next = field + 1;
    at = keyEnd + 2;
    const reader = FIELDS[field];
    if (reader.kind === NUMBER) {
      const stop = numberEnd(bytes, at, end);
      if (stop < 0) return undefined;
      if (field === BITRATE) {
        bitrate = numberAt(bytes, at, stop);
        if (!(bitrate <= reader.maximum)) return undefined;
      } else if (!isAtMost(bytes, at, stop, reader.maximum)) {
        return undefined;
      }
      at = stop;
    } else {
      if (bytes[at] !== QUOTE) return undefined;
      const start = at + 1;
      // Each check below accepts only bytes of the plain form, so for all but free-form text
      // finding the closing quote needs no check of its own.
      let stop: number;
      if (reader.kind === TEXT) {
        stop = plainStringEnd(bytes, start, end);
        if (stop < start + reader.minLength || stop > start + reader.maxLength) return undefined;
        if (field === EVENT_ID) eventId = bytes.toString('latin1', start, stop);
        else if (field === SESSION_ID) sessionId = bytes.toString('latin1', start, stop);
        else if (field === STREAM_ID) streamId = bytes.toString('latin1', start, stop);
        if (reader.pattern !== undefined && !reader.pattern.test(field === STREAM_ID ? streamId : bytes.toString('latin1', start, stop))) return undefined;
      } else if (reader.kind === ENUM) {
        const value = enumAt(reader.values, bytes, start);
        if (value === undefined) return undefined;
        if (field === EVENT_TYPE) eventType = value.value as StatsEvent['event_type'];
        else if (field === DEVICE) device = value.value as StatsEvent['device'];
        else if (field === SOURCE) source = value.value as StatsEvent['source'];
        stop = start + value.bytes.length;
      } else {
        stop = quoteAfter(bytes, start, end);
        const ms = canonicalTimeAt(bytes, start, stop);
        if (Number.isNaN(ms)) return undefined;
        if (field === TS) tsMs = ms;
      }
      at = stop + 1;
    }
    if (bytes[at] === COMMA) {
      at += 1;
      continue;
    }
    if (at !== end || (seen & REQUIRED_MASK) !== REQUIRED_MASK) return undefined;
    return { event_id: eventId, session_id: sessionId, stream_id: streamId, event_type: eventType, device, source, bitrate_kbps: bitrate, tsMs };
  }
}

function fieldAt(bytes: Buffer, start: number, stop: number): number {
  for (let field = 0; field < FIELDS.length; field++) if (sameBytes(FIELDS[field].bytes, bytes, start, stop)) return field;
  return -1;
}

/** The enum value whose bytes, then a closing quote, are at `start`. */
function enumAt(values: FieldReader['values'], bytes: Buffer, start: number): FieldReader['values'][number] | undefined {
  for (const candidate of values) if (quotedAt(candidate.bytes, bytes, start)) return candidate;
  return undefined;
}
