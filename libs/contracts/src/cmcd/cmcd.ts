/**
 * A strict parser for Common Media Client Data (CTA-5004, CMCD v1): the `CMCD` query parameter
 * (hls.js's default transmission mode) and the `CMCD-Request`, `CMCD-Object`, `CMCD-Status`,
 * `CMCD-Session` headers.
 *
 * Why not a library: `@svta/cml-cmcd` (the SVTA common media library, maintained, RFC 8941 based)
 * was evaluated. It is ESM-only with two peer packages; our services and jest run CommonJS, and
 * jest cannot `require()` an ESM package without experimental VM modules. It is also lenient by
 * design (it decodes whatever the structured-field parser accepts, without checking CMCD key
 * types), whereas we turn CMCD into Kafka events and want a typed, bounded result. So this is a
 * small strict parser of the RFC 8941 dictionary subset CMCD v1 uses.
 *
 * Grammar accepted (RFC 8941 §3.2 dictionary, CMCD v1 subset):
 *   payload = member *( OWS "," OWS member )
 *   member  = key [ "=" value ]              ; a bare key is boolean true
 *   key     = ( lcalpha / "*" ) *( lcalpha / DIGIT / "_" / "-" / "." / "*" )
 *   value   = integer / decimal / string / token / boolean
 * Inner lists and parameters (CMCD v2) are rejected. Known keys must have their CMCD type
 * (`br` an integer, `sid` a string, `ot` one of the object-type tokens…); unknown keys (custom
 * `com.example-x` keys) are kept as parsed. Never throws: malformed input gives `{ ok: false }`.
 */

export type CmcdValue = number | string | boolean | CmcdToken;

/** An RFC 8941 token (unquoted), e.g. `ot=v`. */
export interface CmcdToken {
  readonly token: string;
}

export const CMCD_OBJECT_TYPES = ['m', 'a', 'v', 'av', 'i', 'c', 'tt', 'k', 'o'] as const;
export type CmcdObjectType = (typeof CMCD_OBJECT_TYPES)[number];

export interface CmcdData {
  /** Encoded bitrate, kbps. */
  br?: number;
  /** Buffer length, ms. */
  bl?: number;
  /** Buffer starvation since the last request. */
  bs?: boolean;
  /** Content id. */
  cid?: string;
  /** Object duration, ms. */
  d?: number;
  /** Deadline, ms. */
  dl?: number;
  /** Measured throughput, kbps. */
  mtp?: number;
  /** Next object request (relative URL). */
  nor?: string;
  /** Next range request. */
  nrr?: string;
  /** Object type. */
  ot?: CmcdObjectType;
  /** Playback rate. */
  pr?: number;
  /** Requested maximum throughput, kbps. */
  rtp?: number;
  /** Streaming format (d = DASH, h = HLS, s = Smooth, o = other). */
  sf?: 'd' | 'h' | 's' | 'o';
  /** Session id. */
  sid?: string;
  /** Stream type (v = VOD, l = live). */
  st?: 'v' | 'l';
  /** Startup: the object is needed urgently for startup, a seek or a recovery from starvation. */
  su?: boolean;
  /** Top bitrate, kbps. */
  tb?: number;
  /** CMCD version (absent = 1). */
  v?: number;
  /** Keys CMCD v1 does not define (vendor keys), as parsed. */
  custom: Record<string, CmcdValue>;
}

export type CmcdParseResult = { ok: true; data: CmcdData } | { ok: false; error: string };

/** Upper bound on one CMCD payload; longer input is malformed (a real payload is ~200 bytes). */
export const CMCD_MAX_LENGTH = 4096;
const MAX_STRING = 1024;

export const CMCD_HEADERS = ['cmcd-request', 'cmcd-object', 'cmcd-status', 'cmcd-session'] as const;
export const CMCD_QUERY_PARAM = 'CMCD';

