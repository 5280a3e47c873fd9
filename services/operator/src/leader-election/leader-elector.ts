import type { Logger } from '@tributary/telemetry';
import { type LeaseApi, LeaseConflictError, type LeaseRecord } from './lease-api';
import { LeadershipTerm } from './leadership-term';

/** Time and timers, injected so the timing rules are unit-tested with a fake clock. */
export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface LeaderElectorOptions {
  /** This replica's name in the Lease (the pod name in a cluster). */
  identity: string;
  /** How long the others wait, from when they last saw the Lease change, before taking it over. Written as whole seconds. */
  leaseDurationMs: number;
  /** A leader that has not renewed for this long (counted from when its last successful renewal was *sent*) stops acting. Must be below leaseDurationMs. */
  renewDeadlineMs: number;
  /** Time between attempts (renewals by the leader, acquisitions by the others). Must be below renewDeadlineMs. */
  retryPeriodMs: number;
  api: LeaseApi;
  logger: Logger;
  clock?: Clock;
  /** Random factor in [0, 1) that spreads the candidates' retries (client-go's jitter 1.2); tests pass `() => 0`. */
  random?: () => number;
}

export type StartedLeading = (signal: AbortSignal) => void;
export type StoppedLeading = (reason: string) => void;
export type NewLeader = (identity: string | undefined) => void;

/** What the controller and the lag autoscaler see of leader election. */
export interface Leadership {
  readonly identity: string;
  isLeader(): boolean;
  currentLeader(): string | undefined;
  signal(): AbortSignal;
  onStartedLeading(callback: StartedLeading): () => void;
  onStoppedLeading(callback: StoppedLeading): () => void;
  start(): void;
  stop(): Promise<void>;
}

const JITTER_FACTOR = 1.2;

/**
 * Leader election on a coordination.k8s.io/v1 Lease, with client-go's rules:
 * - a candidate takes the Lease when it is absent, released (no holder), or when its record has not
 *   changed for `leaseDurationSeconds` *by this replica's clock* (the time it observed the change, not
 *   the holder's renewTime, so clock skew between nodes does not matter);
 * - every write carries the resourceVersion it read, so two candidates never both win (409);
 * - the leader renews every retryPeriod and gives up once renewDeadline has passed since its last
 *   successful renewal was sent. renewDeadline < leaseDuration, so it has stopped acting before any
 *   other replica may take over; a renewal that reveals another holder ends leadership at once.
 *
 * The work it gates checks `isLeader()` before acting, or runs under the AbortSignal given to
 * onStartedLeading (aborted the moment leadership ends).
 */
export class LeaderElector implements Leadership {
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly logger: Logger;
  private readonly term: LeadershipTerm;
  private readonly newLeader = new Set<NewLeader>();

  private lastRenewSentAt = 0;
  private deadlineTimer: unknown;
  private retryTimer: unknown;
  private running = false;
  private inFlight: Promise<void> | undefined;
  private observed: LeaseRecord | undefined;
  private observedAt = 0;
  private observedHolder: string | undefined;

  constructor(private readonly options: LeaderElectorOptions) {
    if (!(options.retryPeriodMs < options.renewDeadlineMs && options.renewDeadlineMs < options.leaseDurationMs)) {
      throw new Error(
        `leader election needs retryPeriod < renewDeadline < leaseDuration (got ${options.retryPeriodMs} ms, ${options.renewDeadlineMs} ms, ${options.leaseDurationMs} ms)`,
      );
    }
    if (Math.ceil(options.leaseDurationMs / 1000) * 1000 !== options.leaseDurationMs) {
      throw new Error(`the lease duration is written in whole seconds (got ${options.leaseDurationMs} ms)`);
    }
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.logger = options.logger.child({ component: 'leader-election', lease: options.api.description, identity: options.identity });
    this.term = new LeadershipTerm((error) => this.reportCallbackError(error));
  }

  get identity(): string {
    return this.options.identity;
  }

  /** True while this replica holds the Lease and its last renewal is within the renew deadline. */
  isLeader(): boolean {
    return this.term.active;
  }

  /** The holder last seen in the Lease (this replica's identity while it leads). */
  currentLeader(): string | undefined {
    return this.observedHolder;
  }

  /** Aborted when the current leadership ends; already aborted while not leading. */
  signal(): AbortSignal {
    return this.term.signal();
  }

  /** Called when this replica becomes the leader, with a signal aborted when it stops. Returns an unsubscribe function. */
  onStartedLeading(callback: StartedLeading): () => void {
    return this.term.onStarted(callback);
  }

  /** Called when leadership ends (renew deadline passed, another holder seen, or stop()). */
  onStoppedLeading(callback: StoppedLeading): () => void {
    return this.term.onStopped(callback);
  }

  /** Called when the observed holder changes (undefined = released). */
  onNewLeader(callback: NewLeader): () => void {
    this.newLeader.add(callback);
    return () => this.newLeader.delete(callback);
  }

