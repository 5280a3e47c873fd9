import {
  ConflictException,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  ServiceUnavailableException,
} from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import { ConsumerGroups, type StreamClaim, type StreamClaimKind, Topics } from '@tributary/contracts';
import { consumerGroupId, KafkaProducer, memberId } from '@tributary/kafka';
import { ReadinessRegistry, ROOT_LOGGER } from '@tributary/nest-common';
import { KAFKA_CLIENT, TopicNames } from '@tributary/nest-kafka';
import type { Logger } from '@tributary/telemetry';
import { INGEST_CONFIG, type IngestConfig } from '../config';
import { StreamRegistryService } from '../streams/stream-registry.service';
import { type ClaimDecision, type ClaimEntry, ClaimLedger } from './claim-ledger';
import { ClaimLog } from './claim-log';

/** A publish this replica holds cluster-wide. */
interface LocalHold {
  readonly streamId: string;
  readonly sessionId: string;
  readonly claimOffset: bigint;
  /** Cuts the publisher's connection (lost claim, stream deleted, lease not renewable). */
  readonly disconnect: (reason: string) => void;
  /** Local clock of the last heartbeat Kafka acknowledged (or of the claim). */
  renewedAt: number;
}

interface PendingClaim {
  readonly disconnect: (reason: string) => void;
  readonly settle: (decision: ClaimDecision) => void;
}

/** What `acquire()` hands back: release it when the publish ends. */
export interface PublishClaim {
  readonly streamId: string;
  readonly sessionId: string;
  release(): Promise<void>;
}

/**
 * One publisher per stream across every ingest replica, decided through Kafka itself
 * (`stream.claims`, see ClaimLedger for the rules). A publish request writes a claim and waits
 * until it reads the claim back and the ledger says it won, before it reads a byte of the body;
 * the winner renews its lease with heartbeats. This replica cuts a publisher it holds when the
 * ledger says another session took the stream, when the stream is deleted from the registry
 * (whichever replica received the DELETE), or when it could not renew the lease for a whole lease.
 */
