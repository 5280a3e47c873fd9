import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { applyHttpServerLimits, loadHttpServerLimits, requestDeadline } from './http-limits';

/** A real server: the middleware guards a handler that reads the whole body, then answers. */
function serve(timeoutMs: number, streaming: (url: string) => boolean): Promise<Server> {
  const guard = requestDeadline(timeoutMs, (request) => streaming(request.url ?? ''));
  const server = createServer((request, response) => {
    guard(request, response, () => {
      let bytes = 0;
      request.on('data', (data: Buffer) => (bytes += data.length));
      request.on('end', () => response.end(`read ${bytes}`));
    });
  });
  applyHttpServerLimits(server, { headersTimeoutMs: 5_000, requestTimeoutMs: timeoutMs, keepAliveTimeoutMs: 1_000 });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** Sends a chunked body one byte every 50 ms for `durationMs`; resolves with what the server answered. */
function trickle(server: Server, path: string, durationMs: number): Promise<string> {
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (data) => (answer += data.toString()));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(answer));
    socket.write(`POST ${path} HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n`);
    const started = Date.now();
    const timer = setInterval(() => {
      if (socket.destroyed) return clearInterval(timer);
      if (Date.now() - started < durationMs) {
        socket.write('1\r\nx\r\n');
      } else {
        clearInterval(timer);
        socket.end('0\r\n\r\n');
      }
    }, 50);
  });
}

describe('requestDeadline', () => {
  it('answers 408 and closes a request whose body outlasts the deadline', async () => {
    const server = await serve(300, () => false);
    try {
      expect(await trickle(server, '/slow', 1_000)).toMatch(/^HTTP\/1\.1 408 [\s\S]*did not arrive within 300 ms/);
    } finally {
      server.close();
    }
  });

  it('lets a streaming request run past the deadline', async () => {
    const server = await serve(300, (url) => url.startsWith('/live/'));
    try {
      const answer = await trickle(server, '/live/x', 1_000);
      expect(answer).toMatch(/^HTTP\/1\.1 200 /);
      expect(answer).toMatch(/read \d{2}$/);
    } finally {
      server.close();
    }
  });
});

describe('loadHttpServerLimits', () => {
  it('has defaults and names a bad variable', () => {
    expect(loadHttpServerLimits({})).toEqual({ headersTimeoutMs: 20_000, requestTimeoutMs: 120_000, keepAliveTimeoutMs: 5_000 });
    expect(() => loadHttpServerLimits({ HTTP_HEADERS_TIMEOUT_MS: 'soon' })).toThrow(/HTTP_HEADERS_TIMEOUT_MS must be an integer/);
  });
});
