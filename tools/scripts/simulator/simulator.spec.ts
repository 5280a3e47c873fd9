import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PlaybackEvent } from '@tributary/contracts';
import { lanesOf, runSimulation } from './simulator';

/** A stand-in viewer-api on loopback that records what it receives. */
async function fakeViewerApi(status: (request: number) => number): Promise<{ url: string; batches: PlaybackEvent[][]; server: Server }> {
  const batches: PlaybackEvent[][] = [];
  const server = createServer((request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const events = JSON.parse(Buffer.concat(chunks).toString()) as PlaybackEvent[];
      batches.push(events);
      const code = status(batches.length);
      response.writeHead(code, { 'content-type': 'application/json' });
      response.end(JSON.stringify(code === 202 ? { accepted: events.length } : { message: 'nope' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, batches, server };
}

describe(runSimulation.name, () => {
  it('posts batches at the requested rate and counts what was accepted', async () => {
    const api = await fakeViewerApi(() => 202);
    try {
      const summary = await runSimulation({ url: api.url, rate: 100, streams: 3, users: 20, durationSeconds: 1, seed: 1 });
      expect(summary.sent).toBe(100);
      expect(summary).toMatchObject({ accepted: 100, errors: 0, statuses: { 202: summary.requests } });
      expect(api.batches.length).toBeGreaterThanOrEqual(4);
      expect(api.batches.flat()).toHaveLength(100);
    } finally {
      api.server.close();
    }
  });

  it('counts refused and unanswered requests as errors instead of throwing', async () => {
    const api = await fakeViewerApi((n) => (n % 2 === 0 ? 503 : 202));
    try {
      const summary = await runSimulation({ url: api.url, rate: 50, streams: 1, users: 5, durationSeconds: 1, seed: 2 });
      expect(summary.errors).toBeGreaterThan(0);
      expect(summary.accepted + summary.errors).toBe(summary.sent);
      expect(summary.lastError).toMatch(/HTTP 503/);
    } finally {
      api.server.close();
    }
    const offline = await runSimulation({ url: api.url, rate: 20, streams: 1, users: 2, durationSeconds: 0.5 });
    expect(offline).toMatchObject({ accepted: 0, statuses: { network: expect.any(Number) } });
  });

  it('stops when its signal aborts', async () => {
    const api = await fakeViewerApi(() => 202);
    try {
      const stop = new AbortController();
      setTimeout(() => stop.abort(), 300);
      const summary = await runSimulation({ url: api.url, rate: 50, streams: 1, users: 5, signal: stop.signal });
      expect(summary.elapsedSeconds).toBeLessThan(2);
    } finally {
      api.server.close();
    }
  });
});

describe(lanesOf.name, () => {
  const events = (count: number, sessions: number) =>
    Array.from({ length: count }, (_, i) => ({ event_id: `e${i}`, session_id: `s${i % sessions}` }) as PlaybackEvent);

  it('posts small ticks as one request', () => {
    expect(lanesOf(events(50, 10), 4)).toHaveLength(1);
  });

  it('spreads big ticks over lanes, keeping each session in one lane and in order', () => {
    const input = events(1_000, 37);
    const lanes = lanesOf(input, 4);
    expect(lanes.length).toBeGreaterThan(1);
    expect(lanes.flat()).toHaveLength(1_000);
    for (const session of new Set(input.map((e) => e.session_id))) {
      const holding = lanes.filter((lane) => lane.some((e) => e.session_id === session));
      expect(holding).toHaveLength(1);
      expect(holding[0].filter((e) => e.session_id === session).map((e) => e.event_id)).toEqual(
        input.filter((e) => e.session_id === session).map((e) => e.event_id),
      );
    }
  });
});
