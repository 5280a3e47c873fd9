import fc from 'fast-check';
import { DEVICES, EVENT_SOURCES, PLAYBACK_EVENT_TYPES, playbackEventValidator } from './playback-event';

/** Property-based checks of the event validator: untrusted JSON from browsers never crashes it. */
describe('playbackEventValidator (property-based)', () => {
  it('never throws and always answers ok or issues, for any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const result = playbackEventValidator.validate(value);
        if (!result.ok) expect(result.issues.length).toBeGreaterThan(0);
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws for objects with the right keys and arbitrary values', () => {
    const anything = fc.oneof(fc.jsonValue(), fc.constant(undefined), fc.double(), fc.string());
    fc.assert(
      fc.property(
        fc.record({ event_id: anything, session_id: anything, stream_id: anything, event_type: anything, ts: anything, bitrate_kbps: anything }),
        (value) => {
          playbackEventValidator.validate(value);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('accepts every well-formed event', () => {
    const id = fc.string({ minLength: 1, maxLength: 128 });
    const event = fc.record(
      {
        event_id: id,
        session_id: id,
        user_id: id,
        stream_id: fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?$/),
        event_type: fc.constantFrom(...PLAYBACK_EVENT_TYPES),
        position_seconds: fc.double({ min: 0, max: 1e9, noNaN: true }),
        bitrate_kbps: fc.double({ min: 0, max: 1e6, noNaN: true }),
        device: fc.constantFrom(...DEVICES),
        ts: fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString()),
        source: fc.constantFrom(...EVENT_SOURCES),
        buffer_length_ms: fc.nat({ max: 1e9 }),
        object_type: fc.constantFrom('m', 'a', 'v', 'av', 'i', 'c', 'tt', 'k', 'o'),
      },
      { requiredKeys: ['event_id', 'session_id', 'user_id', 'stream_id', 'event_type', 'position_seconds', 'bitrate_kbps', 'device', 'ts'] },
    );
    fc.assert(
      fc.property(event, (value) => {
        expect(playbackEventValidator.validate(value)).toEqual({ ok: true, value });
      }),
      { numRuns: 1000 },
    );
  });
});
