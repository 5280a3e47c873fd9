import { Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { ReadinessRegistry } from './readiness';

/**
 * Graceful shutdown with keep-alive clients. Node's `server.close()` waits for every open
 * connection, and a connection that carries one request after another is never idle, so a
 * service hit back to back (players posting events, HLS clients polling playlists) would not stop
 * until SIGKILL. Once shutdown starts, every response — including those of requests already in
 * flight — says `Connection: close`: the client's next request opens a new connection, which the
 * closed listener refuses, while in-flight requests still finish.
 */
@Injectable()
export class ConnectionDrainMiddleware implements NestMiddleware {
  constructor(private readonly readiness: ReadinessRegistry) {}

  use(_request: Request, response: Response, next: NextFunction): void {
    // writeHead is where every response's headers are fixed, whenever the request started.
    const writeHead = response.writeHead.bind(response);
    response.writeHead = ((...args: Parameters<Response['writeHead']>) => {
      if (this.readiness.isShuttingDown && !response.headersSent) response.setHeader('Connection', 'close');
      return writeHead(...args);
    }) as Response['writeHead'];
    next();
  }
}
