import { errors, jwtVerify, SignJWT } from 'jose';

/**
 * Playback tokens for private (`playback: "signed"`) streams: a JWT signed with HS256 and the
 * shared `PLAYBACK_SIGNING_KEY`. Ingest's admin API mints them; viewer-api (playlists, segments,
 * MJPEG, thumbnails) and event-gateway (the stream's Socket.IO events) verify them. Claims:
 * `sub` = stream id, `exp`, `iat`, `iss`/`aud` fixed below, optional `scope`.
 */
export const PLAYBACK_TOKEN_ISSUER = 'tributary';
export const PLAYBACK_TOKEN_AUDIENCE = 'tributary-playback';
/** The signing key must carry at least this many bytes (HS256 wants ≥ 256 bits). */
export const PLAYBACK_SIGNING_KEY_MIN_BYTES = 32;
export const PLAYBACK_TOKEN_MIN_TTL_SECONDS = 10;
export const PLAYBACK_TOKEN_MAX_TTL_SECONDS = 7 * 24 * 3600;
export const PLAYBACK_TOKEN_DEFAULT_TTL_SECONDS = 3600;

/** What a token lets its holder do; absent = everything for that stream. */
export const PLAYBACK_TOKEN_SCOPES = ['media', 'events'] as const;
export type PlaybackTokenScope = (typeof PLAYBACK_TOKEN_SCOPES)[number];

export interface PlaybackTokenRequest {
  streamId: string;
  ttlSeconds: number;
  scope?: readonly PlaybackTokenScope[];
}

export interface MintedPlaybackToken {
  token: string;
  /** ISO 8601 */
  expiresAt: string;
}

export type PlaybackTokenRefusal = 'missing' | 'no-signing-key' | 'expired' | 'wrong-stream' | 'out-of-scope' | 'invalid';
export type PlaybackTokenCheck = { ok: true; expiresAt: Date } | { ok: false; reason: PlaybackTokenRefusal; message: string };

const encodeKey = (key: string): Uint8Array => new TextEncoder().encode(key);

export async function mintPlaybackToken(signingKey: string, request: PlaybackTokenRequest, now: Date = new Date()): Promise<MintedPlaybackToken> {
  if (Buffer.byteLength(signingKey, 'utf8') < PLAYBACK_SIGNING_KEY_MIN_BYTES) {
    throw new Error(`the playback signing key must be at least ${PLAYBACK_SIGNING_KEY_MIN_BYTES} bytes`);
  }
  const ttl = Math.trunc(request.ttlSeconds);
  if (!(ttl >= PLAYBACK_TOKEN_MIN_TTL_SECONDS && ttl <= PLAYBACK_TOKEN_MAX_TTL_SECONDS)) {
    throw new RangeError(`ttlSeconds must be between ${PLAYBACK_TOKEN_MIN_TTL_SECONDS} and ${PLAYBACK_TOKEN_MAX_TTL_SECONDS}`);
  }
  const issuedAt = Math.floor(now.getTime() / 1000);
  const expires = issuedAt + ttl;
  const claims = request.scope && request.scope.length > 0 ? { scope: [...request.scope] } : {};
  const token = await new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(request.streamId)
    .setIssuer(PLAYBACK_TOKEN_ISSUER)
    .setAudience(PLAYBACK_TOKEN_AUDIENCE)
    .setIssuedAt(issuedAt)
    .setExpirationTime(expires)
    .sign(encodeKey(signingKey));
  return { token, expiresAt: new Date(expires * 1000).toISOString() };
}

/**
 * Checks a token for one stream and one use. Never throws: the refusal reason says which HTTP
 * status fits (`missing` → 401, `no-signing-key` → 503, the rest → 403).
 */
export async function verifyPlaybackToken(
  signingKey: string | undefined,
  token: string | undefined,
  streamId: string,
  scope: PlaybackTokenScope,
  now: Date = new Date(),
): Promise<PlaybackTokenCheck> {
  if (!signingKey) return { ok: false, reason: 'no-signing-key', message: 'playback signing is not configured (PLAYBACK_SIGNING_KEY)' };
  if (!token) return { ok: false, reason: 'missing', message: `stream ${streamId} requires a playback token` };
  try {
    const { payload } = await jwtVerify(token, encodeKey(signingKey), {
      algorithms: ['HS256'],
      issuer: PLAYBACK_TOKEN_ISSUER,
      audience: PLAYBACK_TOKEN_AUDIENCE,
      requiredClaims: ['sub', 'exp'],
      currentDate: now,
    });
    if (payload.sub !== streamId) return { ok: false, reason: 'wrong-stream', message: `the playback token is not for stream ${streamId}` };
    const scopes = payload['scope'];
    if (scopes !== undefined && !(Array.isArray(scopes) && scopes.includes(scope))) {
      return { ok: false, reason: 'out-of-scope', message: `the playback token does not allow ${scope}` };
    }
    return { ok: true, expiresAt: new Date((payload.exp ?? 0) * 1000) };
  } catch (error) {
    if (error instanceof errors.JWTExpired) return { ok: false, reason: 'expired', message: 'the playback token has expired' };
    return { ok: false, reason: 'invalid', message: 'the playback token is not valid' };
  }
}
