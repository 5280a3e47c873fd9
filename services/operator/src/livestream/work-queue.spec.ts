import { WorkQueue } from './work-queue';

const tick = (ms = 0) => new Promise((resolve) => setTimeout(resolve, ms));

describe(WorkQueue.name, () => {
  it('handles a key added many times while queued once (de-duplicated)', async () => {
    const handled: string[] = [];
    let release: () => void = () => undefined;
    const queue = new WorkQueue({
      concurrency: 1,
      retryBaseMs: 10,
      retryMaxMs: 100,
      handle: async (key) => {
        handled.push(key);
        if (key === 'busy') await new Promise<void>((resolve) => (release = resolve));
      },
    });
    queue.add('busy');
    queue.add('a');
    queue.add('a');
    queue.add('b');
    queue.add('a');
    expect(queue.depth).toBe(2);
    release();
    await tick(5);
    await queue.idle();
    expect(handled).toEqual(['busy', 'a', 'b']);
  });

  it('never handles one key twice at once; an add during handling runs it again afterwards', async () => {
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    let release: () => void = () => undefined;
    const queue = new WorkQueue({
      concurrency: 4,
      retryBaseMs: 10,
      retryMaxMs: 100,
      handle: async () => {
        active += 1;
        maxActive = Math.max(maxActive, active);
        runs += 1;
        if (runs === 1) await new Promise<void>((resolve) => (release = resolve));
        active -= 1;
      },
    });
    queue.add('a');
    await tick(1);
    queue.add('a');
    queue.add('a');
    await tick(5);
    expect(runs).toBe(1);
    release();
    await tick(5);
    await queue.idle();
    expect(runs).toBe(2);
    expect(maxActive).toBe(1);
  });

  it('retries a failing key with exponential backoff and resets it on success', async () => {
    const times: number[] = [];
    const errors: [number, number][] = [];
    const queue = new WorkQueue({
      concurrency: 1,
      retryBaseMs: 20,
      retryMaxMs: 1000,
      handle: async () => {
        times.push(Date.now());
        if (times.length < 4) throw new Error('Kafka is down');
      },
      onError: (_key, _error, attempt, retryInMs) => errors.push([attempt, retryInMs]),
    });
    queue.add('a');
    for (let waited = 0; times.length < 4 && waited < 3000; waited += 10) await tick(10);
    await queue.idle();
    expect(errors).toEqual([
      [1, 20],
      [2, 40],
      [3, 80],
    ]);
    const gaps = times.slice(1).map((time, index) => time - (times[index] ?? 0));
    gaps.forEach((gap, index) => expect(gap).toBeGreaterThanOrEqual(([20, 40, 80][index] ?? 0) - 2));
    expect(queue.attempts('a')).toBe(0);
  });

  it('caps the backoff at retryMaxMs', () => {
    const queue = new WorkQueue({ concurrency: 1, retryBaseMs: 500, retryMaxMs: 60_000, handle: async () => undefined });
    expect([1, 2, 3, 8, 50].map((attempt) => queue.retryDelayMs(attempt))).toEqual([500, 1000, 2000, 60_000, 60_000]);
  });

  it('a periodic refresh does not cut a failing key\'s backoff short, an add (a watch event) does', async () => {
    let runs = 0;
    const queue = new WorkQueue({
      concurrency: 1,
      retryBaseMs: 10_000,
      retryMaxMs: 10_000,
      handle: async () => {
        runs += 1;
        throw new Error('down');
      },
    });
    queue.add('a');
    await tick(5);
    expect(runs).toBe(1);
    queue.refresh('a');
    await tick(5);
    expect(runs).toBe(1);
    queue.add('a');
    await tick(5);
    expect(runs).toBe(2);
    await queue.stop();
  });

  it('honours requeueAfterMs without counting a failure', async () => {
    let runs = 0;
    const queue = new WorkQueue({
      concurrency: 1,
      retryBaseMs: 10,
      retryMaxMs: 100,
      handle: async () => {
        runs += 1;
        return runs === 1 ? { requeueAfterMs: 20 } : undefined;
      },
    });
    queue.add('a');
    await tick(60);
    await queue.idle();
    expect(runs).toBe(2);
    expect(queue.attempts('a')).toBe(0);
  });
});
