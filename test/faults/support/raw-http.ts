import { request } from 'node:http';
import { connect } from 'node:net';
import { sleep } from './fault-platform';

export interface RawAnswer {
  /** HTTP status, or the way the connection ended without one (`timeout`, `ECONNRESET`, …). */
  readonly status: number | string;
  readonly body: string;
}

/**
 * One HTTP request with the path exactly as given (no URL normalisation: `..` and odd
 * percent-encodings reach the server as a client could send them). Reads at most 64 KiB of the
 * answer; bounded in time.
 */
export function rawRequest(base: string, method: string, path: string, options: { headers?: Record<string, string>; body?: Buffer | string; timeoutMs?: number; headersOnly?: boolean } = {}): Promise<RawAnswer> {
  const url = new URL(base);
  return new Promise((resolve) => {
    let settled = false;
    const done = (answer: RawAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(answer);
    };
    let outgoing: ReturnType<typeof request>;
    try {
      outgoing = request({ host: url.hostname, port: url.port, method, path, headers: options.headers, agent: false });
    } catch (error) {
      // Node itself refuses the request (e.g. a header with a line break): nothing reached the server.
      resolve({ status: `client-refused:${(error as { code?: string }).code ?? 'error'}`, body: '' });
      return;
    }
    const timer = setTimeout(() => {
      outgoing.destroy();
      done({ status: 'timeout', body: '' });
    }, options.timeoutMs ?? 10_000);
    outgoing.on('response', (response) => {
      if (options.headersOnly) {
        response.destroy();
        done({ status: response.statusCode ?? 0, body: '' });
        return;
      }
      let body = '';
      response.on('data', (chunk: Buffer) => {
        if (body.length < 65_536) body += chunk.toString('latin1');
        else response.destroy();
      });
      response.on('end', () => done({ status: response.statusCode ?? 0, body }));
      response.on('close', () => done({ status: response.statusCode ?? 0, body }));
    });
    outgoing.on('error', (error: NodeJS.ErrnoException) => done({ status: error.code ?? error.message, body: '' }));
    if (options.body !== undefined) outgoing.write(options.body);
    outgoing.end();
  });
}

/**
 * A slow client: sends the request head, then the body a few bytes at a time (`stopAfter` bytes,
 * then silence when `complete` is false). Resolves with the status line the server answered, or
 * `closed` / `timeout`.
 */
export function trickle(base: string, path: string, body: Buffer, options: { everyMs: number; bytesPerTick: number; complete: boolean; stopAfter?: number; timeoutMs: number; contentType?: string }): Promise<RawAnswer> {
  const url = new URL(base);
  return new Promise((resolve) => {
    const socket = connect(Number(url.port), url.hostname);
    let answer = '';
    let settled = false;
    const done = (status: number | string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ status, body: answer.slice(0, 2000) });
    };
    const timer = setTimeout(() => done('timeout'), options.timeoutMs);
    socket.on('data', (data: Buffer) => {
      answer += data.toString('latin1');
      const match = /^HTTP\/1\.1 (\d{3})/.exec(answer);
      if (match && answer.includes('\r\n\r\n')) done(Number(match[1]));
    });
    socket.on('close', () => done('closed'));
    socket.on('error', (error: NodeJS.ErrnoException) => done(error.code ?? 'error'));
    socket.on('connect', () => {
      socket.write(`POST ${path} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: ${options.contentType ?? 'application/json'}\r\nContent-Length: ${body.length}\r\n\r\n`);
      void (async () => {
        const limit = options.complete ? body.length : Math.min(options.stopAfter ?? body.length / 2, body.length);
        for (let at = 0; at < limit && !settled; at += options.bytesPerTick) {
          socket.write(body.subarray(at, Math.min(at + options.bytesPerTick, limit)));
          await sleep(options.everyMs);
        }
      })();
    });
  });
}

/** A WebSocket frame from a client (masked), opcode 1 = text, 8 = close. */
export function clientFrame(payload: Buffer, opcode = 1, fin = true): Buffer {
  const mask = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  const length = payload.length;
  const head = length < 126 ? Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | length]) : Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | 126, length >> 8, length & 0xff]);
  const masked = Buffer.from(payload.map((byte, index) => byte ^ mask[index % 4]));
  return Buffer.concat([head, mask, masked]);
}

/**
 * Opens an Engine.IO WebSocket by hand (upgrade request), sends `frames` (already encoded: valid
 * or not), and reports how the server ended it within `waitMs`: `closed` (it hung up), `open`
 * (still connected, ignoring us), or the HTTP status it refused the upgrade with.
 */
export function rawWebSocket(base: string, path: string, frames: readonly Buffer[], waitMs: number): Promise<{ outcome: string; received: string }> {
  const url = new URL(base);
  return new Promise((resolve) => {
    const socket = connect(Number(url.port), url.hostname);
    let received = '';
    let upgraded = false;
    let settled = false;
    const done = (outcome: string) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve({ outcome, received: received.slice(0, 2000) });
    };
    socket.setTimeout(waitMs + 5_000, () => done('timeout'));
    socket.on('close', () => done(upgraded ? 'closed' : 'closed-before-upgrade'));
    socket.on('error', (error: NodeJS.ErrnoException) => done(error.code ?? 'error'));
    socket.on('data', (data: Buffer) => {
      received += data.toString('latin1');
      if (!upgraded) {
        const match = /^HTTP\/1\.1 (\d{3})/.exec(received);
        if (!match || !received.includes('\r\n\r\n')) return;
        if (match[1] !== '101') {
          done(match[1]);
          return;
        }
        upgraded = true;
        for (const frame of frames) socket.write(frame);
        setTimeout(() => done('open'), waitMs);
      }
    });
    socket.on('connect', () => {
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
      );
    });
  });
}
