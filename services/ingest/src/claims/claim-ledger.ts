import type { StreamClaimKind } from '@tributary/contracts';

/** One `stream.claims` message as the ledger sees it. */
export interface ClaimEntry {
  readonly streamId: string;
  readonly sessionId: string;
  readonly replicaId: string;
  readonly kind: StreamClaimKind;
  /** This message's own offset (its partition's log order). */
  readonly offset: bigint;
  /** With heartbeat/release: the offset of the session's winning claim. */
  readonly claimOffset?: bigint;
  /** The log's timestamp (LogAppendTime: the partition leader's clock), ms. */
  readonly timestampMs: number;
}

export interface ClaimHolder {
  readonly sessionId: string;
  readonly replicaId: string;
  /** Offset of the claim that made it the holder. */
  readonly claimOffset: bigint;
  /** Log time of its claim or latest heartbeat: the lease runs from here. */
  readonly renewedAtMs: number;
}

/** What applying a message decided. */
export type ClaimDecision =
  | { readonly kind: 'won'; readonly streamId: string; readonly sessionId: string; readonly claimOffset: bigint }
  | { readonly kind: 'lost'; readonly streamId: string; readonly sessionId: string; readonly holder: ClaimHolder }
  | { readonly kind: 'none'; readonly streamId: string };

/**
 * The publish-claim state machine every ingest replica runs over `stream.claims`, in log order.
 * Pure: no Kafka, no clocks but the messages' own timestamps, so every replica that reads the
 * same log decides the same way.
 *
 * - `claim`: wins when the stream is free, its holder's lease has run out (no claim/heartbeat
 *   for `leaseMs` of log time before this claim), or the holder is the same session; otherwise
 *   it loses and changes nothing.
 * - `heartbeat`: renews the stream's lease. It makes its session the holder when the stream is
 *   free, the lease had run out, or its winning claim is newer than the holder's (a replica that
 *   started reading after that claim learns of it this way). An older session's heartbeat (a
 *   holder that lost and has not noticed yet) leaves the holder as it is.
 * - `release`: frees the stream when it comes from the holder.
 *
 * A replica that starts mid-log (it re-reads only a recent window) cannot judge claims until it
 * has seen a lease's worth of heartbeats: `judgeClaimsFrom()` makes it skip the claims of that
 * warm-up (they were decided long ago, by the replicas that made them) and learn the holders
 * from their heartbeats instead (see docs/reliability.md).
 * Memory: one entry per held stream; `sweep()` drops streams whose lease ran out.
 */
export class ClaimLedger {
  private readonly holders = new Map<string, ClaimHolder>();
  private latestMs = 0;
  private judgeFromMs = Number.NEGATIVE_INFINITY;

  constructor(private readonly leaseMs: number) {}

  /** Claims older than this log time are skipped (warm-up of a replica that starts mid-log). */
  judgeClaimsFrom(timestampMs: number): void {
    this.judgeFromMs = timestampMs;
  }

  /** The stream's holder, if its lease had not run out at log time `atMs` (default: the latest message's). */
  holder(streamId: string, atMs = this.latestMs): ClaimHolder | undefined {
    const holder = this.holders.get(streamId);
    return holder && !this.expired(holder, atMs) ? holder : undefined;
  }

  /** Streams with an entry (held, or expired and not swept yet). */
  get size(): number {
    return this.holders.size;
  }

  /** Log time of the newest message applied. */
  get latestTimestampMs(): number {
    return this.latestMs;
  }

  apply(entry: ClaimEntry): ClaimDecision {
    this.latestMs = Math.max(this.latestMs, entry.timestampMs);
    const current = this.holders.get(entry.streamId);
    const free = !current || this.expired(current, entry.timestampMs);
    const self = current?.sessionId === entry.sessionId;
    switch (entry.kind) {
      case 'claim': {
        if (entry.timestampMs < this.judgeFromMs) return { kind: 'none', streamId: entry.streamId };
        if (!free && !self) return { kind: 'lost', streamId: entry.streamId, sessionId: entry.sessionId, holder: current };
        const claimOffset = self && current ? current.claimOffset : entry.offset;
        this.holders.set(entry.streamId, { sessionId: entry.sessionId, replicaId: entry.replicaId, claimOffset, renewedAtMs: entry.timestampMs });
        return { kind: 'won', streamId: entry.streamId, sessionId: entry.sessionId, claimOffset };
      }
      case 'heartbeat': {
        const claimOffset = entry.claimOffset ?? -1n;
        if (free || self || !current || claimOffset > current.claimOffset) {
          this.holders.set(entry.streamId, {
            sessionId: entry.sessionId,
            replicaId: entry.replicaId,
            claimOffset: self && current ? current.claimOffset : claimOffset,
            renewedAtMs: entry.timestampMs,
          });
        } else {
          // An older session still beating: the stream is evidently in use, keep the lease alive.
          this.holders.set(entry.streamId, { ...current, renewedAtMs: Math.max(current.renewedAtMs, entry.timestampMs) });
        }
        return { kind: 'none', streamId: entry.streamId };
      }
      case 'release': {
        if (self) this.holders.delete(entry.streamId);
        return { kind: 'none', streamId: entry.streamId };
      }
    }
  }

  /** Drops streams whose lease ran out by log time `atMs`: they decide nothing any more (a claim wins either way). */
  sweep(atMs = this.latestMs): number {
    let dropped = 0;
    for (const [streamId, holder] of this.holders) {
      if (this.expired(holder, atMs)) {
        this.holders.delete(streamId);
        dropped += 1;
      }
    }
    return dropped;
  }

  private expired(holder: ClaimHolder, atMs: number): boolean {
    return atMs - holder.renewedAtMs > this.leaseMs;
  }
}
