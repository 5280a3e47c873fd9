import { request as httpRequest, Agent, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import { createSecureServer, type Http2SecureServer, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { AddressInfo } from 'node:net';

/** Connection-specific headers: never forwarded (HTTP/2 forbids them in responses). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'host', 'http2-settings']);

export interface Http2FrontOptions {
  port: number;
  cert: Buffer;
  key: Buffer;
  /** The service's own HTTP/1.1 port on this host. */
  targetPort: number;
}

export interface Http2Front {
  readonly server: Http2SecureServer;
  readonly port: number;
  close(): Promise<void>;
}

function forwardedHeaders(headers: IncomingHttpHeaders, remoteAddress: string | undefined): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith(':') && !HOP_BY_HOP.has(name) && value !== undefined) out[name] = value;
  }
  out.host = (headers[':authority'] as string | undefined) ?? headers.host ?? 'localhost';
  out['x-forwarded-proto'] = 'https';
  if (remoteAddress) out['x-forwarded-for'] = remoteAddress;
  return out;
}

/**
 * Optional TLS + HTTP/2 in front of viewer-api's HTTP/1.1 server (node:http2 with allowHTTP1, so
 * HTTP/1.1 clients over TLS work too). Why: LL-HLS players hold a blocking playlist request per
 * rendition plus part requests; browsers allow six HTTP/1.1 connections per host, while HTTP/2
 * multiplexes them on one. NestJS's Express adapter cannot serve HTTP/2 itself, so each request is
 * forwarded over a keep-alive connection on loopback (a blocking request waits in the service, not
 * here). In Kubernetes the ingress usually terminates TLS and HTTP/2 instead (chart README).
 */
export async function startHttp2Front(options: Http2FrontOptions): Promise<Http2Front> {
  const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
  const server = createSecureServer({ cert: options.cert, key: options.key, allowHTTP1: true }, (req: Http2ServerRequest, res: Http2ServerResponse) => {
    const request = req as unknown as Http2ServerRequest | IncomingMessage;
    const response = res as unknown as Http2ServerResponse | ServerResponse;
    const upstream = httpRequest(
      {
        host: '127.0.0.1',
        port: options.targetPort,
        method: request.method,
        path: request.url,
        headers: forwardedHeaders(request.headers, request.socket?.remoteAddress),
        agent,
      },
      (answer) => {
        const headers: OutgoingHttpHeaders = {};
        for (const [name, value] of Object.entries(answer.headers)) if (!HOP_BY_HOP.has(name) && value !== undefined) headers[name] = value;
        response.writeHead(answer.statusCode ?? 502, headers);
        answer.pipe(response as NodeJS.WritableStream);
      },
    );
    upstream.on('error', () => {
      if (!response.headersSent) response.writeHead(502, { 'content-type': 'text/plain' });
      response.end('viewer-api is not answering');
    });
    // A client that goes away ends the forwarded request too (a blocking request then stops waiting).
    response.on('close', () => upstream.destroy());
    (request as NodeJS.ReadableStream).pipe(upstream);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '0.0.0.0', () => resolve());
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.close(() => resolve());
      }),
  };
}
