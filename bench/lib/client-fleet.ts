import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ClientWorkerData, FromWorker, ToWorker } from './socket-clients.worker';

interface WorkerState {
  worker: Worker;
  clients: number;
  min: number;
  total: number;
  pending: Map<FromWorker['type'], (message: FromWorker) => void>;
}

/** Socket.IO clients spread over worker threads (see socket-clients.worker.ts). */
export class ClientFleet {
  private constructor(private readonly workers: WorkerState[]) {}

  static async start(url: string, clients: number, threads: number, latency: boolean): Promise<ClientFleet> {
    const count = Math.max(1, Math.min(threads, clients));
    const states: WorkerState[] = [];
    const ready: Promise<void>[] = [];
    for (let index = 0; index < count; index++) {
      const share = Math.floor(clients / count) + (index < clients % count ? 1 : 0);
      const worker = new Worker(join(__dirname, 'socket-clients.worker.js'), {
        workerData: { url, clients: share, latency } satisfies ClientWorkerData,
      });
      const state: WorkerState = { worker, clients: share, min: 0, total: 0, pending: new Map() };
      states.push(state);
      ready.push(
        new Promise<void>((resolve, reject) => {
          worker.on('error', reject);
          worker.on('message', (message: FromWorker) => {
            if (message.type === 'ready') resolve();
            else if (message.type === 'error') reject(new Error(`socket clients: ${message.message}`));
            else if (message.type === 'progress') {
              state.min = message.min;
              state.total = message.total;
            } else {
              state.pending.get(message.type)?.(message);
              state.pending.delete(message.type);
            }
          });
        }),
      );
    }
    const fleet = new ClientFleet(states);
    try {
      await Promise.all(ready);
    } catch (error) {
      await fleet.close();
      throw error;
    }
    return fleet;
  }

  /** Events received by the client that received the fewest. */
  get min(): number {
    return Math.min(...this.workers.map((state) => state.min));
  }

  /** Events received by all clients together. */
  get total(): number {
    return this.workers.reduce((sum, state) => sum + state.total, 0);
  }

  private request<T extends FromWorker['type']>(state: WorkerState, message: ToWorker, answer: T): Promise<Extract<FromWorker, { type: T }>> {
    return new Promise((resolve) => {
      state.pending.set(answer, resolve as (message: FromWorker) => void);
      state.worker.postMessage(message);
    });
  }

  /** Zeroes the counters; in latency mode, events whose `ts` is before `since` are not sampled. */
  async reset(since = Date.now()): Promise<void> {
    await Promise.all(this.workers.map((state) => this.request(state, { type: 'reset', since }, 'reset-done')));
    for (const state of this.workers) {
      state.min = 0;
      state.total = 0;
    }
  }

  async collect(): Promise<{ counts: number[]; latencies: Float64Array; unknown: number }> {
    const results = await Promise.all(this.workers.map((state) => this.request(state, { type: 'collect' }, 'result')));
    const size = results.reduce((sum, result) => sum + result.latencies.length, 0);
    const latencies = new Float64Array(size);
    let offset = 0;
    for (const result of results) {
      latencies.set(result.latencies, offset);
      offset += result.latencies.length;
    }
    return { counts: results.flatMap((result) => result.counts), latencies, unknown: results.reduce((sum, result) => sum + result.unknown, 0) };
  }

  async close(): Promise<void> {
    await Promise.all(
      this.workers.map(async (state) => {
        state.worker.postMessage({ type: 'close' } satisfies ToWorker);
        const timer = setTimeout(() => void state.worker.terminate(), 5_000);
        await new Promise<void>((done) => state.worker.once('exit', () => done()));
        clearTimeout(timer);
      }),
    );
  }
}
