/** What a backlog pipeline asks of the scheduler (BacklogScheduler, or a fake in unit tests). */
export interface BacklogGate {
  /** Waits for a turn; false when the wait was ended first (the pipeline went live or stopped). */
  turn(owner: object): Promise<boolean>;
  /** Waits until no live stream trails its bound (before each write of backlog input). */
  permit(owner: object): Promise<void>;
  /** Gives the turn back, or stops waiting for one. */
  end(owner: object): void;
}

/**
 * "Keep for replay, never compete with live": backlog sessions (publisher gone) are transcoded a
 * few at a time (a turn each, first come first served), and their input is only written to
 * ffmpeg while no live stream trails its latency bound. `poke()` re-evaluates the waits (the
 * service calls it every second and whenever the live streams' state changes).
 */
export class BacklogScheduler implements BacklogGate {
  private readonly running = new Set<object>();
  private readonly waiting: { owner: object; grant: (granted: boolean) => void }[] = [];
  private readonly permits: { owner: object; go: () => void }[] = [];

  constructor(
    private readonly concurrency: number,
    private readonly liveTrailing: () => boolean,
  ) {}

  get runningCount(): number {
    return this.running.size;
  }

  get waitingCount(): number {
    return this.waiting.length;
  }

  turn(owner: object): Promise<boolean> {
    if (this.running.has(owner)) return Promise.resolve(true);
    const granted = new Promise<boolean>((grant) => this.waiting.push({ owner, grant }));
    this.poke();
    return granted;
  }

  permit(owner: object): Promise<void> {
    if (!this.liveTrailing()) return Promise.resolve();
    return new Promise((go) => this.permits.push({ owner, go }));
  }

  end(owner: object): void {
    this.running.delete(owner);
    for (let i = this.waiting.length - 1; i >= 0; i -= 1) {
      if (this.waiting[i].owner === owner) this.waiting.splice(i, 1)[0].grant(false);
    }
    for (let i = this.permits.length - 1; i >= 0; i -= 1) {
      if (this.permits[i].owner === owner) this.permits.splice(i, 1)[0].go();
    }
    this.poke();
  }

  poke(): void {
    while (this.running.size < this.concurrency && this.waiting.length > 0) {
      const next = this.waiting.shift()!;
      this.running.add(next.owner);
      next.grant(true);
    }
    if (this.permits.length > 0 && !this.liveTrailing()) for (const permit of this.permits.splice(0)) permit.go();
  }
}
