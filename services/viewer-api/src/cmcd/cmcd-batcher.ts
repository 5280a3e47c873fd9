import type { Message } from 'kafkajs';

export interface CmcdBatcherOptions {
  /** Flush period. */
  intervalMs: number;
  /** Messages waiting at most; beyond it new ones are dropped (and counted). */
  maxQueued: number;
  /** A flush sends at most this many messages. */
  maxBatch: number;
  send: (messages: Message[]) => Promise<unknown>;
  onDropped: (reason: 'queue_full' | 'produce_failed', count: number) => void;
  onSent: (count: number) => void;
}

/**
 * A bounded in-process buffer between HTTP requests and Kafka: the request path only pushes
 * (O(1), never awaits Kafka), a timer flushes every `intervalMs`, one send at a time. When Kafka
 * is slow or down the queue fills and further events are dropped and counted, so segment latency
 * and memory stay bounded; CMCD is telemetry, losing some under pressure is the right trade.
 */
export class CmcdBatcher {
  private queue: Message[] = [];
  private sending: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: CmcdBatcherOptions) {}

  start(): void {
    this.timer ??= setInterval(() => void this.flush(), this.options.intervalMs);
    this.timer.unref();
  }

  get queued(): number {
    return this.queue.length;
  }

  push(message: Message): boolean {
    if (this.queue.length >= this.options.maxQueued) {
      this.options.onDropped('queue_full', 1);
      return false;
    }
    this.queue.push(message);
    return true;
  }

  /** Sends what is queued (in batches of maxBatch); resolves when that is done. Never rejects. */
  flush(): Promise<void> {
    if (this.sending) return this.sending;
    if (this.queue.length === 0) return Promise.resolve();
    this.sending = (async () => {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.options.maxBatch);
        try {
          await this.options.send(batch);
          this.options.onSent(batch.length);
        } catch {
          this.options.onDropped('produce_failed', batch.length);
        }
      }
    })().finally(() => {
      this.sending = undefined;
    });
    return this.sending;
  }

  /** Stops the timer and sends what is left. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
    if (this.queue.length > 0) await this.flush();
  }
}
