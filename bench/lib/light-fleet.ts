import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { PLAYBACK_SOCKET_NAMESPACE, type PlaybackEventMessage } from '@tributary/contracts';
import { io } from 'socket.io-client';
import type { FromChild, LightClientsArgs, ToChild } from './light-clients.child';

interface ChildState {
  child: ChildProcess;
  clients: number;
  min: number;
  total: number;
  pending: Map<FromChild['type'], (message: FromChild) => void>;
}

/**
 * The benchmark's playback clients: minimal Engine.IO/Socket.IO frame counters over `ws`
 * (light-clients.child.ts) in child processes of their own, so the harness's decoding neither
 * shares the bench's event loop nor costs what socket.io-client does. Same interface as
 * ClientFleet. `pids` lets the bench account their CPU separately.
 */
export class LightFleet {
  private constructor(private readonly children: ChildState[]) {}

  static async start(url: string, clients: number, processes: number, latency: boolean, auth: Record<string, unknown> = {}): Promise<LightFleet> {
    const count = Math.max(1, Math.min(processes, clients));
    const states: ChildState[] = [];
    const ready: Promise<void>[] = [];
    for (let index = 0; index < count; index++) {
      const share = Math.floor(clients / count) + (index < clients % count ? 1 : 0);
      const args: LightClientsArgs = { url, clients: share, latency, auth };
      const child = fork(join(__dirname, 'light-clients.child.js'), [JSON.stringify(args)], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      const state: ChildState = { child, clients: share, min: 0, total: 0, pending: new Map() };
      states.push(state);
      ready.push(
        new Promise<void>((resolve, reject) => {
          child.on('error', reject);
          child.on('exit', (code) => reject(new Error(`light clients exited with ${code}`)));
          child.on('message', (message: FromChild) => {
            if (message.type === 'ready') resolve();
            else if (message.type === 'error') reject(new Error(`light clients: ${message.message}`));
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
    const fleet = new LightFleet(states);
    try {
      await Promise.all(ready);
    } catch (error) {
      await fleet.close();
      throw error;
    }
    return fleet;
  }

  get pids(): number[] {
    return this.children.map((state) => state.child.pid!).filter(Boolean);
  }

  get min(): number {
    return Math.min(...this.children.map((state) => state.min));
  }

  get total(): number {
    return this.children.reduce((sum, state) => sum + state.total, 0);
  }

  private request<T extends FromChild['type']>(state: ChildState, message: ToChild, answer: T): Promise<Extract<FromChild, { type: T }>> {
    return new Promise((resolve) => {
      state.pending.set(answer, resolve as (message: FromChild) => void);
      state.child.send(message);
    });
  }

  async reset(since = Date.now(), ids = false): Promise<void> {
    await Promise.all(this.children.map((state) => this.request(state, { type: 'reset', since, ids }, 'reset-done')));
    for (const state of this.children) {
      state.min = 0;
      state.total = 0;
    }
  }

  async collect(): Promise<{ counts: number[]; latencies: Float64Array; unknown: number; ids: string[] }> {
    const results = await Promise.all(this.children.map((state) => this.request(state, { type: 'collect' }, 'result')));
    const size = results.reduce((sum, result) => sum + result.latencies.length, 0);
    const latencies = new Float64Array(size);
    let offset = 0;
    for (const result of results) {
      latencies.set(result.latencies, offset);
      offset += result.latencies.length;
    }
    return {
      counts: results.flatMap((result) => result.counts),
      latencies,
      unknown: results.reduce((sum, result) => sum + result.unknown, 0),
      ids: results[0]?.ids ?? [],
    };
  }

  async close(): Promise<void> {
    await Promise.all(
      this.children.map(async (state) => {
        if (state.child.exitCode !== null) return;
        // The start-up listener would turn this exit into a rejection nobody awaits.
        state.child.removeAllListeners('exit');
        const exited = new Promise<void>((done) => state.child.once('exit', () => done()));
        try {
          state.child.send({ type: 'close' } satisfies ToChild);
        } catch {
          state.child.kill();
        }
        const timer = setTimeout(() => state.child.kill(), 5_000);
        await exited;
        clearTimeout(timer);
      }),
    );
  }
}

/**
 * Checks the light counter against the real socket.io-client: both connected to the gateway, the
 * events `post()` sends must reach both, the same ids in the same order. Throws when they differ.
 */
export async function verifyLightClients(url: string, post: () => Promise<string[]>, auth: Record<string, unknown> = {}): Promise<string> {
  const fleet = await LightFleet.start(url, 1, 1, true, auth);
  const reference = io(`${url}${PLAYBACK_SOCKET_NAMESPACE}`, { transports: ['websocket'], reconnection: false, forceNew: true, auth });
  const seen: string[] = [];
  reference.on('playback.events', (batch: PlaybackEventMessage[]) => seen.push(...batch.map((message) => message.event.event_id)));
  try {
    await new Promise<void>((resolve, reject) => {
      reference.once('subscriptions', () => resolve());
      reference.once('connect_error', reject);
    });
    await fleet.reset(Date.now(), true);
    const expected = await post();
    const deadline = Date.now() + 30_000;
    const wanted = new Set(expected);
    while (Date.now() < deadline && (fleet.min < expected.length || seen.filter((id) => wanted.has(id)).length < expected.length)) {
      await new Promise((wait) => setTimeout(wait, 20));
    }
    const { ids, unknown, latencies } = await fleet.collect();
    const light = ids.filter((id) => wanted.has(id));
    const real = seen.filter((id) => wanted.has(id));
    if (light.join() !== real.join() || light.length !== expected.length) {
      throw new Error(`light client disagrees with socket.io-client: ${light.length} vs ${real.length} of ${expected.length} events (or another order)`);
    }
    if (unknown > 0 || latencies.length < expected.length) throw new Error(`light client read ${latencies.length} timestamps of ${expected.length} (${unknown} unreadable)`);
    return `light client = socket.io-client on ${expected.length} events (same ids, same order)`;
  } finally {
    reference.close();
    await fleet.close();
  }
}