  /** Starts trying to acquire (first attempt now). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  /**
   * Stops: a leader stops acting first (onStoppedLeading), then releases the Lease so another
   * replica takes over at once instead of after leaseDuration.
   */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.clock.clearTimeout(this.retryTimer);
    const wasLeading = this.isLeader();
    if (wasLeading) this.stopLeading('stopping');
    // An attempt in flight ends (or times out, after renewDeadline) before the release, which
    // must not race our own renewal.
    if (this.inFlight) await this.withTimeout(this.inFlight).catch(() => undefined);
    if (wasLeading && this.observed?.holderIdentity === this.options.identity) {
      try {
        const now = new Date(this.clock.now());
        await this.options.api.update({ ...this.observed, holderIdentity: undefined, leaseDurationSeconds: 1, renewTime: now, acquireTime: now });
        this.logger.info({}, 'released the lease');
      } catch (error) {
        this.logger.warn({ error: (error as Error).message }, 'could not release the lease; another replica takes over once it expires');
      }
    }
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    this.retryTimer = this.clock.setTimeout(() => {
      this.inFlight = this.attempt().finally(() => {
        this.inFlight = undefined;
      });
    }, delayMs);
  }

  private async attempt(): Promise<void> {
    const sentAt = this.clock.now();
    let outcome: 'held' | 'other' | 'failed';
    try {
      outcome = (await this.withTimeout(this.tryAcquireOrRenew())) ? 'held' : 'other';
    } catch (error) {
      outcome = 'failed';
      const level = error instanceof LeaseConflictError ? 'debug' : 'warn';
      this.logger[level]({ error: (error as Error).message, leading: this.isLeader() }, 'lease attempt failed');
    }
    if (!this.running) return;
    const now = this.clock.now();
    if (outcome === 'held') {
      if (now - sentAt >= this.options.renewDeadlineMs) {
        // The answer came too late to count: the others may already treat us as gone.
        if (this.isLeader()) this.stopLeading('renewal answered after the renew deadline');
      } else if (this.isLeader()) {
        this.renewed(sentAt);
      } else {
        this.becomeLeader(sentAt);
      }
    } else if (outcome === 'other' && this.isLeader()) {
      this.stopLeading(`the lease is held by ${this.observedHolder ?? 'nobody'}`);
    }
    // A failed renewal is retried until the deadline timer ends leadership.
    const delay = this.isLeader() ? this.options.retryPeriodMs : this.options.retryPeriodMs * (1 + JITTER_FACTOR * this.random());
    this.schedule(delay);
  }

  /** An attempt that hangs counts as failed once the renew deadline has passed. */
  private withTimeout<T>(work: Promise<T>): Promise<T> {
    let timer: unknown;
    const timeout = new Promise<never>((_, reject) => {
      timer = this.clock.setTimeout(() => reject(new Error(`no answer within ${this.options.renewDeadlineMs} ms`)), this.options.renewDeadlineMs);
    });
    return Promise.race([work, timeout]).finally(() => this.clock.clearTimeout(timer));
  }

  /** True when this replica holds the Lease after the call. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const { identity } = this.options;
    const leaseDurationSeconds = this.options.leaseDurationMs / 1000;
    const current = await this.options.api.get();
    if (!current) {
      const now = new Date(this.clock.now());
      this.observe(await this.options.api.create({ holderIdentity: identity, leaseDurationSeconds, acquireTime: now, renewTime: now, leaseTransitions: 0 }));
      return true;
    }
    this.observe(current);
    const holder = current.holderIdentity || undefined;
    if (holder !== undefined && holder !== identity) {
      const expiresAt = this.observedAt + current.leaseDurationSeconds * 1000;
      if (this.clock.now() < expiresAt) return false;
      this.logger.info({ previousHolder: holder }, 'the lease expired; taking it over');
    }
    const now = new Date(this.clock.now());
    const ours = holder === identity;
    this.observe(
      await this.options.api.update({
        holderIdentity: identity,
        leaseDurationSeconds,
        acquireTime: ours ? (current.acquireTime ?? now) : now,
        renewTime: now,
        leaseTransitions: ours ? current.leaseTransitions : current.leaseTransitions + 1,
        resourceVersion: current.resourceVersion,
      }),
    );
    return true;
  }

  /** Records what was read or written; the local observation time restarts when the record changed. */
  private observe(record: LeaseRecord): void {
    if (this.observed?.resourceVersion !== record.resourceVersion || this.observed === undefined) {
      this.observed = record;
      this.observedAt = this.clock.now();
    }
    const holder = record.holderIdentity || undefined;
    if (holder !== this.observedHolder) {
      this.observedHolder = holder;
      this.logger.info({ leader: holder ?? null }, 'new leader observed');
      for (const callback of this.newLeader) this.safely(() => callback(holder));
    }
  }

  private becomeLeader(sentAt: number): void {
    this.logger.info({}, 'started leading');
    this.renewed(sentAt);
    this.term.begin();
  }

  private renewed(sentAt: number): void {
    this.lastRenewSentAt = sentAt;
    this.clock.clearTimeout(this.deadlineTimer);
    const remaining = Math.max(0, sentAt + this.options.renewDeadlineMs - this.clock.now());
    this.deadlineTimer = this.clock.setTimeout(() => {
      if (this.isLeader()) this.stopLeading(`no successful renewal for ${this.options.renewDeadlineMs} ms`);
    }, remaining);
  }

  private stopLeading(reason: string): void {
    if (!this.term.active) return;
    this.clock.clearTimeout(this.deadlineTimer);
    // Stopping on purpose is routine; anything else means this replica lost the Lease.
    this.logger[reason === 'stopping' ? 'info' : 'warn']({ reason, lastRenewalSentAgoMs: this.clock.now() - this.lastRenewSentAt }, 'stopped leading');
    this.term.end(reason, `leadership lost: ${reason}`);
  }

  private safely(callback: () => void): void {
    try {
      callback();
    } catch (error) {
      this.reportCallbackError(error);
    }
  }

  private reportCallbackError(error: unknown): void {
    this.logger.error({ error: (error as Error).message }, 'a leader-election callback threw');
  }
}
