import type { Clock } from './leader-elector';
import { type LeaseApi, LeaseConflictError, type LeaseRecord } from './lease-api';

/** Lets pending promise callbacks run (several rounds: awaits chain). */
export async function flushPromises(rounds = 20): Promise<void> {
  for (let round = 0; round < rounds; round++) await Promise.resolve();
}

interface Timer {
  id: number;
  at: number;
  callback: () => void;
}

/** A clock whose time only moves when a test calls advance(); timers fire in order. Test support only. */
export class FakeClock implements Clock {
  private time = 1_000_000;
  private nextId = 1;
  private timers: Timer[] = [];

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const timer = { id: this.nextId++, at: this.time + Math.max(0, ms), callback };
    this.timers.push(timer);
    return timer.id;
  }

  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((timer) => timer.id !== handle);
  }

  /** Moves time forward by `ms`, firing due timers in order and letting promises settle after each. */
  async advance(ms: number): Promise<void> {
    const until = this.time + ms;
    await flushPromises();
    for (;;) {
      const next = this.timers.filter((timer) => timer.at <= until).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!next) break;
      this.timers = this.timers.filter((timer) => timer !== next);
      this.time = next.at;
      next.callback();
      await flushPromises();
    }
    this.time = until;
    await flushPromises();
  }
}

/** One in-memory Lease shared by several electors, with resourceVersion checks like the API server. Test support only. */
export class InMemoryLease {
  record: LeaseRecord | undefined;
  private version = 0;
  /** When set, every call of that replica fails (a partitioned replica), or hangs when 'hang'. */
  readonly broken = new Map<string, 'fail' | 'hang'>();
  readonly writes: { by: string; holder: string | undefined }[] = [];

  apiFor(replica: string): LeaseApi {
    const check = async (): Promise<void> => {
      const mode = this.broken.get(replica);
      if (mode === 'fail') throw new Error(`${replica}: connection refused`);
      if (mode === 'hang') await new Promise(() => undefined);
    };
    return {
      description: 'test/lease',
      get: async () => {
        await check();
        return this.record ? { ...this.record } : undefined;
      },
      create: async (record) => {
        await check();
        if (this.record) throw new LeaseConflictError('exists');
        return this.write(replica, record);
      },
      update: async (record) => {
        await check();
        if (!this.record || record.resourceVersion !== this.record.resourceVersion) throw new LeaseConflictError('stale');
        return this.write(replica, record);
      },
    };
  }

  private write(replica: string, record: LeaseRecord): LeaseRecord {
    this.version += 1;
    this.record = { ...record, resourceVersion: String(this.version) };
    this.writes.push({ by: replica, holder: record.holderIdentity });
    return { ...this.record };
  }
}
