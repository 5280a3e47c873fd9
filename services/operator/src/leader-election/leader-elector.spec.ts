import { createLogger } from '@tributary/telemetry';
import { LeaderElector, type LeaderElectorOptions } from './leader-elector';
import { FakeClock, InMemoryLease } from './testing';

const logger = createLogger('test', { LOG_LEVEL: 'silent' });
const TIMING = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

describe(LeaderElector.name, () => {
  let clock: FakeClock;
  let lease: InMemoryLease;
  const electors: LeaderElector[] = [];

  const elector = (identity: string, overrides: Partial<LeaderElectorOptions> = {}): LeaderElector => {
    const created = new LeaderElector({ identity, ...TIMING, api: lease.apiFor(identity), logger, clock, random: () => 0, ...overrides });
    electors.push(created);
    return created;
  };

  beforeEach(() => {
    clock = new FakeClock();
    lease = new InMemoryLease();
  });

  afterEach(async () => {
    for (const created of electors.splice(0)) {
      lease.broken.clear();
      const stopping = created.stop();
      await clock.advance(TIMING.renewDeadlineMs);
      await stopping;
    }
  });

  it('creates the lease and leads when nobody holds it', async () => {
    const a = elector('a');
    const started = jest.fn();
    a.onStartedLeading(started);
    a.start();
    await clock.advance(0);
    expect(a.isLeader()).toBe(true);
    expect(started).toHaveBeenCalledTimes(1);
    expect(lease.record).toMatchObject({ holderIdentity: 'a', leaseDurationSeconds: 15, leaseTransitions: 0 });
  });

  it('lets only one of two candidates lead, and the other sees who leads', async () => {
    const a = elector('a');
    const b = elector('b');
    a.start();
    b.start();
    await clock.advance(60_000);
    expect([a.isLeader(), b.isLeader()].filter(Boolean)).toHaveLength(1);
    expect(a.currentLeader()).toBe(b.currentLeader());
    expect(lease.writes.every((write) => write.holder === lease.record?.holderIdentity)).toBe(true);
  });

  it('renews every retry period while leading', async () => {
    const a = elector('a');
    a.start();
    await clock.advance(0);
    const before = lease.writes.length;
    await clock.advance(10_000);
    expect(lease.writes.length - before).toBe(5);
    expect(a.isLeader()).toBe(true);
  });

  it('takes over only after the lease duration since it last saw the record change', async () => {
    const a = elector('a');
    a.start();
    await clock.advance(0);
    const b = elector('b');
    b.start();
    await clock.advance(1_000);
    // a dies silently (no release): its record stops changing.
    lease.broken.set('a', 'fail');
    const becameLeaderAt: number[] = [];
    b.onStartedLeading(() => becameLeaderAt.push(clock.now()));
    const diedAt = clock.now();
    await clock.advance(30_000);
    expect(b.isLeader()).toBe(true);
    expect(lease.record).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
    // b last saw a's renewal at most one retry period before a died; it waits a full lease duration from there.
    expect(becameLeaderAt[0] - diedAt).toBeGreaterThanOrEqual(TIMING.leaseDurationMs - TIMING.retryPeriodMs);
    expect(becameLeaderAt[0] - diedAt).toBeLessThanOrEqual(TIMING.leaseDurationMs + TIMING.retryPeriodMs);
  });

  it('stops acting after failed renewals, before any other replica may take over', async () => {
    const a = elector('a');
    const b = elector('b');
    a.start();
    await clock.advance(0);
    b.start();
    await clock.advance(500);
    const events: string[] = [];
    a.onStoppedLeading(() => events.push(`a stopped at ${clock.now()}`));
    b.onStartedLeading(() => events.push(`b started at ${clock.now()}`));
    const signal = a.signal();
    lease.broken.set('a', 'fail');
    for (let step = 0; step < 40 && !b.isLeader(); step++) {
      await clock.advance(500);
      // Never two leaders at one instant.
      expect(a.isLeader() && b.isLeader()).toBe(false);
    }
    expect(events).toHaveLength(2);
    expect(events[0]).toMatch(/^a stopped/);
    expect(events[1]).toMatch(/^b started/);
    expect(signal.aborted).toBe(true);
    const stoppedAt = Number(events[0].split(' at ')[1]);
    const startedAt = Number(events[1].split(' at ')[1]);
    expect(startedAt - stoppedAt).toBeGreaterThanOrEqual(TIMING.leaseDurationMs - TIMING.renewDeadlineMs - TIMING.retryPeriodMs);
  });

  it('gives up when a renewal hangs (no answer is not a renewal)', async () => {
    const a = elector('a');
    a.start();
    await clock.advance(0);
    lease.broken.set('a', 'hang');
    const stopped = jest.fn();
    a.onStoppedLeading(stopped);
    await clock.advance(TIMING.renewDeadlineMs + 1);
    expect(a.isLeader()).toBe(false);
    expect(stopped).toHaveBeenCalledWith(expect.stringContaining('no successful renewal'));
  });

  it('stops leading at once when a renewal finds another holder', async () => {
    const a = elector('a');
    a.start();
    await clock.advance(0);
    // Someone (an admin, a replica with a broken clock) writes another holder.
    const record = lease.record;
    if (!record) throw new Error('no lease');
    await lease.apiFor('intruder').update({ ...record, holderIdentity: 'intruder' });
    const stopped = jest.fn();
    a.onStoppedLeading(stopped);
    await clock.advance(TIMING.retryPeriodMs);
    expect(a.isLeader()).toBe(false);
    expect(stopped).toHaveBeenCalledWith('the lease is held by intruder');
  });

  it('recovers leadership after a short outage that stays within the renew deadline', async () => {
    const a = elector('a');
    a.start();
    await clock.advance(0);
    const stopped = jest.fn();
    a.onStoppedLeading(stopped);
    lease.broken.set('a', 'fail');
    await clock.advance(TIMING.renewDeadlineMs - TIMING.retryPeriodMs - 1);
    lease.broken.delete('a');
    await clock.advance(TIMING.retryPeriodMs);
    expect(a.isLeader()).toBe(true);
    expect(stopped).not.toHaveBeenCalled();
  });

  it('releases the lease on stop so another replica takes over without waiting', async () => {
    const a = elector('a');
    const b = elector('b');
    a.start();
    await clock.advance(0);
    b.start();
    await clock.advance(500);
    await a.stop();
    expect(lease.record?.holderIdentity).toBeUndefined();
    await clock.advance(TIMING.retryPeriodMs);
    expect(b.isLeader()).toBe(true);
  });

  it('refuses timings where a leader could still act after the lease expired', () => {
    expect(() => elector('a', { renewDeadlineMs: 15_000 })).toThrow(/retryPeriod < renewDeadline < leaseDuration/);
    expect(() => elector('a', { leaseDurationMs: 15_500 })).toThrow(/whole seconds/);
  });
});
