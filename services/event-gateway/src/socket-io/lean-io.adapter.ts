import { IoAdapter } from '@nestjs/platform-socket.io';
import type { IncomingMessage } from 'node:http';
import type { Observable } from 'rxjs';


/**
 * Nest's Socket.IO adapter with less state per connection (RSS per idle connection is an
 * issue-11 target; a heap snapshot of 500 idle clients showed where it goes):
 * - Message handlers are plain listeners. Nest's IoAdapter builds an RxJS pipeline per handler
 *   per socket (`fromEvent` → `mergeMap` → `takeUntil(disconnect$)`: ~70 closures, contexts and
 *   subscribers per connection, alive for its whole life). Here each handler is one listener;
 *   a handler's result is still turned into an observable (Nest's `transform`), only per message.
 * - The handshake's `IncomingMessage` is not kept: Engine.IO holds it for the socket's life
 *   (Socket.IO's performance notes suggest dropping it); a small copy keeps what Socket.IO's
 *   handshake reads (headers, url, query), so `socket.handshake` is unchanged for every namespace.
 * The Engine.IO options stay Socket.IO's defaults (perMessageDeflate off, httpCompression for
 * polling only).
 */
export class LeanIoAdapter extends IoAdapter {
  override createIOServer(...args: Parameters<IoAdapter['createIOServer']>): ReturnType<IoAdapter['createIOServer']> {
    const server = super.createIOServer(...args) as { engine: { on(event: 'connection', listener: (raw: { request: unknown }) => void): void } };
    server.engine.on('connection', (raw: { request: unknown }) => {
      raw.request = slimRequest(raw.request as IncomingMessage & { _query?: unknown });
    });
    return server;
  }

  override bindMessageHandlers(...[socket, handlers, transform]: Parameters<IoAdapter['bindMessageHandlers']>): void {
    for (const { message, callback, isAckHandledManually } of handlers) {
      socket.on(String(message), (...payload: unknown[]) => {
        const { data, ack } = this.mapPayload(payload) as { data: unknown; ack?: unknown };
        (transform as (result: unknown) => Observable<unknown>)(callback(data, ack)).subscribe((response) => {
          if (response === null || response === undefined) return;
          const reply = response as { event?: string; data?: unknown };
          if (reply.event) {
            socket.emit(reply.event, reply.data);
            return;
          }
          if (!isAckHandledManually && typeof ack === 'function') (ack as (value: unknown) => void)(response);
        });
      });
    }
  }
}

/** What Socket.IO's `buildHandshake` reads from the request (headers, url, query, TLS), without the request. */
function slimRequest(request: (IncomingMessage & { _query?: unknown }) | null | undefined): unknown {
  if (!request) return request;
  return {
    headers: request.headers,
    url: request.url,
    _query: request._query,
    connection: { encrypted: Boolean((request.socket as { encrypted?: boolean } | undefined)?.encrypted) },
  };
}
