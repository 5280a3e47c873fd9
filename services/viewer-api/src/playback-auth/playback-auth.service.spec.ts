import { ForbiddenException, ServiceUnavailableException, UnauthorizedException } from '@nestjs/common';
import { mintPlaybackToken } from '@tributary/contracts';
import type { Logger } from '@tributary/telemetry';
import type { StreamCatalogService } from '../streams/stream-catalog.service';
import { PlaybackAuthService } from './playback-auth.service';

const KEY = 's'.repeat(32);

function service(signingKey: string | undefined, errors: unknown[] = []): PlaybackAuthService {
  const playback: Record<string, 'public' | 'signed'> = { 'cam-private': 'signed', 'cam-public': 'public' };
  const catalog = { get: (id: string) => (playback[id] ? { id, playback: playback[id] } : undefined) } as unknown as StreamCatalogService;
  const logger = { child: () => logger, error: (...args: unknown[]) => errors.push(args) } as unknown as Logger;
  return new PlaybackAuthService({ signingKey }, catalog, logger);
}

describe(PlaybackAuthService.name, () => {
  it('lets public and unknown streams through without a token', async () => {
    await expect(service(KEY).authorize('cam-public', undefined)).resolves.toEqual({ signed: false });
    await expect(service(undefined).authorize('cam-unknown', undefined)).resolves.toEqual({ signed: false });
  });

  it('answers 401 without a token, 403 for a wrong one, and passes a valid one on', async () => {
    const auth = service(KEY);
    await expect(auth.authorize('cam-private', undefined)).rejects.toBeInstanceOf(UnauthorizedException);
    const other = await mintPlaybackToken(KEY, { streamId: 'cam-public', ttlSeconds: 60 });
    await expect(auth.authorize('cam-private', other.token)).rejects.toBeInstanceOf(ForbiddenException);
    const events = await mintPlaybackToken(KEY, { streamId: 'cam-private', ttlSeconds: 60, scope: ['events'] });
    await expect(auth.authorize('cam-private', events.token)).rejects.toBeInstanceOf(ForbiddenException);
    const good = await mintPlaybackToken(KEY, { streamId: 'cam-private', ttlSeconds: 60 });
    await expect(auth.authorize('cam-private', good.token)).resolves.toEqual({ signed: true, token: good.token });
  });

  it('refuses a signed stream with 503 and logs once when no signing key is configured (never serves it open)', async () => {
    const errors: unknown[] = [];
    const auth = service(undefined, errors);
    const token = (await mintPlaybackToken(KEY, { streamId: 'cam-private', ttlSeconds: 60 })).token;
    await expect(auth.authorize('cam-private', token)).rejects.toBeInstanceOf(ServiceUnavailableException);
    await expect(auth.authorize('cam-private', undefined)).rejects.toBeInstanceOf(ServiceUnavailableException);
    expect(errors).toHaveLength(1);
    expect(JSON.stringify(errors[0])).toContain('PLAYBACK_SIGNING_KEY');
  });
});
