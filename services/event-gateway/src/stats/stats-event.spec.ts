import { CMCD_OBJECT_TYPES, DEVICES, EVENT_SOURCES, PLAYBACK_EVENT_TYPES, type PlaybackEvent, PlaybackEventSchema, playbackEventReader } from '@tributary/contracts';
import fc from 'fast-check';
import { fieldReadersOf, readStatsEvent, statsEventOf } from './stats-event';

/** What the usual path (JSON.parse + the contract's tolerant reader) makes of the bytes: the aggregator's view, or undefined when invalid. */
function viaValidator(bytes: Buffer): ReturnType<typeof statsEventOf> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
  const result = playbackEventReader.validate(value);
  return result.ok ? statsEventOf(result.value) : undefined;
}

const base: PlaybackEvent = {
  event_id: '8c5d3f0e-1f7a-4b7e-9a51-6f2d0b1c9e42',
  session_id: 's-bench-1',
  user_id: 'u-1',
  stream_id: 'bench-3b32d7ce-7',
  event_type: 'position',
  position_seconds: 124,
  bitrate_kbps: 2800,
  device: 'tv',
  ts: '2026-12-02T16:03:01.123Z',
  source: 'player',
  buffer_length_ms: 12873,
  throughput_kbps: 9241.306137084961,
  playback_rate: 1,
};

/** Mostly `valid`, sometimes `invalid`: most generated events are valid, each field is sometimes not. */
const mostly = <T, U>(valid: fc.Arbitrary<T>, invalid: fc.Arbitrary<U>) => fc.oneof({ arbitrary: valid, weight: 12 }, { arbitrary: invalid, weight: 1 });
/** Printable ASCII; quotes and backslashes (escaped in JSON) are rarer than the rest. */
const ascii = (minLength: number, maxLength: number) =>
  fc.string({
    minLength,
    maxLength,
    unit: fc.oneof({ arbitrary: fc.integer({ min: 0x23, max: 0x5b }).map((code) => String.fromCharCode(code)), weight: 200 }, { arbitrary: fc.constantFrom('"', '\\', ' ', '~'), weight: 1 }),
  });
/** A number in [0, max] with a short decimal form (random doubles mostly print with an exponent). */
const plainNumber = (max: number) => fc.oneof(
    { arbitrary: fc.nat({ max }), weight: 4 },
    { arbitrary: fc.integer({ min: 0, max: max * 64 }).map((n) => n / 64), weight: 4 },
    { arbitrary: fc.double({ min: 0, max, noNaN: true }), weight: 1 },
  );

