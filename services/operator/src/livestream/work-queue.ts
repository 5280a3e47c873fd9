export interface WorkQueueOptions {
  /** Keys processed at once (never two at once for one key). */
  concurrency: number;
  /** Retry delay after the n-th consecutive failure of a key: min(baseMs · 2^(n-1), maxMs). */
  retryBaseMs: number;
  retryMaxMs: number;
  /** Handles one key; a throw schedules a rate-limited retry, `{ requeueAfterMs }` a plain one. */
  handle: (key: string) => Promise<{ requeueAfterMs?: number } | void>;
  /** Told about each failure (with the retry it scheduled). */
  onError?: (key: string, error: unknown, attempt: number, retryInMs: number) => void;
}

/**
 * The controller's work queue, shaped like client-go's: a key is queued at most once however
 * often it is added (de-duplicated), is never handled by two workers at once (an add while it is
 * being handled marks it dirty and it runs again afterwards), and a failed key comes back after
 * an exponential per-key backoff that resets on success.
 */
export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly idleWaiters: (() => void)[] = [];
  private running = 0;
  private stopped = false;

  constructor(private readonly options: WorkQueueOptions) {}

  /** Keys waiting (not counting delayed retries or keys being handled). */
  get depth(): number {
    return this.queue.length;
  }

  /** Failures in a row of a key (0 after a success). */
  attempts(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  add(key: string): void {
    if (this.stopped) return;
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.queue.push(key);
    this.pump();
  }

  /**
   * A periodic refresh: adds the key unless it is failing and waits for its backoff (a refresh must
   * not turn a backoff into a fixed-rate retry; watch events still use add()).
   */
  refresh(key: string): void {
    if (this.failures.has(key) && this.timers.has(key)) return;
    this.add(key);
  }

  /** Adds the key after a delay (an earlier pending delay for it is kept when it is sooner). */
  addAfter(key: string, delayMs: number): void {
    if (this.stopped) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    if (this.timers.has(key)) return;
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref();
    this.timers.set(key, timer);
  }

  /** Drops the key's failure count (e.g. once its object is gone). */
  forget(key: string): void {
    this.failures.delete(key);
    const timer = this.timers.get(key);
    if (timer) clearTimeout(timer);
    this.timers.delete(key);
  }

  /** Stops taking work; resolves when the keys being handled are done. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.queue.length = 0;
    this.queued.clear();
    await this.idle();
  }

  /** Resolves when nothing is being handled. */
  idle(): Promise<void> {
    if (this.running === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  retryDelayMs(attempt: number): number {
    return Math.min(this.options.retryBaseMs * 2 ** Math.min(attempt - 1, 30), this.options.retryMaxMs);
  }

  private pump(): void {
    while (!this.stopped && this.running < this.options.concurrency && this.queue.length > 0) {
      const key = this.queue.shift() as string;
      this.queued.delete(key);
      this.processing.add(key);
      this.running += 1;
      void this.process(key);
    }
  }

  private async process(key: string): Promise<void> {
    try {
      const result = await this.options.handle(key);
      this.failures.delete(key);
      if (result?.requeueAfterMs !== undefined) this.addAfter(key, result.requeueAfterMs);
    } catch (error) {
      const attempt = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, attempt);
      const delay = this.retryDelayMs(attempt);
      this.options.onError?.(key, error, attempt, delay);
      // A retry replaces a pending plain requeue: it may come sooner or later, never both.
      const pending = this.timers.get(key);
      if (pending) clearTimeout(pending);
      this.timers.delete(key);
      this.addAfter(key, delay);
    } finally {
      this.processing.delete(key);
      this.running -= 1;
      if (this.dirty.delete(key)) this.add(key);
      this.pump();
      if (this.running === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }
}
