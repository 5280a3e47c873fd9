import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { metricsText } from '@tributary/telemetry';

/**
 * `GET /metrics` on a port of its own (METRICS_PORT), so a NetworkPolicy can open it to Prometheus
 * only while the main port stays for users. Nothing else is served there (404).
 */
export class MetricsServer {
  private server?: Server;

  constructor(
    private readonly port: number,
    private readonly host?: string,
  ) {}

  async start(): Promise<number> {
    const server = createServer((request, response) => {
      const path = (request.url ?? '/').split('?')[0];
      if (path !== '/metrics' || (request.method !== 'GET' && request.method !== 'HEAD')) {
        response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('only GET /metrics is served on this port\n');
        return;
      }
      metricsText().then(
        ({ contentType, body }) => {
          response.writeHead(200, { 'Content-Type': contentType, 'Cache-Control': 'no-store' });
          response.end(request.method === 'HEAD' ? undefined : body);
        },
        (error: unknown) => {
          response.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`metrics failed: ${String(error)}\n`);
        },
      );
    });
    server.keepAliveTimeout = 65_000; // longer than Prometheus' scrape interval: connections are reused
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, this.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return (server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