const generatedEvent = fc.record(
  {
    event_id: mostly(ascii(1, 40), fc.oneof(fc.string({ maxLength: 130 }), ascii(120, 140), fc.constant(''))),
    session_id: mostly(ascii(1, 20), fc.string({ maxLength: 4 })),
    user_id: mostly(ascii(1, 20), fc.oneof(ascii(0, 0), ascii(127, 130), fc.integer())),
    stream_id: mostly(fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?$/), fc.oneof(fc.stringMatching(/^[a-z0-9-]{0,70}$/), fc.string({ maxLength: 5 }))),
    event_type: mostly(fc.constantFrom(...PLAYBACK_EVENT_TYPES), fc.constantFrom('Play', 'plays', '', 1)),
    position_seconds: mostly(plainNumber(1e9), fc.oneof(fc.double({ min: -10, max: 2e9 }), fc.constant('1'))),
    bitrate_kbps: mostly(plainNumber(1e6), fc.oneof(fc.double({ min: -1, max: 2e6 }), fc.constant(1e6 + 1))),
    device: mostly(fc.constantFrom(...DEVICES), fc.constantFrom('watch', 'TV', null)),
    ts: mostly(
      fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString()),
      fc.oneof(
        fc.date({ min: new Date('0900-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString()),
        fc.constantFrom('2026-12-02T10:00:00Z', '2026-12-02T10:00:00.1Z', '2026-12-02T10:00:00.123456Z', '2026-12-02T10:00:00+01:00', '2026-02-29T10:00:00.000Z', '2026-12-02T10:00:60.000Z', 'now'),
      ),
    ),
    source: mostly(fc.constantFrom(...EVENT_SOURCES), fc.constantFrom('other', 'Player')),
    buffer_length_ms: mostly(fc.nat({ max: 1e9 }), fc.integer({ min: -5, max: 2e9 })),
    throughput_kbps: mostly(plainNumber(1e8), fc.double({ min: -1, max: 2e8 })),
    playback_rate: mostly(plainNumber(100), fc.double({ min: 99, max: 101 })),
    object_type: mostly(fc.constantFrom(...CMCD_OBJECT_TYPES), fc.constantFrom('x', 'AV', '')),
  },
  { requiredKeys: ['event_id', 'session_id', 'user_id', 'stream_id', 'event_type', 'position_seconds', 'bitrate_kbps', 'device', 'ts'] },
);
const rarely = <T>(value: fc.Arbitrary<T>) => fc.oneof({ arbitrary: fc.constant(null), weight: 8 }, { arbitrary: value, weight: 1 });
/** Sometimes without a required field, sometimes with one the schema does not know. */
const generatedValue = fc
  .tuple(generatedEvent, rarely(fc.constantFrom(...Object.keys(base))), rarely(fc.jsonValue()))
  .map(([event, without, extra]) => {
    const value: Record<string, unknown> = { ...event };
    if (without !== null) delete value[without];
    if (extra !== null) value.extra = extra;
    return value;
  });

describe(readStatsEvent.name, () => {
  it('reads what JSON.parse and the contract read from the form our producers write', () => {
    const bytes = Buffer.from(JSON.stringify(base));
    expect(readStatsEvent(bytes)).toEqual(viaValidator(bytes));
    expect(readStatsEvent(bytes)).toEqual({ ...statsEventOf(base), tsMs: Date.parse(base.ts) });
    const { source: _source, ...withoutSource } = base;
    expect(readStatsEvent(Buffer.from(JSON.stringify(withoutSource)))?.source).toBe('player');
  });

  it('leaves every other form to the usual path (valid or not)', () => {
    for (const text of [
      JSON.stringify(base, null, 1), // whitespace
      JSON.stringify({ ...base, session_id: 'sé' }), // non-ASCII
      JSON.stringify({ ...base, session_id: 'a"b' }), // escape
      JSON.stringify({ ...base, position_seconds: 1e-7 }), // exponent
      JSON.stringify({ ...base, ts: '2026-12-02T10:00:00+01:00' }), // not …Z
      JSON.stringify({ ...base, later_field: 1 }), // unknown field (valid for the tolerant reader)
      JSON.stringify(base).replace('"device":"tv"', '"device":"tv","device":"web"'), // a field twice
    ]) {
      expect([text, readStatsEvent(Buffer.from(text))]).toEqual([text, undefined]);
    }
  });

  it('agrees with the contract at the bounds of every field', () => {
    const variants: Partial<Record<keyof PlaybackEvent, unknown>>[] = [
      ...[1, 63, 64].flatMap((length) => [{ stream_id: 'a'.repeat(length) }, { stream_id: `a${'-'.repeat(Math.max(0, length - 2))}b`.slice(0, length) }]),
      { stream_id: '-a' },
      { stream_id: 'a-' },
      { stream_id: 'A' },
      ...[0, 1, 128, 129].flatMap((length) => [{ event_id: 'e'.repeat(length) }, { session_id: 's'.repeat(length) }, { user_id: 'u'.repeat(length) }]),
      ...[0, 1e9, 1e9 + 1, 1000000000.0000001].map((value) => ({ position_seconds: value })),
      ...[0, 1e6, 1e6 + 0.5].map((value) => ({ bitrate_kbps: value })),
      ...[1e8, 1e8 + 1].map((value) => ({ throughput_kbps: value })),
      ...[100, 100.25].map((value) => ({ playback_rate: value })),
      ...[1e9, 1e9 + 1].map((value) => ({ buffer_length_ms: value })),
      ...['2024-02-29T00:00:00Z', '2025-02-29T00:00:00Z', '1000-01-01T00:00:00.000Z', '0999-12-31T23:59:59.999Z', '2026-12-02T23:59:59.999Z'].map((ts) => ({ ts })),
    ];
    for (const variant of variants) {
      const bytes = Buffer.from(JSON.stringify({ ...base, ...variant }));
      const fast = readStatsEvent(bytes);
      if (fast !== undefined) expect([variant, fast]).toEqual([variant, viaValidator(bytes)]);
      if (viaValidator(bytes) === undefined) expect([variant, fast]).toEqual([variant, undefined]);
    }
  });

  it('never accepts what the contract rejects, and reads the same values when it answers (generated events)', () => {
    let answered = 0;
    fc.assert(
      fc.property(generatedValue, (event) => {
        const bytes = Buffer.from(JSON.stringify(event));
        const fast = readStatsEvent(bytes);
        if (fast === undefined) return;
        answered += 1;
        expect(fast).toEqual(viaValidator(bytes));
      }),
      { numRuns: 3000 },
    );
    // The generator must exercise the fast path, not only its refusals.
    expect(answered).toBeGreaterThan(50);
  });

  it('never accepts what the contract rejects, for every one-byte change of a valid event', () => {
    const text = JSON.stringify({ ...base, object_type: 'av' });
    const replacements = ['0', '1', '9', '.', '-', 'e', 'a', 'z', 'A', '"', '\\', ',', ':', '{', '}', ' ', 'é', ''];
    let answered = 0;
    for (let index = 0; index < text.length; index++) {
      for (const replacement of replacements) {
        for (const changed of [text.slice(0, index) + replacement + text.slice(index + 1), text.slice(0, index) + replacement + text.slice(index)]) {
          const bytes = Buffer.from(changed);
          const fast = readStatsEvent(bytes);
          if (fast === undefined) continue;
          answered += 1;
          expect([changed, fast]).toEqual([changed, viaValidator(bytes)]);
        }
      }
    }
    expect(answered).toBeGreaterThan(100);
  });
});

describe(fieldReadersOf.name, () => {
  const withField = (field: object) => ({ ...PlaybackEventSchema, properties: { ...PlaybackEventSchema.properties, later: field } }) as unknown as Record<string, unknown>;

  it('reads the bounds the contract sets', () => {
    const readers = fieldReadersOf(PlaybackEventSchema);
    expect(readers.map((reader) => reader.name)).toEqual(Object.keys(PlaybackEventSchema.properties));
    expect(readers.find((reader) => reader.name === 'bitrate_kbps')?.maximum).toBe(PlaybackEventSchema.properties.bitrate_kbps.maximum);
    expect(readers.find((reader) => reader.name === 'stream_id')?.pattern?.source).toBe(PlaybackEventSchema.properties.stream_id.pattern);
    expect(fieldReadersOf(withField({ type: 'string', maxLength: 5 }))).toHaveLength(readers.length + 1);
  });

  it('refuses at load a keyword the reader does not check, naming the field', () => {
    for (const field of [
      { type: 'number', minimum: 1 },
      { type: 'number', maximum: 1.5 },
      { type: 'number', exclusiveMaximum: 10 },
      { type: 'integer' },
      { type: 'string', format: 'uri' },
      { type: 'string', contentEncoding: 'base64' },
      { type: 'boolean' },
      { anyOf: [{ const: 'a', type: 'string' }, { const: 1, type: 'number' }] },
      { type: 'string', enum: ['a"b'] },
    ]) {
      expect(() => fieldReadersOf(withField(field))).toThrow(/field later/);
    }
    expect(() => fieldReadersOf({ ...PlaybackEventSchema, minProperties: 3 })).toThrow(/minProperties/);
  });
});
