import { PassThrough } from 'node:stream';
import { FrameHub } from './frame-hub';

const jpeg = (bytes: number, fill = 1): Buffer => Buffer.alloc(bytes, fill);

describe(FrameHub.name, () => {
  // Not 0: lru-cache reads a start time of 0 as "no time-to-live".
  const clock = { ms: 1_000_000, now: () => clock.ms };
  beforeEach(() => (clock.ms = 1_000_000));

  it('keeps the latest frame per stream and sends it to a new client first', () => {
    const hub = new FrameHub({ maxStreams: 10, maxBytes: 1_000_000, frameTtlMs: 60_000, perf: clock });
    hub.publish('a', { bytes: jpeg(10, 1), timeMs: 2 });
    hub.publish('a', { bytes: jpeg(10, 2), timeMs: 1 }); // older: ignored
    expect(hub.latestFrame('a')?.bytes[0]).toBe(1);
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (chunk: Buffer) => chunks.push(chunk));
    const unsubscribe = hub.subscribe('a', out);
    hub.publish('a', { bytes: jpeg(10, 3), timeMs: 3 });
    expect(unsubscribe()).toEqual({ sent: 2, dropped: 0 });
    expect(hub.clientCount('a')).toBe(0);
  });

  it('holds at most maxStreams frames and maxBytes bytes, whatever 10,000 streams send', () => {
    const hub = new FrameHub({ maxStreams: 1_000, maxBytes: 500 * 1024, frameTtlMs: 60_000, perf: clock });
    for (let i = 0; i < 10_000; i += 1) hub.publish(`stream-${i}`, { bytes: jpeg(1024), timeMs: i });
    expect(hub.size.streams).toBeLessThanOrEqual(500);
    expect(hub.size.bytes).toBeLessThanOrEqual(500 * 1024);
    // The newest streams are the ones kept.
    expect(hub.latestFrame('stream-9999')).toBeDefined();
    expect(hub.latestFrame('stream-0')).toBeUndefined();
  });

  it('returns to empty once 10,000 streams have ended (time-to-live) or been deleted', () => {
    const hub = new FrameHub({ maxStreams: 20_000, maxBytes: 64 * 1024 * 1024, frameTtlMs: 60_000, perf: clock });
    for (let i = 0; i < 10_000; i += 1) hub.publish(`stream-${i}`, { bytes: jpeg(512), timeMs: i });
    expect(hub.size).toEqual({ streams: 10_000, bytes: 10_000 * 512 });
    for (let i = 0; i < 100; i += 1) hub.forget(`stream-${i}`);
    expect(hub.size.streams).toBe(9_900);
    clock.ms += 61_000;
    hub.purgeNowAndThen();
    expect(hub.size).toEqual({ streams: 0, bytes: 0 });
  });
});
