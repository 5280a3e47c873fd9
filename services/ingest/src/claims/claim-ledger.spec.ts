import { type ClaimEntry, ClaimLedger } from './claim-ledger';

const LEASE = 10_000;

/** A log of claim messages with increasing offsets, as one partition would hold them. */
class Log {
  private offset = 0n;
  readonly entries: ClaimEntry[] = [];

  add(kind: ClaimEntry['kind'], sessionId: string, timestampMs: number, extra: Partial<ClaimEntry> = {}): ClaimEntry {
    const entry: ClaimEntry = { streamId: 's1', sessionId, replicaId: `replica-of-${sessionId}`, kind, offset: this.offset++, timestampMs, ...extra };
    this.entries.push(entry);
    return entry;
  }

  /** The offset of the claim `sessionId` made (for its heartbeats). */
  claimOf(sessionId: string): bigint {
    const claim = this.entries.find((entry) => entry.kind === 'claim' && entry.sessionId === sessionId);
    if (!claim) throw new Error(`no claim by ${sessionId}`);
    return claim.offset;
  }
}

describe(ClaimLedger.name, () => {
  it('gives a free stream to the first claim in log order and refuses the next while the lease runs', () => {
    const ledger = new ClaimLedger(LEASE);
    const log = new Log();
    expect(ledger.apply(log.add('claim', 'a', 1_000))).toEqual({ kind: 'won', streamId: 's1', sessionId: 'a', claimOffset: 0n });
    const second = ledger.apply(log.add('claim', 'b', 1_001));
    expect(second).toMatchObject({ kind: 'lost', sessionId: 'b', holder: { sessionId: 'a', replicaId: 'replica-of-a' } });
    expect(ledger.holder('s1')?.sessionId).toBe('a');
  });

  it('keeps the holder while it heartbeats, however long the publish lasts', () => {
    const ledger = new ClaimLedger(LEASE);
    const log = new Log();
    ledger.apply(log.add('claim', 'a', 0));
    for (let t = 2_000; t <= 60_000; t += 2_000) ledger.apply(log.add('heartbeat', 'a', t, { claimOffset: log.claimOf('a') }));
    expect(ledger.apply(log.add('claim', 'b', 65_000))).toMatchObject({ kind: 'lost' });
  });

  it('lets a claim win once the holder has not renewed for a whole lease of log time', () => {
    const ledger = new ClaimLedger(LEASE);
    const log = new Log();
    ledger.apply(log.add('claim', 'a', 0));
    ledger.apply(log.add('heartbeat', 'a', 2_000, { claimOffset: log.claimOf('a') }));
    expect(ledger.apply(log.add('claim', 'b', 12_000))).toMatchObject({ kind: 'lost' });
    expect(ledger.apply(log.add('claim', 'b', 12_001))).toMatchObject({ kind: 'won', sessionId: 'b' });
  });

  it('frees the stream on the holder’s release, and ignores a release by anyone else', () => {
    const ledger = new ClaimLedger(LEASE);
    const log = new Log();
    ledger.apply(log.add('claim', 'a', 0));
    ledger.apply(log.add('release', 'b', 1));
    expect(ledger.holder('s1')?.sessionId).toBe('a');
    ledger.apply(log.add('release', 'a', 2, { claimOffset: log.claimOf('a') }));
    expect(ledger.holder('s1')).toBeUndefined();
    expect(ledger.apply(log.add('claim', 'b', 3))).toMatchObject({ kind: 'won' });
  });

  it('does not give the stream back to a holder that lost it while partitioned (its late heartbeats change nothing)', () => {
    const ledger = new ClaimLedger(LEASE);
    const log = new Log();
    ledger.apply(log.add('claim', 'a', 0));
    expect(ledger.apply(log.add('claim', 'b', 20_000))).toMatchObject({ kind: 'won' });
    ledger.apply(log.add('heartbeat', 'a', 20_500, { claimOffset: log.claimOf('a') }));
    expect(ledger.holder('s1')?.sessionId).toBe('b');
  });

  it('decides the same way on every replica that reads the same log, whatever the replicas’ clocks say', () => {
    const log = new Log();
    log.add('claim', 'a', 0);
    log.add('claim', 'b', 5);
    log.add('heartbeat', 'a', 2_000, { claimOffset: 0n });
    log.add('claim', 'c', 13_000);
    log.add('claim', 'd', 12_500); // an out-of-order timestamp is judged by its own time, in log order
    const verdicts = () => {
      const ledger = new ClaimLedger(LEASE);
      return log.entries.map((entry) => ledger.apply(entry).kind);
    };
    expect(verdicts()).toEqual(['won', 'lost', 'none', 'won', 'lost']);
    expect(verdicts()).toEqual(verdicts());
  });

  it('brings a replica that starts reading mid-log to the same view: claims of its warm-up are skipped, heartbeats tell the holder', () => {
    const log = new Log();
    log.add('claim', 'a', 0);
    log.add('heartbeat', 'a', 2_000, { claimOffset: 0n });
    log.add('claim', 'b', 2_500); // loses: a holds
    log.add('heartbeat', 'a', 4_000, { claimOffset: 0n });
    log.add('heartbeat', 'a', 6_000, { claimOffset: 0n });
    const full = new ClaimLedger(LEASE);
    log.entries.forEach((entry) => full.apply(entry));
    // A late replica's window starts after a's claim and its first heartbeat.
    const late = new ClaimLedger(LEASE);
    late.judgeClaimsFrom(2_000 + 2_500);
    log.entries.slice(2).forEach((entry) => late.apply(entry));
    expect(late.holder('s1')?.sessionId).toBe('a');
    expect(full.holder('s1')?.sessionId).toBe('a');
    const probe: ClaimEntry = { streamId: 's1', sessionId: 'e', replicaId: 'r', kind: 'claim', offset: 99n, timestampMs: 13_000 };
    expect(late.apply(probe).kind).toBe('lost');
    expect(full.apply(probe).kind).toBe('lost');
  });

  it('without the warm-up, a misjudged old claim still never lets a new claim through while the holder beats', () => {
    const log = new Log();
    log.add('claim', 'a', 0);
    log.add('claim', 'b', 2_500); // loses: a holds
    log.add('heartbeat', 'a', 4_000, { claimOffset: 0n });
    log.add('heartbeat', 'a', 14_000, { claimOffset: 0n });
    const late = new ClaimLedger(LEASE);
    log.entries.slice(1).forEach((entry) => late.apply(entry)); // b "wins" here: a's claim is before the window
    const probe: ClaimEntry = { streamId: 's1', sessionId: 'e', replicaId: 'r', kind: 'claim', offset: 99n, timestampMs: 20_000 };
    expect(late.apply(probe).kind).toBe('lost');
  });

  it('a heartbeat from a newer winning claim takes over from an older holder (a replica that missed the claim)', () => {
    const ledger = new ClaimLedger(LEASE);
    ledger.apply({ streamId: 's1', sessionId: 'a', replicaId: 'r1', kind: 'heartbeat', offset: 10n, claimOffset: 3n, timestampMs: 1_000 });
    ledger.apply({ streamId: 's1', sessionId: 'b', replicaId: 'r2', kind: 'heartbeat', offset: 11n, claimOffset: 7n, timestampMs: 1_001 });
    expect(ledger.holder('s1')?.sessionId).toBe('b');
    ledger.apply({ streamId: 's1', sessionId: 'a', replicaId: 'r1', kind: 'heartbeat', offset: 12n, claimOffset: 3n, timestampMs: 1_002 });
    expect(ledger.holder('s1')?.sessionId).toBe('b');
  });

  it('keeps one entry per held stream and sweeps expired ones (10,000 streams come and go)', () => {
    const ledger = new ClaimLedger(LEASE);
    let offset = 0n;
    for (let i = 0; i < 10_000; i += 1) {
      ledger.apply({ streamId: `s${i}`, sessionId: `p${i}`, replicaId: 'r', kind: 'claim', offset: offset++, timestampMs: i });
    }
    expect(ledger.size).toBe(10_000);
    for (let i = 0; i < 5_000; i += 1) {
      ledger.apply({ streamId: `s${i}`, sessionId: `p${i}`, replicaId: 'r', kind: 'release', offset: offset++, timestampMs: 10_000 + i });
    }
    expect(ledger.size).toBe(5_000);
    // The other half's publishers died without a release: their leases run out, the sweep drops them.
    ledger.apply({ streamId: 'other', sessionId: 'x', replicaId: 'r', kind: 'claim', offset: offset++, timestampMs: 40_000 });
    expect(ledger.sweep()).toBe(5_000);
    expect(ledger.size).toBe(1);
  });
});
