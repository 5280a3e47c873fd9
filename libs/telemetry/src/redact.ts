/**
 * Secrets never reach logs or spans. Stream keys travel in ingest's URL path (`/live/<key>`,
 * `/live/<key>/frames`), admin tokens in `Authorization`, playback tokens in `?token=`. Where a
 * route template is known (after routing) it replaces the path; before that (span start, unmatched
 * routes) these helpers cut the secret parts out.
 */

export const REDACTED = '[REDACTED]';

/** Query parameters whose value is a credential. */
export const SECRET_QUERY_PARAMS = ['token', 'access_token', 'key', 'stream_key', 'sig', 'signature', 'Signature', 'X-Goog-Signature', 'AWSAccessKeyId'] as const;

const SECRET_PARAMS = new Set<string>(SECRET_QUERY_PARAMS.map((name) => name.toLowerCase()));

/**
 * The path with the segment after `/live/` replaced (it is a stream key on ingest; on viewer-api
 * a stream id, which loses nothing that the route template does not give back). No query string.
 */
export function redactPath(url: string | undefined): string {
  const path = (url ?? '').split(/[?#]/, 1)[0] ?? '';
  return path.replace(/^\/live\/[^/]+/, `/live/${REDACTED}`);
}

/** A query string (without `?`) with secret parameters' values replaced. */
export function redactQuery(query: string): string {
  if (query === '') return '';
  return query
    .split('&')
    .map((pair) => {
      const [name = ''] = pair.split('=', 1);
      return SECRET_PARAMS.has(decodeURIComponentSafe(name).toLowerCase()) ? `${name}=${REDACTED}` : pair;
    })
    .join('&');
}

/** `redactPath` plus a redacted query string: what may be logged of a request URL. */
export function redactUrl(url: string | undefined): string {
  const raw = url ?? '';
  const queryStart = raw.indexOf('?');
  const query = queryStart >= 0 ? redactQuery(raw.slice(queryStart + 1).split('#', 1)[0] ?? '') : '';
  return query ? `${redactPath(raw)}?${query}` : redactPath(raw);
}

/** The matched Express route template (`/live/:streamKey`) of a request, if routing got that far. */
export function routeTemplateOf(request: unknown): string | undefined {
  const route = (request as { route?: { path?: unknown } } | undefined)?.route;
  return typeof route?.path === 'string' ? route.path : undefined;
}

function decodeURIComponentSafe(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** pino `redact` paths: credentials wherever a log call might put them. */
export const LOG_REDACT_PATHS = [
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  'request.headers.authorization',
  'headers.cookie',
  'req.headers.cookie',
  'streamKey',
  'stream_key',
  'token',
  'adminToken',
  '*.streamKey',
  '*.token',
  '*.adminToken',
];
