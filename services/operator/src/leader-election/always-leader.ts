import type { Leadership, StartedLeading, StoppedLeading } from './leader-elector';
import { LeadershipTerm } from './leadership-term';

/** Leadership without a Lease (OPERATOR_LEADER_ELECTION=false): leads from start() to stop(). One replica only. */
export class AlwaysLeader implements Leadership {
  readonly identity = 'always-leader';
  private readonly term: LeadershipTerm;

  constructor(onCallbackError: (error: unknown) => void = () => undefined) {
    this.term = new LeadershipTerm(onCallbackError);
  }

  isLeader(): boolean {
    return this.term.active;
  }

  currentLeader(): string | undefined {
    return this.term.active ? this.identity : undefined;
  }

  signal(): AbortSignal {
    return this.term.signal();
  }

  onStartedLeading(callback: StartedLeading): () => void {
    return this.term.onStarted(callback);
  }

  onStoppedLeading(callback: StoppedLeading): () => void {
    return this.term.onStopped(callback);
  }

  start(): void {
    this.term.begin();
  }

  stop(): Promise<void> {
    this.term.end('stopping');
    return Promise.resolve();
  }
}
