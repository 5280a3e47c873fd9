import { DEFAULT_LADDER, latencyModeOf, publishingEnabledOf, type StreamRecord, streamRecordValidator } from './stream-registry';

const record = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  id: 'town-hall',
  title: 'Town hall',
  ladder: DEFAULT_LADDER.map((rendition) => ({ ...rendition })),
  segment_duration_seconds: 2,
  stream_key_sha256: 'a'.repeat(64),
  created_at: '2026-12-02T07:00:00.000Z',
  ...extra,
});

describe('StreamRecordSchema', () => {
  it('still accepts a record written before latency mode, retention, publishing and managed_by existed', () => {
    const result = streamRecordValidator.validate(record());
    expect(result.ok).toBe(true);
    const value = (result as { value: StreamRecord }).value;
    expect(publishingEnabledOf(value)).toBe(true);
    expect(latencyModeOf(value)).toBe('standard');
  });

  it('accepts the optional fields a LiveStream writes', () => {
    const result = streamRecordValidator.validate(
      record({ latency_mode: 'low', retention_seconds: 86_400, publishing_enabled: false, managed_by: 'livestream/media/town-hall', playback: 'signed' }),
    );
    expect(result.ok).toBe(true);
    const value = (result as { value: StreamRecord }).value;
    expect(publishingEnabledOf(value)).toBe(false);
    expect(latencyModeOf(value)).toBe('low');
  });

  it.each([
    ['an unknown latency mode', { latency_mode: 'ultra' }],
    ['a retention under a minute', { retention_seconds: 59 }],
    ['a retention over a year', { retention_seconds: 366 * 24 * 3600 }],
    ['a fractional retention', { retention_seconds: 90.5 }],
    ['publishing_enabled as a string', { publishing_enabled: 'false' }],
    ['managed_by that is not livestream/<ns>/<name>', { managed_by: 'helm/x' }],
  ])('rejects %s', (_what, extra) => {
    expect(streamRecordValidator.validate(record(extra)).ok).toBe(false);
  });
});
