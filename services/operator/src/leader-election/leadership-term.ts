import type { StartedLeading, StoppedLeading } from './leader-elector';

/**
 * The part of leadership every implementation shares: whether a term is running, its AbortSignal,
 * and the started/stopped subscribers. LeaderElector (a Lease) and AlwaysLeader (no Lease) decide
 * when a term begins and ends; this class does the rest. A throwing subscriber is reported, never
 * allowed to stop the others from hearing.
 */
export class LeadershipTerm {
  private current: AbortController | undefined;
  private readonly started = new Set<StartedLeading>();
  private readonly stopped = new Set<StoppedLeading>();

  constructor(private readonly onCallbackError: (error: unknown) => void) {}

  get active(): boolean {
    return this.current !== undefined;
  }

  /** Aborted when the current term ends; already aborted between terms. */
  signal(): AbortSignal {
    return this.current?.signal ?? AbortSignal.abort(new Error('not the leader'));
  }

  onStarted(callback: StartedLeading): () => void {
    this.started.add(callback);
    return () => this.started.delete(callback);
  }

  onStopped(callback: StoppedLeading): () => void {
    this.stopped.add(callback);
    return () => this.stopped.delete(callback);
  }

  /** Starts a term (no-op while one runs) and tells the subscribers. */
  begin(): void {
    if (this.current) return;
    const term = new AbortController();
    this.current = term;
    for (const callback of this.started) this.safely(() => callback(term.signal));
  }

  /** Ends the running term: its signal is aborted first, then the subscribers hear why. False when none ran. */
  end(reason: string, abortMessage = reason): boolean {
    const term = this.current;
    if (!term) return false;
    this.current = undefined;
    term.abort(new Error(abortMessage));
    for (const callback of this.stopped) this.safely(() => callback(reason));
    return true;
  }

  private safely(callback: () => void): void {
    try {
      callback();
    } catch (error) {
      this.onCallbackError(error);
    }
  }
}