type KeyType = 'integer' | 'decimal' | 'boolean' | 'string' | { tokens: readonly string[] };
const KNOWN_KEYS: Record<string, KeyType> = {
  br: 'integer',
  bl: 'integer',
  bs: 'boolean',
  cid: 'string',
  d: 'integer',
  dl: 'integer',
  mtp: 'integer',
  nor: 'string',
  nrr: 'string',
  ot: { tokens: CMCD_OBJECT_TYPES },
  pr: 'decimal',
  rtp: 'integer',
  sf: { tokens: ['d', 'h', 's', 'o'] },
  sid: 'string',
  st: { tokens: ['v', 'l'] },
  su: 'boolean',
  tb: 'integer',
  v: 'integer',
};
/** String keys whose length CMCD limits to 64 characters. */
const SHORT_STRINGS = new Set(['cid', 'sid']);

const KEY_START = /[a-z*]/;
const KEY_CHAR = /[a-z0-9_\-.*]/;
const TOKEN_START = /[A-Za-z*]/;
const TOKEN_CHAR = /[!#$%&'*+\-.^_`|~:/A-Za-z0-9]/;

class Cursor {
  index = 0;
  constructor(readonly input: string) {}
  get done(): boolean {
    return this.index >= this.input.length;
  }
  peek(): string {
    return this.input[this.index] ?? '';
  }
  skipSpaces(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.index += 1;
  }
}

class CmcdSyntaxError extends Error {}

function fail(cursor: Cursor, what: string): never {
  throw new CmcdSyntaxError(`${what} at character ${cursor.index + 1}`);
}

function parseKey(cursor: Cursor): string {
  if (!KEY_START.test(cursor.peek())) fail(cursor, 'expected a key (a-z or *)');
  const start = cursor.index;
  cursor.index += 1;
  while (!cursor.done && KEY_CHAR.test(cursor.peek())) cursor.index += 1;
  return cursor.input.slice(start, cursor.index);
}

function parseNumber(cursor: Cursor): number {
  const match = /^-?(\d{1,15})(\.(\d{1,3}))?/.exec(cursor.input.slice(cursor.index, cursor.index + 20));
  if (!match) fail(cursor, 'expected a number');
  // RFC 8941: integers have at most 15 digits, decimals at most 12 integer and 3 fraction digits.
  if (match[2] !== undefined && match[1].length > 12) fail(cursor, 'decimal has more than 12 integer digits');
  cursor.index += match[0].length;
  if (/[0-9.]/.test(cursor.peek())) fail(cursor, 'number is too long or malformed');
  return Number(match[0]);
}

function parseString(cursor: Cursor): string {
  cursor.index += 1; // opening quote
  let value = '';
  for (;;) {
    if (cursor.done) fail(cursor, 'unterminated string');
    const char = cursor.peek();
    cursor.index += 1;
    if (char === '"') return value;
    if (char === '\\') {
      const escaped = cursor.peek();
      if (escaped !== '"' && escaped !== '\\') fail(cursor, 'invalid escape in string (only \\" and \\\\)');
      value += escaped;
      cursor.index += 1;
    } else {
      const code = char.charCodeAt(0);
      if (code < 0x20 || code > 0x7e) fail(cursor, 'string contains a character outside printable ASCII');
      value += char;
    }
    if (value.length > MAX_STRING) fail(cursor, `string longer than ${MAX_STRING} characters`);
  }
}

function parseValue(cursor: Cursor): CmcdValue {
  const char = cursor.peek();
  if (char === '"') return parseString(cursor);
  if (char === '?') {
    const bit = cursor.input[cursor.index + 1];
    if (bit !== '0' && bit !== '1') fail(cursor, 'expected ?0 or ?1');
    cursor.index += 2;
    return bit === '1';
  }
  if (char === '-' || (char >= '0' && char <= '9')) return parseNumber(cursor);
  if (TOKEN_START.test(char)) {
    const start = cursor.index;
    cursor.index += 1;
    while (!cursor.done && TOKEN_CHAR.test(cursor.peek())) cursor.index += 1;
    return { token: cursor.input.slice(start, cursor.index) };
  }
  if (char === '(') fail(cursor, 'inner lists (CMCD v2) are not supported');
  return fail(cursor, 'expected a value');
}

function typed(key: string, value: CmcdValue): { ok: true; value: CmcdValue } | { ok: false; error: string } {
  const type = KNOWN_KEYS[key];
  if (type === undefined) return { ok: true, value };
  const bad = (expected: string) => ({ ok: false as const, error: `CMCD key "${key}" must be ${expected}` });
  if (type === 'integer') return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? { ok: true, value } : bad('a non-negative integer');
  if (type === 'decimal') return typeof value === 'number' && value >= 0 ? { ok: true, value } : bad('a non-negative number');
  if (type === 'boolean') return typeof value === 'boolean' ? { ok: true, value } : bad('a boolean (bare key)');
  if (type === 'string') {
    if (typeof value !== 'string') return bad('a quoted string');
    if (SHORT_STRINGS.has(key) && value.length > 64) return bad('at most 64 characters');
    return { ok: true, value };
  }
  if (typeof value === 'object' && type.tokens.includes(value.token)) return { ok: true, value: value.token };
  return bad(`one of the tokens ${type.tokens.join(', ')}`);
}

/** Parses one CMCD payload (already URL-decoded), e.g. `bl=21300,br=3200,bs,cid="movie",ot=v,sid="6e2f…"`. */
export function parseCmcd(input: string): CmcdParseResult {
  if (typeof input !== 'string') return { ok: false, error: 'CMCD payload is not a string' };
  if (input.length > CMCD_MAX_LENGTH) return { ok: false, error: `CMCD payload longer than ${CMCD_MAX_LENGTH} characters` };
  const data: CmcdData = { custom: {} };
  const fields = data as unknown as Record<string, CmcdValue>;
  if (input.trim() === '') return { ok: true, data };
  const cursor = new Cursor(input);
  try {
    cursor.skipSpaces();
    for (;;) {
      const key = parseKey(cursor);
      let value: CmcdValue = true;
      if (cursor.peek() === '=') {
        cursor.index += 1;
        value = parseValue(cursor);
      }
      if (cursor.peek() === ';') fail(cursor, 'parameters are not supported');
      const checked = typed(key, value);
      if (!checked.ok) return checked;
      // RFC 8941: a repeated key overwrites the earlier value.
      if (key in KNOWN_KEYS) fields[key] = checked.value;
      else if (key !== 'custom' && !Object.prototype.hasOwnProperty.call(Object.prototype, key)) data.custom[key] = checked.value;
      cursor.skipSpaces();
      if (cursor.done) break;
      if (cursor.peek() !== ',') fail(cursor, 'expected "," between members');
      cursor.index += 1;
      cursor.skipSpaces();
      if (cursor.done) fail(cursor, 'trailing comma');
    }
  } catch (error) {
    if (error instanceof CmcdSyntaxError) return { ok: false, error: `malformed CMCD: ${error.message}` };
    throw error;
  }
  return { ok: true, data };
}

function merge(target: CmcdData, source: CmcdData): void {
  const { custom, ...known } = source;
  Object.assign(target, known);
  Object.assign(target.custom, custom);
}

export type HeaderBag = Readonly<Record<string, string | readonly string[] | undefined>>;

/**
 * Parses the CMCD of one HTTP request: the `CMCD` query value (URL-decoded, as URLSearchParams or
 * Express give it) and/or the four CMCD headers (lower-case names, as Node gives them). Returns
 * `undefined` when the request carries no CMCD at all.
 */
export function parseCmcdRequest(query: string | readonly string[] | undefined, headers: HeaderBag = {}): CmcdParseResult | undefined {
  const parts: string[] = [];
  if (query !== undefined) {
    if (typeof query !== 'string') return { ok: false, error: 'more than one CMCD query parameter' };
    parts.push(query);
  }
  for (const name of CMCD_HEADERS) {
    const value = headers[name];
    if (value === undefined) continue;
    parts.push(typeof value === 'string' ? value : value.join(','));
  }
  if (parts.length === 0) return undefined;
  const data: CmcdData = { custom: {} };
  for (const part of parts) {
    const parsed = parseCmcd(part);
    if (!parsed.ok) return parsed;
    merge(data, parsed.data);
  }
  return { ok: true, data };
}
