import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import type { ClientKind, ClientsArgs, FromChild, ToChild } from './clients.child';

interface ChildState {
  child: ChildProcess;
  clients: number;
  min: number;
  total: number;
  pending: Map<FromChild['type'], (message: FromChild) => void>;
}

export interface FleetOptions {
  /** `light` (default): bare-ws frame counters; `socket.io`: the real socket.io-client. */
  kind?: ClientKind;
  /** The Socket.IO handshake `auth` (e.g. `{ streamId }` or `{ format: 'single' }`). */
  auth?: Record<string, unknown>;
}

/**
 * A benchmark's playback clients, spread over child processes (clients.child.ts) so the
 * harness's decoding does not share the bench's event loop; `pids` lets a bench account their
 * CPU separately. One fleet for both kinds of client: they differ only in how a child connects
 * and reads a packet.
 */
export class ClientFleet {
  private constructor(private readonly children: ChildState[]) {}

  static async start(url: string, clients: number, processes: number, latency: boolean, options: FleetOptions = {}): Promise<ClientFleet> {
    const count = Math.max(1, Math.min(processes, clients));
    const states: ChildState[] = [];
    const ready: Promise<void>[] = [];
    for (let index = 0; index < count; index++) {
      const share = Math.floor(clients / count) + (index < clients % count ? 1 : 0);
      const args: ClientsArgs = { kind: options.kind ?? 'light', url, clients: share, latency, auth: options.auth ?? {} };
      const child = fork(join(__dirname, 'clients.child.js'), [JSON.stringify(args)], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      const state: ChildState = { child, clients: share, min: 0, total: 0, pending: new Map() };
      states.push(state);
      ready.push(
        new Promise<void>((resolve, reject) => {
          child.on('error', reject);
          child.on('exit', (code) => reject(new Error(`${args.kind} clients exited with ${code}`)));
          child.on('message', (message: FromChild) => {
            if (message.type === 'ready') resolve();
            else if (message.type === 'error') reject(new Error(`${args.kind} clients: ${message.message}`));
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

  get pids(): number[] {
    return this.children.map((state) => state.child.pid!).filter(Boolean);
  }

  /** Adds this fleet's processes to a CpuWatch name → pid map as `clients-<n>` (not part of `bench`); returns the map. */
  addPidsTo(watched: Map<string, number>): Map<string, number> {
    this.pids.forEach((pid, index) => watched.set(`clients-${index}`, pid));
    return watched;
  }

  /** Events received by the client that received the fewest. */
  get min(): number {
    return Math.min(...this.children.map((state) => state.min));
  }

  /** Events received by all clients together. */
  get total(): number {
    return this.children.reduce((sum, state) => sum + state.total, 0);
  }

  private request<T extends FromChild['type']>(state: ChildState, message: ToChild, answer: T): Promise<Extract<FromChild, { type: T }>> {
    return new Promise((resolve) => {
      state.pending.set(answer, resolve as (message: FromChild) => void);
      state.child.send(message);
    });
  }

  /** Zeroes the counters; in latency mode, events whose `ts` is before `since` are not sampled; `ids` records client 0's event ids. */
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
 * Checks the light counter against the real socket.io-client: one client of each kind connected
 * to the gateway, the events `post()` sends must reach both, the same ids in the same order, with
 * every timestamp read. Throws when they differ.
 */
export async function verifyLightClients(url: string, post: () => Promise<string[]>, auth: Record<string, unknown> = {}): Promise<string> {
  const [light, reference] = await Promise.all([
    ClientFleet.start(url, 1, 1, true, { kind: 'light', auth }),
    ClientFleet.start(url, 1, 1, true, { kind: 'socket.io', auth }),
  ]);
  try {
    await Promise.all([light.reset(Date.now(), true), reference.reset(Date.now(), true)]);
    const expected = await post();
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && (light.min < expected.length || reference.min < expected.length)) {
      await new Promise((wait) => setTimeout(wait, 20));
    }
    const [mine, theirs] = await Promise.all([light.collect(), reference.collect()]);
    const wanted = new Set(expected);
    const lightIds = mine.ids.filter((id) => wanted.has(id));
    const realIds = theirs.ids.filter((id) => wanted.has(id));
    if (lightIds.join() !== realIds.join() || lightIds.length !== expected.length) {
      throw new Error(`light client disagrees with socket.io-client: ${lightIds.length} vs ${realIds.length} of ${expected.length} events (or another order)`);
    }
    if (mine.unknown > 0 || mine.latencies.length < expected.length) throw new Error(`light client read ${mine.latencies.length} timestamps of ${expected.length} (${mine.unknown} unreadable)`);
    return `light client = socket.io-client on ${expected.length} events (same ids, same order)`;
  } finally {
    await Promise.all([light.close(), reference.close()]);
  }
}
