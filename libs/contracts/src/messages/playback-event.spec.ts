import { validPlaybackEvent } from '../testing/playback-event.fixture';
import { playbackEventReader, playbackEventValidator } from './playback-event';

const valid = validPlaybackEvent();

describe('playbackEventValidator', () => {
  it('accepts a complete event', () => {
    expect(playbackEventValidator.validate(valid)).toEqual({ ok: true, value: valid });
  });

  it('accepts the optional CMCD-derived fields', () => {
    const result = playbackEventValidator.validate({ ...valid, source: 'cmcd', buffer_length_ms: 3000, throughput_kbps: 9000 });
    expect(result.ok).toBe(true);
  });

  it('names each missing and malformed field', () => {
    const { event_type: _omitted, ...rest } = valid;
    const result = playbackEventValidator.validate({ ...rest, device: 'fridge', ts: 'yesterday', position_seconds: -1 });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const fields = result.issues.map((issue) => issue.field).sort();
    expect(fields).toEqual(['/device', '/event_type', '/position_seconds', '/ts']);
    expect(result.issues.find((issue) => issue.field === '/device')?.message).toContain('web');
  });

  it('rejects unknown fields by name', () => {
    const result = playbackEventValidator.validate({ ...valid, password: 'x' });
    expect(result).toEqual({ ok: false, issues: [{ field: '/password', message: 'is not an allowed field' }] });
  });

  it('rejects a stream id that is not a DNS label', () => {
    const result = playbackEventValidator.validate({ ...valid, stream_id: '../etc' });
    expect(result.ok).toBe(false);
  });

  it.each([null, 42, 'play', [], undefined])('rejects a non-object (%p)', (value) => {
    expect(playbackEventValidator.validate(value).ok).toBe(false);
  });
});

describe('playbackEventReader', () => {
  it('accepts fields added by a newer producer, and still checks the known ones', () => {
    expect(playbackEventReader.validate({ ...valid, added_in_v1_1: 'x' }).ok).toBe(true);
    expect(playbackEventReader.validate({ ...valid, device: 'fridge', added_in_v1_1: 'x' }).ok).toBe(false);
  });
});
