import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect, constants } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type Http2Front, startHttp2Front } from './http2-front';

const run = promisify(execFile);

describe(startHttp2Front.name, () => {
  let dir: string;
  let target: Server;
  let front: Http2Front;
  let targetPort: number;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'viewer-h2-'));
    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')]);
    // A stand-in for viewer-api's HTTP/1.1 server: holds each request 300 ms (a blocking reload).
    target = createServer((request, response) => {
      setTimeout(() => {
        response.setHeader('Connection', 'keep-alive');
        response.setHeader('Cache-Control', 'public, max-age=6');
        response.end(JSON.stringify({ url: request.url, proto: request.headers['x-forwarded-proto'], host: request.headers.host }));
      }, 300);
    });
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    targetPort = (target.address() as AddressInfo).port;
    front = await startHttp2Front({ port: 0, cert: await readFile(join(dir, 'cert.pem')), key: await readFile(join(dir, 'key.pem')), targetPort });
  }, 30_000);

  afterAll(async () => {
    await front?.close();
    await new Promise((resolve) => target?.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('multiplexes many waiting requests on one HTTP/2 connection and forwards them, without hop-by-hop headers', async () => {
    const session = connect(`https://localhost:${front.port}`, { rejectUnauthorized: false });
    try {
      const started = Date.now();
      const answers = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
            const stream = session.request({ [constants.HTTP2_HEADER_PATH]: `/live/cam/${i}/index.m3u8?_HLS_msn=${i}` });
            let body = '';
            let headers: Record<string, unknown> = {};
            stream.on('response', (h) => (headers = h));
            stream.on('data', (chunk: Buffer) => (body += chunk.toString()));
            stream.on('end', () => resolve({ status: Number(headers[':status']), headers, body }));
            stream.on('error', reject);
          }),
        ),
      );
      expect(session.alpnProtocol).toBe('h2');
      // Twelve 300 ms requests at once, not six then six (HTTP/1.1's per-host limit in browsers).
      expect(Date.now() - started).toBeLessThan(3_000);
      answers.forEach((answer, i) => {
        expect(answer.status).toBe(200);
        expect(JSON.parse(answer.body)).toEqual({ url: `/live/cam/${i}/index.m3u8?_HLS_msn=${i}`, proto: 'https', host: `localhost:${front.port}` });
        expect(answer.headers['cache-control']).toBe('public, max-age=6');
        expect(answer.headers.connection).toBeUndefined();
      });
    } finally {
      session.close();
    }
  });

  it('serves HTTP/1.1 clients over TLS too', async () => {
    const body = await new Promise<string>((resolve, reject) => {
      const request = httpsRequest({ host: 'localhost', port: front.port, path: '/v1/streams', rejectUnauthorized: false }, (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () => resolve(text));
      });
      request.on('error', reject);
      request.end();
    });
    expect(JSON.parse(body)).toMatchObject({ url: '/v1/streams', proto: 'https' });
  });
});
