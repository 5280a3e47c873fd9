import { Headers, PLAYBACK_EVENT_SCHEMA_ID, testing } from '@tributary/contracts';
import { checkPlaybackMessage, originalValue, readPlaybackValue } from './playback-message';

const event = testing.validPlaybackEvent();

describe(checkPlaybackMessage.name, () => {
  it('accepts a valid event with or without the schema header', () => {
    expect(checkPlaybackMessage(event, { [Headers.schema]: PLAYBACK_EVENT_SCHEMA_ID })).toEqual({ ok: true, event });
    expect(checkPlaybackMessage(event, undefined)).toEqual({ ok: true, event });
  });

  it.each([
    ['a value that is not JSON', '{"broken', /not valid JSON/],
    ['no value', null, /no value/],
    ['a binary value', Buffer.from([0, 1, 2]), /binary/],
    ['an array', [event], /one message carries one event/],
    ['an invalid event', { ...event, device: 'toaster' }, /invalid playback event: \/device must be one of/],
  ])('rejects %s with a reason for the dead-letter header', (_what, value, reason) => {
    const result = checkPlaybackMessage(value, {});
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });

  it('rejects another schema version', () => {
    expect(checkPlaybackMessage(event, { [Headers.schema]: Buffer.from('playback-event/2') })).toEqual({
      ok: false,
      reason: `unsupported ${Headers.schema} "playback-event/2": expected ${PLAYBACK_EVENT_SCHEMA_ID}`,
    });
  });
});

describe(originalValue.name, () => {
  it('gives back the bytes of a string, buffer or JSON value', () => {
    expect(originalValue('{"broken')?.toString()).toBe('{"broken');
    expect(originalValue({ a: 1 })?.toString()).toBe('{"a":1}');
    expect(originalValue(null)).toBeNull();
  });
});

describe(readPlaybackValue.name, () => {
  it('keeps the JSON text of a valid value as it came from Kafka', () => {
    const json = ` ${JSON.stringify(event)}`;
    expect(readPlaybackValue(Buffer.from(json), {})).toEqual({ ok: true, event, json });
  });

  it.each([
    ['broken JSON', Buffer.from('{"broken'), /not valid JSON/],
    ['bytes that are not UTF-8', Buffer.from([0xff, 0xfe, 0x00]), /binary/],
    ['no value', null, /no value/],
    ['an array', Buffer.from(JSON.stringify([event])), /one message carries one event/],
    ['a JSON string', Buffer.from('"x"'), /not valid JSON/],
  ])('rejects %s with the same reasons as before', (_what, value, reason) => {
    const result = readPlaybackValue(value, {});
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });
});
