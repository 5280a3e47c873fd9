import { DEFAULT_LADDER, streamRecordValidator } from '@tributary/contracts';
import { desiredRecord, durationSeconds, sameRecord, widthForHeight } from './desired-state';
import type { LiveStream } from './livestream.types';

const liveStream = (spec: LiveStream['spec']): LiveStream => ({
  apiVersion: 'streaming.tributary.io/v1alpha1',
  kind: 'LiveStream',
  metadata: { name: 'town-hall', namespace: 'media', uid: 'u' },
  spec,
});

describe('desired state', () => {
  it('derives 16:9 even widths that match the default ladder', () => {
    for (const rendition of DEFAULT_LADDER) expect(widthForHeight(rendition.height)).toBe(rendition.width);
    expect(widthForHeight(1080)).toBe(1920);
    expect(widthForHeight(240)).toBe(426);
  });

  it.each([
    ['24h', 86_400],
    ['1h30m', 5_400],
    ['90s', 90],
    ['2m', 120],
  ])('reads the duration %s as %d s', (duration, seconds) => {
    expect(durationSeconds(duration)).toBe(seconds);
  });

  it('rejects what is not an h/m/s duration', () => {
    expect(() => durationSeconds('')).toThrow();
    expect(() => durationSeconds('1d')).toThrow();
  });

  it('builds a record the registry contract accepts, with the defaults for what the spec leaves out', () => {
    const record = desiredRecord(liveStream({ title: 'Town hall' }), 'b'.repeat(64), '2026-12-02T07:00:00Z');
    expect(streamRecordValidator.validate(record).ok).toBe(true);
    expect(record).toMatchObject({ ladder: DEFAULT_LADDER, segment_duration_seconds: 2, playback: 'public', latency_mode: 'standard', publishing_enabled: true });
    expect(record).not.toHaveProperty('retention_seconds');
  });

  it('compares records by content, not key order', () => {
    const record = desiredRecord(liveStream({ title: 'x', publishing: { enabled: false } }), 'b'.repeat(64), '2026-12-02T07:00:00Z');
    const reordered = JSON.parse(JSON.stringify(Object.fromEntries(Object.entries(record).reverse()))) as typeof record;
    expect(sameRecord(record, reordered)).toBe(true);
    expect(sameRecord(record, { ...record, title: 'y' })).toBe(false);
  });
});
