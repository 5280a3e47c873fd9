import { DATE_TIME_SEPARATORS, isDateTimeParts } from '@tributary/contracts';

/**
 * Byte scanners for JSON in the plain form JSON.stringify writes (no whitespace, ASCII strings
 * without escapes, unsigned numbers without exponent): each reads one token at an offset of a
 * Buffer without decoding it, and answers −1 / NaN / false for anything outside that form, so the
 * caller can leave it to JSON.parse. Used by `readStatsEvent` (stats-event.ts).
 */
export const QUOTE = 0x22;
export const COMMA = 0x2c;
export const COLON = 0x3a;
export const OPEN = 0x7b;
export const CLOSE = 0x7d;
const BACKSLASH = 0x5c;
const DOT = 0x2e;

/** Index of the closing quote of a string starting at `from` (after its opening quote), or −1 if it has an escape, a control or a non-ASCII byte. */
export function plainStringEnd(bytes: Buffer, from: number, end: number): number {
  for (let at = from; at < end; at++) {
    const byte = bytes[at];
    if (byte === QUOTE) return at;
    if (byte < 0x20 || byte === BACKSLASH || byte >= 0x80) return -1;
  }
  return -1;
}

/** Whether `expected`'s bytes and then a quote are at `start`. */
export function quotedAt(expected: Buffer, bytes: Buffer, start: number): boolean {
  const length = expected.length;
  if (bytes[start + length] !== QUOTE) return false;
  for (let index = 0; index < length; index++) if (bytes[start + index] !== expected[index]) return false;
  return true;
}

/** Index of the first quote at or after `from` (`end` if none): the caller's own check rejects anything else in between. */
export function quoteAfter(bytes: Buffer, from: number, end: number): number {
  let at = from;
  while (at < end && bytes[at] !== QUOTE) at += 1;
  return at;
}

export function sameBytes(expected: Buffer, bytes: Buffer, start: number, stop: number): boolean {
  if (stop - start !== expected.length) return false;
  for (let index = 0; index < expected.length; index++) if (bytes[start + index] !== expected[index]) return false;
  return true;
}

const isDigit = (byte: number) => byte >= 0x30 && byte <= 0x39;
/** End of an unsigned JSON number without exponent (`0`, `12`, `3.25`) starting at `from`, or −1. */
export function numberEnd(bytes: Buffer, from: number, end: number): number {
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
export function numberAt(bytes: Buffer, start: number, stop: number): number {
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
export function isAtMost(bytes: Buffer, start: number, stop: number, maximum: number): boolean {
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

/** The contract's DATE_TIME_SEPARATORS as constants (a loop over them per event cost a few %). */
if (DATE_TIME_SEPARATORS.length !== 5) throw new Error('json-bytes: canonicalTimeAt reads exactly five date-time separators');
const [[AT_0, CODE_0], [AT_1, CODE_1], [AT_2, CODE_2], [AT_3, CODE_3], [AT_4, CODE_4]] = DATE_TIME_SEPARATORS;

/**
 * `YYYY-MM-DDTHH:MM:SS[.sss]Z` (a valid date and time, year ≥ 1000) as epoch ms, NaN for any other
 * form: the values the contract's `date-time` check accepts and `Date.parse` reads the same way.
 */
export function canonicalTimeAt(bytes: Buffer, start: number, stop: number): number {
  const length = stop - start;
  if ((length !== 20 && length !== 24) || bytes[stop - 1] !== 0x5a) return Number.NaN;
  if (bytes[start + AT_0] !== CODE_0 || bytes[start + AT_1] !== CODE_1 || bytes[start + AT_2] !== CODE_2 || bytes[start + AT_3] !== CODE_3 || bytes[start + AT_4] !== CODE_4) return Number.NaN;
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
  // Years below 1000 are left to the usual path (Date.UTC reads 0–99 as 1900–1999).
  if (year < 1000 || millis < 0 || !isDateTimeParts(year, month, day, hour, minute, second)) return Number.NaN;
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
