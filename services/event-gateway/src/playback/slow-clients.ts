import { type FanoutSocket, queuedBytes } from './room-fanout';

export interface SlowClientLimits {
  slowHighWaterBytes: number;
  slowLowWaterBytes: number;
  slowDisconnectBytes: number;
  slowMaxMs: number;
}

export interface HeldBack {
  since: number;
  /** Events not delivered while held back. */
  dropped: number;
}

export interface SlowClientHooks<S extends FanoutSocket> {
  lagging(socket: S, queued: number): void;
  recovered(socket: S, held: HeldBack): void;
  tooSlow(socket: S, held: HeldBack, queued: number): void;
}

/**
 * Bounded per-client buffers: a client whose queued bytes reach the high water is held back (its
 * events are dropped and counted, it is told so) before anything more is queued for it, so no
 * client holds much more than the high water whatever the load, and nobody waits for it. Checked
 * at every write (cheap: the write buffer of a client that keeps up is empty); recovery and
 * disconnection are checked on a timer.
 */
export class SlowClients<S extends FanoutSocket> {
  private readonly held = new Map<string, HeldBack>();

  constructor(
    private readonly limits: SlowClientLimits,
    private readonly hooks: SlowClientHooks<S>,
  ) {}

  /** True when `events` may be written to the client now; false = held back (counted as dropped). */
  admit(socket: S, events: number, now = Date.now()): boolean {
    const held = this.held.get(socket.id);
    if (held) {
      held.dropped += events;
      return false;
    }
    const queued = queuedBytes(socket);
    if (queued < this.limits.slowHighWaterBytes) return true;
    this.held.set(socket.id, { since: now, dropped: events });
    this.hooks.lagging(socket, queued);
    return false;
  }

  isHeld(socketId: string): boolean {
    return this.held.has(socketId);
  }

  get size(): number {
    return this.held.size;
  }

  forget(socketId: string): void {
    this.held.delete(socketId);
  }

  /** Lets drained clients back in; disconnects those too far or too long behind. */
  check(find: (socketId: string) => S | undefined, now = Date.now()): void {
    for (const [socketId, held] of this.held) {
      const socket = find(socketId);
      if (!socket) {
        this.held.delete(socketId);
        continue;
      }
      const queued = queuedBytes(socket);
      if (queued <= this.limits.slowLowWaterBytes) {
        this.held.delete(socketId);
        this.hooks.recovered(socket, held);
      } else if (queued >= this.limits.slowDisconnectBytes || now - held.since > this.limits.slowMaxMs) {
        this.held.delete(socketId);
        this.hooks.tooSlow(socket, held, queued);
      }
    }
  }
}
