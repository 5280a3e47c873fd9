import type { Kafka } from 'kafkajs';
import { Headers, STREAM_CLAIM_SCHEMA_ID, type StreamClaim, streamClaimValidator } from '@tributary/contracts';
import { KafkaConsumerRunner, type KafkaLogger, type KafkaProducer } from '@tributary/kafka';
import type { ClaimEntry } from './claim-ledger';

export interface ClaimLogOptions {
  /** The physical `stream.claims` topic. */
  topic: string;
  /** This replica's own group (it reads every partition; nothing is committed). */
  groupId: string;
  /** How much of the log to re-read at start-up (a few leases). */
  historyMs: number;
  logger: KafkaLogger;
}

/** Right after a topic is created its leaders may be unknown for a moment ("not the leader…", retriable). */
async function retriable<T>(call: () => Promise<T>, attempts = 40): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= attempts || (error as { retriable?: boolean }).retriable === false) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, 100 * attempt)));
    }
  }
}

/**
 * The Kafka side of publish claims: writes claims/heartbeats/releases and feeds every message
 * of `stream.claims`, in log order per partition, to `onEntry`. At start-up it re-reads the last
 * `historyMs` of the log and is `caughtUp` once it has read to the end offsets found then.
 */
export class ClaimLog {
  private runner?: KafkaConsumerRunner;
  /** Messages are ignored until every partition has been sought to the history window. */
  private positioned = false;
  private pending = new Map<number, bigint>();
  /** Per partition, the next offset to apply: every message is applied once, in order. */
  private readonly next = new Map<number, bigint>();
  private caught = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly producer: KafkaProducer,
    private readonly options: ClaimLogOptions,
    private readonly onEntry: (entry: ClaimEntry) => void,
  ) {}

  get caughtUp(): boolean {
    return this.caught;
  }

  async start(catchUpTimeoutMs = 60_000): Promise<void> {
    const { topic, logger } = this.options;
    this.runner = new KafkaConsumerRunner(this.kafka, {
      groupId: this.options.groupId,
      topics: [topic],
      fromBeginning: false,
      autoCommit: false,
      logger,
      // eslint-disable-next-line @typescript-eslint/require-await -- kafkajs wants a promise; the work is synchronous.
      eachMessage: async ({ partition, message }) => {
        const next = this.next.get(partition);
        if (!this.positioned || (next !== undefined && BigInt(message.offset) < next)) return;
        this.next.set(partition, BigInt(message.offset) + 1n);
        this.handle(partition, message.offset, message.key, message.value, message.timestamp);
      },
    });
    const consumer = this.runner.consumer;
    // Nothing is committed: if kafkajs restarts the consumer (it rejoins and would start at the log
    // end), continue exactly after the last message applied instead of skipping what came between.
    consumer.on(consumer.events.GROUP_JOIN, () => {
      if (!this.positioned) return;
      for (const [partition, offset] of this.next) consumer.seek({ topic, partition, offset: offset.toString() });
    });
    await this.runner.start();
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const starts = await retriable(() => admin.fetchTopicOffsetsByTimestamp(topic, Date.now() - this.options.historyMs));
      const ends = await retriable(() => admin.fetchTopicOffsets(topic));
      for (const { partition, offset } of starts) {
        this.next.set(partition, BigInt(offset));
        consumer.seek({ topic, partition, offset });
        const end = ends.find((candidate) => candidate.partition === partition);
        if (end && BigInt(end.high) > BigInt(offset)) this.pending.set(partition, BigInt(end.high) - 1n);
      }
    } finally {
      await admin.disconnect();
    }
    this.positioned = true;
    if (this.pending.size === 0) this.caught = true;
    const deadline = Date.now() + catchUpTimeoutMs;
    while (!this.caught) {
      if (Date.now() > deadline) throw new Error(`publish claims (${topic}) not read to their end within ${catchUpTimeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    logger.info({ component: 'publish-claims', topic }, 'publish claims loaded');
  }

  /** Writes claim messages (key = stream id); resolves once Kafka acknowledged them. */
  async write(claims: StreamClaim[]): Promise<void> {
    if (claims.length === 0) return;
    await this.producer.send(
      this.options.topic,
      claims.map((claim) => ({
        key: claim.stream_id,
        value: JSON.stringify(claim),
        headers: { [Headers.schema]: STREAM_CLAIM_SCHEMA_ID, [Headers.contentType]: 'application/json' },
      })),
    );
  }

  async stop(): Promise<void> {
    await this.runner?.stop();
  }

  private handle(partition: number, offset: string, key: Buffer | null, value: Buffer | null, timestamp: string): void {
    let parsed: unknown;
    try {
      parsed = value ? JSON.parse(value.toString('utf8')) : undefined;
    } catch {
      parsed = undefined;
    }
    const result = streamClaimValidator.validate(parsed);
    if (!result.ok || result.value.stream_id !== key?.toString()) {
      // Every replica reads every claim; a dead-letter copy per replica would be noise.
      this.options.logger.warn({ component: 'publish-claims', partition, offset }, 'invalid publish claim ignored');
    } else {
      const claim = result.value;
      this.onEntry({
        streamId: claim.stream_id,
        sessionId: claim.publish_session_id,
        replicaId: claim.replica_id,
        kind: claim.kind,
        offset: BigInt(offset),
        ...(claim.claim_offset !== undefined ? { claimOffset: BigInt(claim.claim_offset) } : {}),
        timestampMs: Number(timestamp),
      });
    }
    const target = this.pending.get(partition);
    if (target !== undefined && BigInt(offset) >= target) {
      this.pending.delete(partition);
      if (this.pending.size === 0) this.caught = true;
    }
  }
}
