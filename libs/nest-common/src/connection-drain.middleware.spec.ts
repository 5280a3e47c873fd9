import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Request, Response } from 'express';
import { ConnectionDrainMiddleware } from './connection-drain.middleware';
import { ReadinessRegistry } from './readiness';

/** A real HTTP server whose handler runs the middleware, so headers are real headers. */
function serve(middleware: ConnectionDrainMiddleware, beforeResponse: () => void = () => undefined): Promise<Server> {
  const server = createServer((request, response) => {
    middleware.use(request as Request, response as unknown as Response, () => {
      beforeResponse();
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end('ok');
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function get(server: Server): Promise<IncomingHttpHeaders> {
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const request = httpRequest({ port, host: '127.0.0.1', path: '/', agent: false, headers: { connection: 'keep-alive' } }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.headers));
    });
    request.on('error', reject);
    request.end();
  });
}

describe(ConnectionDrainMiddleware.name, () => {
  it('keeps connections alive while serving normally', async () => {
    const server = await serve(new ConnectionDrainMiddleware(new ReadinessRegistry()));
    try {
      expect((await get(server)).connection).toBe('keep-alive');
    } finally {
      server.close();
    }
  });

  it('closes the connection of a request that was already in flight when shutdown began', async () => {
    const readiness = new ReadinessRegistry();
    const server = await serve(new ConnectionDrainMiddleware(readiness), () => readiness.markShuttingDown());
    try {
      expect((await get(server)).connection).toBe('close');
    } finally {
      server.close();
    }
  });
});