@Injectable()
export class PublishClaimsService implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly replicaId: string;
  private readonly ledger: ClaimLedger;
  private readonly log: ClaimLog;
  private readonly logger: Logger;
  private readonly pending = new Map<string, PendingClaim>();
  private readonly holds = new Map<string, LocalHold>();
  private timer?: NodeJS.Timeout;
  private ticking = false;

  constructor(
    @Inject(INGEST_CONFIG) private readonly config: IngestConfig,
    @Inject(KAFKA_CLIENT) kafka: Kafka,
    producer: KafkaProducer,
    topics: TopicNames,
    private readonly registry: StreamRegistryService,
    readiness: ReadinessRegistry,
    @Inject(ROOT_LOGGER) rootLogger: Logger,
  ) {
    if (config.claimHeartbeatMs * 2 > config.claimLeaseMs) {
      throw new Error(`CLAIM_HEARTBEAT_MS (${config.claimHeartbeatMs}) must be at most half of CLAIM_LEASE_MS (${config.claimLeaseMs})`);
    }
    this.logger = rootLogger.child({ component: 'publish-claims' });
    this.replicaId = memberId();
    this.ledger = new ClaimLedger(config.claimLeaseMs);
    this.log = new ClaimLog(
      kafka,
      producer,
      {
        topic: topics.resolve(Topics.streamClaims),
        groupId: consumerGroupId(ConsumerGroups.ingestClaims, topics.prefix, this.replicaId),
        historyMs: 3 * config.claimLeaseMs,
        logger: this.logger,
      },
      (entry) => this.onEntry(entry),
    );
    readiness.register('publish-claims', () => this.log.caughtUp);
  }

  async onApplicationBootstrap(): Promise<void> {
    // The re-read window is three leases; its first lease (+ a heartbeat) is warm-up: live
    // holders show themselves by heartbeats there, and only later claims are judged.
    const historyMs = 3 * this.config.claimLeaseMs;
    this.ledger.judgeClaimsFrom(Date.now() - historyMs + this.config.claimLeaseMs + this.config.claimHeartbeatMs);
    await this.log.start();
    this.timer = setInterval(() => void this.tick(), this.config.claimHeartbeatMs);
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    for (const hold of [...this.holds.values()]) {
      this.holds.delete(hold.streamId);
      hold.disconnect('ingest is shutting down');
      await this.write('release', hold.streamId, hold.sessionId, hold.claimOffset).catch(() => undefined);
    }
    await this.log.stop();
  }

  /** Whether any replica holds a publish of the stream (by the latest claim message read). */
  isHeld(streamId: string): boolean {
    // By this replica's clock (leases are decided on log time; this only answers "is it live").
    return this.ledger.holder(streamId, Date.now()) !== undefined;
  }

  /**
   * Claims the stream for this publish session; resolves once the claim won. 409 when another
   * session holds the stream, 503 when the claim could not be written or read back in time.
   */
  async acquire(streamId: string, sessionId: string, disconnect: (reason: string) => void): Promise<PublishClaim> {
    if (!this.log.caughtUp) throw new ServiceUnavailableException('publish claims are still loading; retry shortly');
    const decided = new Promise<ClaimDecision>((settle) => this.pending.set(sessionId, { disconnect, settle }));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.config.claimWaitMs);
    });
    try {
      // The wait bounds the write too: a broker that is slow to acknowledge is a 503, not a hang.
      const decision = await Promise.race([this.write('claim', streamId, sessionId).then(() => decided), timedOut]);
      if (decision === 'timeout') {
        // Our claim may still win later: release it so it cannot hold the stream for a lease.
        await this.write('release', streamId, sessionId).catch(() => undefined);
        throw new ServiceUnavailableException(`the publish claim for stream ${streamId} was not confirmed within ${this.config.claimWaitMs} ms; retry shortly`);
      }
      if (decision.kind === 'lost') {
        throw new ConflictException(
          `stream ${streamId} already has a live publisher (session ${decision.holder.sessionId} on ingest replica ${decision.holder.replicaId})`,
        );
      }
      // A first heartbeat at once: a replica starting now learns the holder without waiting a beat.
      const hold = this.holds.get(streamId);
      if (hold?.sessionId === sessionId) {
        await this.write('heartbeat', streamId, sessionId, hold.claimOffset).catch((error: unknown) =>
          this.logger.warn({ err: error, streamId }, 'could not write the first heartbeat; the next one retries'),
        );
      }
      return { streamId, sessionId, release: () => this.release(streamId, sessionId) };
    } catch (error) {
      if (error instanceof ConflictException || error instanceof ServiceUnavailableException) throw error;
      this.logger.error({ err: error, streamId }, 'could not write a publish claim to Kafka');
      throw new ServiceUnavailableException('could not write the publish claim to Kafka; retry shortly');
    } finally {
      clearTimeout(timer);
      this.pending.delete(sessionId);
    }
  }

  private async release(streamId: string, sessionId: string): Promise<void> {
    const hold = this.holds.get(streamId);
    if (hold?.sessionId !== sessionId) return;
    this.holds.delete(streamId);
    await this.write('release', streamId, sessionId, hold.claimOffset).catch((error: unknown) =>
      this.logger.warn({ err: error, streamId }, 'could not release a publish claim; it frees itself when its lease runs out'),
    );
  }

  private onEntry(entry: ClaimEntry): void {
    const decision = this.ledger.apply(entry);
    const pending = entry.kind === 'claim' ? this.pending.get(entry.sessionId) : undefined;
    if (pending) {
      if (decision.kind === 'won') {
        // Registered here, in log order, so a later message that takes the stream over finds it.
        this.holds.set(entry.streamId, {
          streamId: entry.streamId,
          sessionId: entry.sessionId,
          claimOffset: decision.claimOffset,
          disconnect: pending.disconnect,
          renewedAt: Date.now(),
        });
      }
      pending.settle(decision);
      return;
    }
    const hold = this.holds.get(entry.streamId);
    if (!hold) return;
    const holder = this.ledger.holder(entry.streamId, entry.timestampMs);
    if (holder?.sessionId === hold.sessionId) return;
    this.holds.delete(entry.streamId);
    const reason = holder
      ? `another publish of stream ${entry.streamId} holds it now (session ${holder.sessionId} on ingest replica ${holder.replicaId})`
      : `the publish claim on stream ${entry.streamId} was lost`;
    this.logger.warn({ streamId: entry.streamId, publishSessionId: hold.sessionId, reason }, 'publish claim lost; disconnecting the publisher');
    hold.disconnect(reason);
  }

  /** Every heartbeat interval: drop deleted streams, give up unrenewable leases, renew the rest. */
  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      this.ledger.sweep();
      const now = Date.now();
      const renew: LocalHold[] = [];
      for (const hold of [...this.holds.values()]) {
        if (this.registry.ready && !this.registry.get(hold.streamId)) {
          this.holds.delete(hold.streamId);
          hold.disconnect('stream deleted');
          await this.write('release', hold.streamId, hold.sessionId, hold.claimOffset).catch(() => undefined);
        } else if (now - hold.renewedAt > this.config.claimLeaseMs) {
          this.holds.delete(hold.streamId);
          hold.disconnect(`could not renew the publish claim for ${now - hold.renewedAt} ms (Kafka unreachable?); another replica may take the stream`);
          // Best effort, once Kafka is back: frees the stream at once (ignored if another session took it).
          void this.write('release', hold.streamId, hold.sessionId, hold.claimOffset).catch(() => undefined);
        } else {
          renew.push(hold);
        }
      }
      if (renew.length === 0) return;
      const sentAt = Date.now();
      await this.log
        .write(renew.map((hold) => this.message('heartbeat', hold.streamId, hold.sessionId, hold.claimOffset)))
        .then(() => renew.forEach((hold) => (hold.renewedAt = sentAt)))
        .catch((error: unknown) => this.logger.warn({ err: error, streams: renew.length }, 'could not renew publish claims; retrying'));
    } finally {
      this.ticking = false;
    }
  }

  private async write(kind: StreamClaimKind, streamId: string, sessionId: string, claimOffset?: bigint): Promise<void> {
    await this.log.write([this.message(kind, streamId, sessionId, claimOffset)]);
  }

  private message(kind: StreamClaimKind, streamId: string, sessionId: string, claimOffset?: bigint): StreamClaim {
    return {
      stream_id: streamId,
      publish_session_id: sessionId,
      replica_id: this.replicaId,
      kind,
      ...(claimOffset !== undefined ? { claim_offset: claimOffset.toString() } : {}),
      at: new Date().toISOString(),
    };
  }
}
