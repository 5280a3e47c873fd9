import type { Message } from 'kafkajs';

interface Waiting {
  messages: Message[];
  bytes: number;
  settle: (error?: Error) => void;
}

export interface ProduceBatcherOptions {
  /** How long the first queued messages wait for others before a send (kafkajs has no linger). */
  lingerMs: number;
  /** Bytes of one send at most (each partition's share must stay under max.message.bytes). */
  maxSendBytes: number;
  /** Sends in flight at most (the idempotent producer keeps each partition's order for up to 5). */
  maxInFlight: number;
}

/**
 * One produce for many concurrent requests: messages queued within `lingerMs`, or while the
 * previous send is in flight, go out together in ONE `send` (kafkajs groups it per partition into
 * one record batch per partition, one request per broker), instead of one send per request. Each
 * caller's promise settles when the send carrying its messages does, so a request still answers
 * 202 only after acks=all for all its events. At most `maxInFlight` sends at a time, issued in
 * queue order (the idempotent producer keeps each partition's order across them, as the Java
 * producer does with max.in.flight ≤ 5); whatever queues while they are all in flight is the next
 * batch — batches grow with the load, and at low load a request waits at most `lingerMs`.
 */
export class ProduceBatcher {
  private queue: Waiting[] = [];
  private queuedBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private inFlight = 0;

  constructor(
    private readonly sendAll: (messages: Message[]) => Promise<unknown>,
    private readonly options: ProduceBatcherOptions,
  ) {}

  /** Resolves when Kafka acknowledged these messages; rejects with the send's error. */
  send(messages: Message[], bytes: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ messages, bytes, settle: (error) => (error === undefined ? resolve() : reject(error)) });
      this.queuedBytes += bytes;
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.inFlight >= this.options.maxInFlight || this.queue.length === 0) return;
    if (this.queuedBytes >= this.options.maxSendBytes || this.options.lingerMs === 0) {
      this.flush();
      return;
    }
    this.timer ??= setTimeout(() => this.flush(), this.options.lingerMs);
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.inFlight >= this.options.maxInFlight || this.queue.length === 0) return;
    // Whole callers' chunks, in order, up to maxSendBytes (at least one).
    const taken: Waiting[] = [];
    let bytes = 0;
    while (this.queue.length > 0 && (taken.length === 0 || bytes + this.queue[0].bytes <= this.options.maxSendBytes)) {
      const next = this.queue.shift()!;
      taken.push(next);
      bytes += next.bytes;
    }
    this.queuedBytes -= bytes;
    const messages = taken.length === 1 ? taken[0].messages : taken.flatMap((waiting) => waiting.messages);
    this.inFlight += 1;
    this.sendAll(messages).then(
      () => this.settle(taken),
      (error: unknown) => this.settle(taken, error instanceof Error ? error : new Error(String(error))),
    );
  }

  private settle(taken: Waiting[], error?: Error): void {
    this.inFlight -= 1;
    for (const waiting of taken) waiting.settle(error);
    // What queued while every send was in flight goes at once: it has waited a round trip already.
    if (this.queue.length > 0) this.flush();
  }
}
