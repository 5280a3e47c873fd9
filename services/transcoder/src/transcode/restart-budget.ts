import { backoffDelay } from '@tributary/kafka';

/**
 * How often a crashed ffmpeg may be restarted and how long to wait before each restart
 * (exponential: base, 2×base, 4×base… capped).
 */
export class RestartBudget {
  private used = 0;

  constructor(
    private readonly maxRestarts: number,
    private readonly baseDelayMs = 500,
    private readonly maxDelayMs = 10_000,
  ) {}

  /** Restarts taken so far. */
  get count(): number {
    return this.used;
  }

  /** Takes one restart and returns the delay before it, or undefined when the budget is spent. */
  take(): number | undefined {
    if (this.used >= this.maxRestarts) return undefined;
    this.used += 1;
    return backoffDelay(this.used, this.baseDelayMs, this.maxDelayMs);
  }
}
