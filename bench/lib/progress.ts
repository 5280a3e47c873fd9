import { sleep } from './report';

/** Runs `worker` over `items` with at most `concurrency` in flight. */
export async function pool<T>(items: readonly T[], concurrency: number, worker: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const runners = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++];
      await worker(item);
    }
  });
  await Promise.all(runners);
}

/** Resolves when `done()` is true; rejects when `progress()` did not change for `stallMs`. */
export async function waitForProgress(done: () => boolean, progress: () => number, stallMs: number, what: string): Promise<void> {
  let last = progress();
  let lastChange = Date.now();
  while (!done()) {
    await sleep(5);
    const now = progress();
    if (now !== last) {
      last = now;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > stallMs) {
      throw new Error(`${what}: no progress for ${stallMs} ms (at ${now})`);
    }
  }
}
