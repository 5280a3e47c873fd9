import { LeadershipTerm } from './leadership-term';
import { AlwaysLeader } from './always-leader';

describe(LeadershipTerm.name, () => {
  it('runs one term at a time: begin tells the subscribers with a live signal, end aborts it first and then says why', () => {
    const term = new LeadershipTerm(() => undefined);
    const heard: string[] = [];
    let signal: AbortSignal | undefined;
    term.onStarted((given) => {
      signal = given;
      heard.push('started');
    });
    term.onStopped((reason) => heard.push(`stopped: ${reason}, aborted ${String(signal?.aborted)}`));
    expect(term.signal().aborted).toBe(true);
    term.begin();
    term.begin();
    expect(term.active).toBe(true);
    expect(signal?.aborted).toBe(false);
    expect(term.signal()).toBe(signal);
    expect(term.end('renew deadline', 'leadership lost: renew deadline')).toBe(true);
    expect(term.end('again')).toBe(false);
    expect(heard).toEqual(['started', 'stopped: renew deadline, aborted true']);
    expect((signal?.reason as Error).message).toBe('leadership lost: renew deadline');
  });

  it('reports a throwing subscriber and still tells the others; unsubscribed callbacks hear nothing', () => {
    const errors: unknown[] = [];
    const term = new LeadershipTerm((error) => errors.push(error));
    const heard: string[] = [];
    term.onStarted(() => {
      throw new Error('boom');
    });
    term.onStarted(() => heard.push('second'));
    const unsubscribe = term.onStopped(() => heard.push('never'));
    unsubscribe();
    term.begin();
    term.end('stopping');
    expect(heard).toEqual(['second']);
    expect(errors).toHaveLength(1);
  });
});

describe(AlwaysLeader.name, () => {
  it('leads from start() to stop()', async () => {
    const leadership = new AlwaysLeader();
    const reasons: string[] = [];
    leadership.onStoppedLeading((reason) => reasons.push(reason));
    expect(leadership.isLeader()).toBe(false);
    expect(leadership.currentLeader()).toBeUndefined();
    leadership.start();
    expect(leadership.isLeader()).toBe(true);
    expect(leadership.currentLeader()).toBe('always-leader');
    const signal = leadership.signal();
    await leadership.stop();
    expect(signal.aborted).toBe(true);
    expect(reasons).toEqual(['stopping']);
  });
});
