import { segmentMeta } from './testing/segment-meta.fixture';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { SegmentWindowStore } from './hls/segment-window';
import { FrameHub } from './preview/frame-hub';
import { ReplayIndex } from './replay/replay-index';
import { ReplayIndexCache } from './replay/replay-index-cache';

/**
 * Memory of viewer-api's per-stream structures stays flat after 10,000 streams have come and
 * gone: the sizes each structure reports return to zero, and so does the heap (+ Buffer memory),
 * measured after a forced garbage collection (jest does not run node with --expose-gc; V8's flag
 * can still be set at run time and `gc` fetched from a fresh context).
 */
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function usedBytes(): number {
  gc();
  gc();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

const meta = (streamId: string, sequence: number) => segmentMeta(streamId, sequence, { timestampMs: sequence });

const STREAMS = 10_000;
const MIB = 1024 * 1024;

describe('viewer-api per-stream state with 10,000 streams', () => {
  // Not 0: lru-cache reads a start time of 0 as "no time-to-live".
  const clock = { ms: 1_000_000, now: () => clock.ms };

  it('returns to its starting memory once the streams have ended', () => {
    const windows = new SegmentWindowStore(3, 1024 * MIB, { maxStreams: 20_000, idleMs: 60_000, perf: clock });
    const frames = new FrameHub({ maxStreams: 20_000, maxBytes: 1024 * MIB, frameTtlMs: 60_000, perf: clock });
    const indexes = new ReplayIndexCache({ maxIndexes: 64, maxSegments: 200_000, idleTtlMs: 60_000, perf: clock });
    const before = usedBytes();

    for (let i = 0; i < STREAMS; i += 1) {
      const id = `stream-${i}`;
      const index = new ReplayIndex(id, 0, 0n);
      for (let sequence = 0; sequence < 3; sequence += 1) {
        windows.add(meta(id, sequence), Buffer.alloc(2048, sequence));
        index.add(meta(id, sequence));
      }
      frames.publish(id, { bytes: Buffer.alloc(4096, 1), timeMs: i });
      indexes.put(`${id}@0`, index);
    }
    const filled = usedBytes();
    expect(windows.streamCount).toBe(STREAMS);
    expect(frames.size.streams).toBe(STREAMS);
    expect(indexes.size.indexes).toBe(64);
    // 10,000 × (3 × 2 KiB + 4 KiB) of buffers: the structures really held something. (Their own
    // byte counts: the heap delta can be lowered by garbage a previous suite in this jest worker
    // left behind and the forced gc reclaims.)
    expect(windows.bytes + frames.size.bytes).toBeGreaterThan(95 * MIB);

    clock.ms += 61_000; // every stream ended a minute ago
    windows.purgeNowAndThen();
    frames.purgeNowAndThen();
    indexes.purgeStale();
    expect(windows.streamCount).toBe(0);
    expect(windows.bytes).toBe(0);
    expect(frames.size).toEqual({ streams: 0, bytes: 0 });
    expect(indexes.size).toEqual({ indexes: 0, segments: 0 });
    const after = usedBytes();
    console.log(`10,000 streams: ${((filled - before) / MIB).toFixed(1)} MiB held, ${((after - before) / MIB).toFixed(1)} MiB left after they ended`);
    expect(after - before).toBeLessThan(8 * MIB);
  });
});
