import { type BeforeApplicationShutdown, Injectable } from '@nestjs/common';
import type { Response } from 'express';

/**
 * Graceful shutdown for a route that clients hit back to back on keep-alive connections. Node's
 * `server.close()` waits for every open connection, and a connection that carries one request
 * after another is never idle, so shutdown would hang until SIGKILL. Once shutdown starts, every
 * response on this route says `Connection: close`: the client's next request opens a new
 * connection, which the closed listener refuses, and in-flight requests still finish (their
 * events are acknowledged by Kafka before the producer disconnects).
 */
@Injectable()
export class EventsDrain implements BeforeApplicationShutdown {
  private draining = false;

  get isDraining(): boolean {
    return this.draining;
  }

  beforeApplicationShutdown(): void {
    this.draining = true;
  }

  /** Marks the response's connection for closing while shutting down. */
  closeConnectionIfDraining(response: Response): void {
    if (this.draining && !response.headersSent) response.setHeader('Connection', 'close');
  }
}
