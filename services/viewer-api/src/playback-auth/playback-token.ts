import type { Request, Response } from 'express';

/** Where the guard leaves an accepted playback token for the playlist writers. */
export const PLAYBACK_TOKEN_LOCAL = 'playbackToken';

/** `?token=` (what players and playlist URIs carry) or `Authorization: Bearer`. */
export function playbackTokenOf(request: Request): string | undefined {
  const query = request.query['token'];
  if (typeof query === 'string' && query !== '') return query;
  const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
  return match?.[1];
}

/** The token accepted for this response (signed streams only). */
export function acceptedPlaybackToken(response: Response): string | undefined {
  const token = (response.locals as Record<string, unknown> | undefined)?.[PLAYBACK_TOKEN_LOCAL];
  return typeof token === 'string' ? token : undefined;
}

const withQuery = (uri: string, token: string): string => {
  if (/^[a-z][a-z0-9+.-]*:/i.test(uri)) return uri; // absolute URIs lead elsewhere: never hand them the token
  const hash = uri.indexOf('#');
  const [path, fragment] = hash >= 0 ? [uri.slice(0, hash), uri.slice(hash)] : [uri, ''];
  return `${path}${path.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}${fragment}`;
};

/**
 * Appends `token=` to every URI of a playlist: URI lines and the `URI="…"` attributes (EXT-X-MAP,
 * EXT-X-MEDIA, EXT-X-PART, EXT-X-PRELOAD-HINT, EXT-X-RENDITION-REPORT…), so a player that loaded
 * the playlist with a token fetches everything else with it, unchanged (hls.js needs no setup).
 */
export function propagateToken(playlist: string, token: string): string {
  return playlist
    .split('\n')
    .map((line) => {
      const trimmed = line.trim();
      if (trimmed === '') return line;
      if (!trimmed.startsWith('#')) return withQuery(trimmed, token);
      return line.replace(/URI="([^"]*)"/g, (_match, uri: string) => `URI="${withQuery(uri, token)}"`);
    })
    .join('\n');
}
