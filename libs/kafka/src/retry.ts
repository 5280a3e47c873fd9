export interface RetryOptions {
  /** Total attempts, the first included. */
  attempts?: number;
  /** Delay before attempt `n + 1` after `n` failed (default: backoff from 100 ms, doubling, at most 1 s). */
  delayMs?: number | ((failedAttempt: number) => number);
  /** Whether an error is worth another attempt (default: isRetriableKafkaError). */
  retriable?: (error: unknown) => boolean;
  /** Called before each wait (for a warning log). */
  onRetry?: (error: unknown, failedAttempt: number, delayMs: number) => void;
}

/** `base`, 2×`base`, 4×`base`… for attempt 1, 2, 3…, at most `max`. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
}

/**
 * A kafkajs error that goes away by itself: flagged retriable, or a leader election / metadata
 * lag right after a topic was created ("This server is not the leader for that topic-partition",
 * which kafkajs' admin offsets calls do not retry themselves).
 */
export function isRetriableKafkaError(error: unknown): boolean {
  if ((error as { retriable?: unknown }).retriable === true) return true;
  return /leader|not available|unknown topic/i.test(String((error as Error | undefined)?.message));
}

/** The one retry loop for Kafka calls: retries retriable errors with backoff, throws the rest at once. */
export async function retryKafka<T>(call: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 30;
  const retriable = options.retriable ?? isRetriableKafkaError;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= attempts || !retriable(error)) throw error;
      const delay = typeof options.delayMs === 'function' ? options.delayMs(attempt) : (options.delayMs ?? backoffDelay(attempt, 100, 1000));
      options.onRetry?.(error, attempt, delay);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
