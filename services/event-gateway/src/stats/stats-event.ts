import { CMCD_OBJECT_TYPES, DEVICES, EVENT_SOURCES, PLAYBACK_EVENT_TYPES, type PlaybackEvent } from '@tributary/contracts';

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

const QUOTE = 0x22;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN = 0x7b;
const CLOSE = 0x7d;
const BACKSLASH = 0x5c;
const DOT = 0x2e;

/** The schema's fields, in one order: a bit each in the `seen` mask. */
const FIELDS = [
  'event_id',
  'session_id',
  'user_id',
  'stream_id',
  'event_type',
  'position_seconds',
  'bitrate_kbps',
  'device',
  'ts',
  'source',
  'buffer_length_ms',
  'throughput_kbps',
  'playback_rate',
  'object_type',
] as const;
const FIELD_BYTES = FIELDS.map((name) => Buffer.from(name, 'latin1'));
/** The first nine are required (PlaybackEventSchema). */
const REQUIRED_MASK = (1 << 9) - 1;
/** The numeric fields' `maximum` (every `minimum` is 0). */
const MAXIMUM: Partial<Record<(typeof FIELDS)[number], number>> = {
  position_seconds: 1e9,
  bitrate_kbps: 1e6,
  buffer_length_ms: 1e9,
  throughput_kbps: 1e8,
  playback_rate: 100,
};
const MAXIMUMS = FIELDS.map((name) => MAXIMUM[name]);
const enumOf = <T extends string>(values: readonly T[]) => values.map((value) => ({ value, bytes: Buffer.from(value, 'latin1') }));
const EVENT_TYPES = enumOf(PLAYBACK_EVENT_TYPES);
const DEVICE_VALUES = enumOf(DEVICES);
const SOURCE_VALUES = enumOf(EVENT_SOURCES);
const OBJECT_TYPES = enumOf(CMCD_OBJECT_TYPES);
const DAYS_IN_MONTH = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

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
 * the two on generated and mutated events). A field the schema gains later sends events to the
 * usual path until it is added here.
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
    let field = next < FIELD_BYTES.length && quotedAt(FIELD_BYTES[next], bytes, at + 1) ? next : -1;
    let keyEnd: number;
    if (field >= 0) {
      keyEnd = at + 1 + FIELD_BYTES[field].length;
    } else {
      keyEnd = plainStringEnd(bytes, at + 1, end);
      if (keyEnd < 0) return undefined;
      field = fieldAt(bytes, at + 1, keyEnd);
    }
    if (field < 0 || (seen & (1 << field)) !== 0 || bytes[keyEnd + 1] !== COLON) return undefined;
    seen |= 1 << field;
    next = field + 1;
    at = keyEnd + 2;
    const maximum = MAXIMUMS[field];
    if (maximum !== undefined) {
      const stop = numberEnd(bytes, at, end);
      if (stop < 0) return undefined;
      if (field === 6) {
        bitrate = numberAt(bytes, at, stop);
        if (!(bitrate <= maximum)) return undefined;
      } else if (!isAtMost(bytes, at, stop, maximum)) {
        return undefined;
      }
      at = stop;
    } else {
      if (bytes[at] !== QUOTE) return undefined;
      const start = at + 1;
      // Each check below accepts only bytes of the plain form, so for all but the free-form ids
      // finding the closing quote needs no check of its own.
      let stop: number;
      switch (field) {
        case 0:
        case 1:
        case 2:
          stop = plainStringEnd(bytes, start, end);
          if (stop < start + 1 || stop > start + 128) return undefined;
          if (field === 0) eventId = bytes.toString('latin1', start, stop);
          else if (field === 1) sessionId = bytes.toString('latin1', start, stop);
          break;
        case 3:
          stop = quoteAfter(bytes, start, end);
          if (!isStreamIdAt(bytes, start, stop)) return undefined;
          streamId = bytes.toString('latin1', start, stop);
          break;
        case 4: {
          const value = enumAt(EVENT_TYPES, bytes, start);
          if (value === undefined) return undefined;
          eventType = value.value;
          stop = start + value.bytes.length;
          break;
        }
        case 7: {
          const value = enumAt(DEVICE_VALUES, bytes, start);
          if (value === undefined) return undefined;
          device = value.value;
          stop = start + value.bytes.length;
          break;
        }
        case 8:
          stop = quoteAfter(bytes, start, end);
          tsMs = canonicalTimeAt(bytes, start, stop);
          if (Number.isNaN(tsMs)) return undefined;
          break;
        case 9: {
          const value = enumAt(SOURCE_VALUES, bytes, start);
          if (value === undefined) return undefined;
          source = value.value;
          stop = start + value.bytes.length;
          break;
        }
        default: {
          const value = enumAt(OBJECT_TYPES, bytes, start);
          if (value === undefined) return undefined;
          stop = start + value.bytes.length;
        }
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

/** Index of the closing quote of a string starting at `from` (after its opening quote), or −1 if it has an escape, a control or a non-ASCII byte. */
function plainStringEnd(bytes: Buffer, from: number, end: number): number {
  for (let at = from; at < end; at++) {
    const byte = bytes[at];
    if (byte === QUOTE) return at;
    if (byte < 0x20 || byte === BACKSLASH || byte >= 0x80) return -1;
  }
  return -1;
}

function fieldAt(bytes: Buffer, start: number, stop: number): number {
  for (let field = 0; field < FIELD_BYTES.length; field++) if (sameBytes(FIELD_BYTES[field], bytes, start, stop)) return field;
  return -1;
}

/** The enum value whose bytes, then a closing quote, are at `start`. */
function enumAt<T extends string>(values: readonly { value: T; bytes: Buffer }[], bytes: Buffer, start: number): { value: T; bytes: Buffer } | undefined {
  for (const candidate of values) if (quotedAt(candidate.bytes, bytes, start)) return candidate;
  return undefined;
}

/** Whether `expected`'s bytes and then a quote are at `start`. */
function quotedAt(expected: Buffer, bytes: Buffer, start: number): boolean {
  const length = expected.length;
  if (bytes[start + length] !== QUOTE) return false;
  for (let index = 0; index < length; index++) if (bytes[start + index] !== expected[index]) return false;
  return true;
}

/** Index of the first quote at or after `from` (`end` if none): the caller's own check rejects anything else in between. */
function quoteAfter(bytes: Buffer, from: number, end: number): number {
  let at = from;
  while (at < end && bytes[at] !== QUOTE) at += 1;
  return at;
}

function sameBytes(expected: Buffer, bytes: Buffer, start: number, stop: number): boolean {
  if (stop - start !== expected.length) return false;
  for (let index = 0; index < expected.length; index++) if (bytes[start + index] !== expected[index]) return false;
  return true;
}

const isDigit = (byte: number) => byte >= 0x30 && byte <= 0x39;
const isLowerAlnum = (byte: number) => isDigit(byte) || (byte >= 0x61 && byte <= 0x7a);

/** STREAM_ID_PATTERN (`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`, at most 63 characters). */
function isStreamIdAt(bytes: Buffer, start: number, stop: number): boolean {
  const length = stop - start;
  if (length < 1 || length > 63 || !isLowerAlnum(bytes[start]) || !isLowerAlnum(bytes[stop - 1])) return false;
  for (let at = start + 1; at < stop - 1; at++) if (!isLowerAlnum(bytes[at]) && bytes[at] !== 0x2d) return false;
  return true;
}

/** End of an unsigned JSON number without exponent (`0`, `12`, `3.25`) starting at `from`, or −1. */
function numberEnd(bytes: Buffer, from: number, end: number): number {
  let at = from;
  if (bytes[at] === 0x30) at += 1;
  else if (isDigit(bytes[at])) while (at < end && isDigit(bytes[at])) at += 1;
  else return -1;
  if (bytes[at] === DOT) {
    const fraction = at + 1;
    at = fraction;
    while (at < end && isDigit(bytes[at])) at += 1;
    if (at === fraction) return -1;
  }
  return at;
}

/** The number JSON.parse reads: digits summed exactly while they fit, otherwise the same decimal conversion as JSON.parse. */
function numberAt(bytes: Buffer, start: number, stop: number): number {
  if (stop - start <= 15) {
    let value = 0;
    let at = start;
    for (; at < stop && bytes[at] !== DOT; at++) value = value * 10 + (bytes[at] - 0x30);
    if (at === stop) return value;
  }
  return Number(bytes.toString('latin1', start, stop));
}

/**
 * Whether the number JSON.parse reads is ≤ `maximum` (an integer), decided without converting it
 * where the digits make it certain: an integer part below the maximum cannot round above it, one
 * equal to it is within it only without a fraction; the rest (not certain, or too long) is left
 * to the usual path.
 */
function isAtMost(bytes: Buffer, start: number, stop: number, maximum: number): boolean {
  let whole = 0;
  let at = start;
  for (; at < stop && bytes[at] !== DOT; at++) {
    whole = whole * 10 + (bytes[at] - 0x30);
    if (at - start >= 15) return false;
  }
  if (whole < maximum) return true;
  if (whole > maximum) return false;
  for (at += 1; at < stop; at++) if (bytes[at] !== 0x30) return false;
  return true;
}

/**
 * `YYYY-MM-DDTHH:MM:SS[.sss]Z` (a valid date and time, year ≥ 1000) as epoch ms, NaN for any other
 * form: the values the contract's `date-time` check accepts and `Date.parse` reads the same way.
 */
function canonicalTimeAt(bytes: Buffer, start: number, stop: number): number {
  const length = stop - start;
  if ((length !== 20 && length !== 24) || bytes[stop - 1] !== 0x5a) return Number.NaN;
  if (bytes[start + 4] !== 0x2d || bytes[start + 7] !== 0x2d || bytes[start + 10] !== 0x54 || bytes[start + 13] !== COLON || bytes[start + 16] !== COLON) {
    return Number.NaN;
  }
  const year = digitsAt(bytes, start, 4);
  const month = digitsAt(bytes, start + 5, 2);
  const day = digitsAt(bytes, start + 8, 2);
  const hour = digitsAt(bytes, start + 11, 2);
  const minute = digitsAt(bytes, start + 14, 2);
  const second = digitsAt(bytes, start + 17, 2);
  let millis = 0;
  if (length === 24) {
    if (bytes[start + 19] !== DOT) return Number.NaN;
    millis = digitsAt(bytes, start + 20, 3);
  }
  if (year < 1000 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59 || millis < 0) {
    return Number.NaN;
  }
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > (month === 2 && leap ? 29 : DAYS_IN_MONTH[month])) return Number.NaN;
  return Date.UTC(year, month - 1, day, hour, minute, second, millis);
}

/** `count` ASCII digits at `start` as a number, or −1. */
function digitsAt(bytes: Buffer, start: number, count: number): number {
  let value = 0;
  for (let at = start; at < start + count; at++) {
    if (!isDigit(bytes[at])) return -1;
    value = value * 10 + (bytes[at] - 0x30);
  }
  return value;
}
