import { ForbiddenException } from '@nestjs/common';
import { DEFAULT_LADDER, type StreamRecord } from '@tributary/contracts';
import type { StreamRegistryService } from '../streams/stream-registry.service';
import { PublishService } from './publish.service';

const record = (extra: Partial<StreamRecord> = {}): StreamRecord => ({
  id: 'town-hall',
  title: 'Town hall',
  ladder: [...DEFAULT_LADDER],
  segment_duration_seconds: 2,
  stream_key_sha256: 'a'.repeat(64),
  created_at: '2026-12-02T07:00:00.000Z',
  ...extra,
});

/** authorize() only reads the registry; the other collaborators are never touched. */
function serviceWith(found: StreamRecord | undefined): PublishService {
  const registry = { findByStreamKey: () => found } as unknown as StreamRegistryService;
  const topics = { resolve: (topic: string) => topic };
  const logger = { child: () => logger };
  return new PublishService({} as never, registry, {} as never, {} as never, {} as never, {} as never, topics as never, logger as never);
}

describe(PublishService.name, () => {
  it('authorizes a key of a stream with publishing enabled (or unset, as in records from before the field)', () => {
    expect(serviceWith(record()).authorize('key')).toBe('town-hall');
    expect(serviceWith(record({ publishing_enabled: true })).authorize('key')).toBe('town-hall');
  });

  it('refuses 403, naming the reason, when the stream has publishing disabled', () => {
    const service = serviceWith(record({ publishing_enabled: false }));
    expect(() => service.authorize('key')).toThrow(ForbiddenException);
    expect(() => service.authorize('key')).toThrow(/publishing to stream town-hall is disabled/);
  });

  it('refuses 403 for an unknown key', () => {
    expect(() => serviceWith(undefined).authorize('key')).toThrow('unknown stream key');
  });
});
