import { SignJWT } from 'jose';
import { mintPlaybackToken, PLAYBACK_TOKEN_AUDIENCE, PLAYBACK_TOKEN_ISSUER, verifyPlaybackToken } from './playback-token';

const KEY = 'k'.repeat(32);
const OTHER_KEY = 'o'.repeat(32);

describe('playback tokens', () => {
  it('a minted token verifies for its stream until it expires', async () => {
    const now = new Date('2026-01-01T00:00:00Z');
    const { token, expiresAt } = await mintPlaybackToken(KEY, { streamId: 'cam-1', ttlSeconds: 60 }, now);
    expect(expiresAt).toBe('2026-01-01T00:01:00.000Z');
    await expect(verifyPlaybackToken(KEY, token, 'cam-1', 'media', new Date('2026-01-01T00:00:59Z'))).resolves.toMatchObject({ ok: true });
    await expect(verifyPlaybackToken(KEY, token, 'cam-1', 'events', now)).resolves.toMatchObject({ ok: true });
    await expect(verifyPlaybackToken(KEY, token, 'cam-1', 'media', new Date('2026-01-01T00:01:01Z'))).resolves.toMatchObject({ ok: false, reason: 'expired' });
  });

  it('refuses a token for another stream, a bad signature, garbage and a missing token', async () => {
    const { token } = await mintPlaybackToken(KEY, { streamId: 'cam-1', ttlSeconds: 60 });
    await expect(verifyPlaybackToken(KEY, token, 'cam-2', 'media')).resolves.toMatchObject({ ok: false, reason: 'wrong-stream' });
    await expect(verifyPlaybackToken(OTHER_KEY, token, 'cam-1', 'media')).resolves.toMatchObject({ ok: false, reason: 'invalid' });
    const tampered = `${token.slice(0, -3)}${token.endsWith('AAA') ? 'BBB' : 'AAA'}`;
    await expect(verifyPlaybackToken(KEY, tampered, 'cam-1', 'media')).resolves.toMatchObject({ ok: false, reason: 'invalid' });
    await expect(verifyPlaybackToken(KEY, 'not-a-jwt', 'cam-1', 'media')).resolves.toMatchObject({ ok: false, reason: 'invalid' });
    await expect(verifyPlaybackToken(KEY, undefined, 'cam-1', 'media')).resolves.toMatchObject({ ok: false, reason: 'missing' });
  });

  it('refuses everything when no signing key is configured', async () => {
    const { token } = await mintPlaybackToken(KEY, { streamId: 'cam-1', ttlSeconds: 60 });
    await expect(verifyPlaybackToken(undefined, token, 'cam-1', 'media')).resolves.toMatchObject({ ok: false, reason: 'no-signing-key' });
  });

  it('honours the scope claim', async () => {
    const { token } = await mintPlaybackToken(KEY, { streamId: 'cam-1', ttlSeconds: 60, scope: ['events'] });
    await expect(verifyPlaybackToken(KEY, token, 'cam-1', 'events')).resolves.toMatchObject({ ok: true });
    await expect(verifyPlaybackToken(KEY, token, 'cam-1', 'media')).resolves.toMatchObject({ ok: false, reason: 'out-of-scope' });
  });

  it('refuses tokens signed with another algorithm or for another audience', async () => {
    const secret = new TextEncoder().encode(KEY);
    const exp = Math.floor(Date.now() / 1000) + 60;
    const hs512 = await new SignJWT({}).setProtectedHeader({ alg: 'HS512' }).setSubject('cam-1').setIssuer(PLAYBACK_TOKEN_ISSUER).setAudience(PLAYBACK_TOKEN_AUDIENCE).setExpirationTime(exp).sign(secret);
    await expect(verifyPlaybackToken(KEY, hs512, 'cam-1', 'media')).resolves.toMatchObject({ ok: false, reason: 'invalid' });
    const otherAudience = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('cam-1').setIssuer(PLAYBACK_TOKEN_ISSUER).setAudience('elsewhere').setExpirationTime(exp).sign(secret);
    await expect(verifyPlaybackToken(KEY, otherAudience, 'cam-1', 'media')).resolves.toMatchObject({ ok: false, reason: 'invalid' });
  });

  it('refuses to mint with a short key or an out-of-range ttl', async () => {
    await expect(mintPlaybackToken('short', { streamId: 'cam-1', ttlSeconds: 60 })).rejects.toThrow(/at least 32 bytes/);
    await expect(mintPlaybackToken(KEY, { streamId: 'cam-1', ttlSeconds: 1 })).rejects.toThrow(RangeError);
    await expect(mintPlaybackToken(KEY, { streamId: 'cam-1', ttlSeconds: 10 ** 9 })).rejects.toThrow(RangeError);
  });
});
