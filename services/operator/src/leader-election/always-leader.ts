import type { Leadership, StartedLeading, StoppedLeading } from './leader-elector';

/** Leadership without a Lease (OPERATOR_LEADER_ELECTION=false): leads from start() to stop(). One replica only. */
export class AlwaysLeader implements Leadership {
  readonly identity = 'always-leader';
  private leading: AbortController | undefined;
  private readonly started = new Set<StartedLeading>();
  private readonly stopped = new Set<StoppedLeading>();

  isLeader(): boolean {
    return this.leading !== undefined;
  }

  currentLeader(): string | undefined {
    return this.leading ? this.identity : undefined;
  }

  signal(): AbortSignal {
    return this.leading?.signal ?? AbortSignal.abort(new Error('not the leader'));
  }

  onStartedLeading(callback: StartedLeading): () => void {
    this.started.add(callback);
    return () => this.started.delete(callback);
  }

  onStoppedLeading(callback: StoppedLeading): () => void {
    this.stopped.add(callback);
    return () => this.stopped.delete(callback);
  }

  start(): void {
    if (this.leading) return;
    this.leading = new AbortController();
    for (const callback of this.started) callback(this.leading.signal);
  }

  stop(): Promise<void> {
    const leading = this.leading;
    this.leading = undefined;
    if (leading) {
      leading.abort(new Error('stopping'));
      for (const callback of this.stopped) callback('stopping');
    }
    return Promise.resolve();
  }
}
