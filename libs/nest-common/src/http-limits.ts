import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { type ConfigOf, type Env, int, parseEnv } from '@tributary/config';

/**
 * Timeouts of every service's HTTP server.
 *
 * Node's own `server.requestTimeout` (300 s by default) is server-wide and ends *any* request
 * whose body has not fully arrived in time, which kills a live publish (a request body that lasts
 * for hours). So the server's `requestTimeout` is 0 and the same deadline is enforced per request
 * by {@link requestDeadline}, which streaming routes (ingest's `POST|PUT /live/:key`) skip.
 * `headersTimeout` stays server-wide, so a slowloris client (headers trickling in) is cut on every
 * route with a 408.
 */
export const httpServerEnvSpec = {
  /** All request headers must arrive within this (slowloris protection, every route). */
  headersTimeoutMs: int('HTTP_HEADERS_TIMEOUT_MS', { default: 20_000, min: 100, max: 600_000 }),
  /** A request's whole body must arrive within this, except on streaming routes (live publish). */
  requestTimeoutMs: int('HTTP_REQUEST_TIMEOUT_MS', { default: 120_000, min: 100, max: 3_600_000 }),
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: int('HTTP_KEEP_ALIVE_TIMEOUT_MS', { default: 5_000, min: 100, max: 600_000 }),
};

export type HttpServerLimits = ConfigOf<typeof httpServerEnvSpec>;

export function loadHttpServerLimits(env: Env): HttpServerLimits {
  return parseEnv(httpServerEnvSpec, env);
}

/**
 * Applies the limits to a server that is not listening yet (Node reads
 * `connectionsCheckingInterval` when the server starts listening; that interval is how often
 * header/request deadlines are checked, 30 s by default — too coarse for short timeouts).
 */
export function applyHttpServerLimits(server: Server, limits: HttpServerLimits): void {
  server.requestTimeout = 0;
  server.headersTimeout = limits.headersTimeoutMs;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  // No inactivity timeout on sockets: long responses (MJPEG) and long uploads decide for themselves.
  server.timeout = 0;
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = Math.max(
    50,
    Math.min(1_000, Math.floor(limits.headersTimeoutMs / 4)),
  );
}

/** True for requests whose body is a long-lived stream (exempt from the overall request deadline). */
export type StreamingRequestPredicate = (request: IncomingMessage) => boolean;

/**
 * Express middleware: a request whose body has not completely arrived `timeoutMs` after it
 * started is answered 408 (when still possible) and its connection closed — what Node's
 * `requestTimeout` does, but skippable per route. Responses may take as long as they like (an
 * MJPEG stream is a short request with an endless response).
 */
export function requestDeadline(
  timeoutMs: number,
  isStreaming: StreamingRequestPredicate = () => false,
): (request: IncomingMessage, response: ServerResponse, next: () => void) => void {
  return (request, response, next) => {
    if (request.complete || isStreaming(request)) {
      next();
      return;
    }
    const timer = setTimeout(() => {
      if (request.complete) return;
      if (!response.headersSent) {
        response.writeHead(408, { 'content-type': 'application/json', connection: 'close' });
        response.end(JSON.stringify({ statusCode: 408, error: 'Request Timeout', message: `the request body did not arrive within ${timeoutMs} ms` }));
      }
      // Unread body bytes would keep the socket busy: close it.
      response.once('finish', () => request.socket.destroy());
      if (response.writableFinished) request.socket.destroy();
    }, timeoutMs);
    timer.unref();
    const clear = (): void => clearTimeout(timer);
    request.once('end', clear);
    request.once('close', clear);
    response.once('close', clear);
    next();
  };
}
