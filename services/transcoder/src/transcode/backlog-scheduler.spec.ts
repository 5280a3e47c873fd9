import { BacklogScheduler } from './backlog-scheduler';

const settled = () => new Promise((resolve) => setImmediate(resolve));

describe(BacklogScheduler.name, () => {
  it('gives turns first come first served, at most `concurrency` at once', async () => {
    const scheduler = new BacklogScheduler(1, () => false);
    const [a, b, c] = [{}, {}, {}];
    const granted: string[] = [];
    void scheduler.turn(a).then((ok) => granted.push(`a:${ok}`));
    void scheduler.turn(b).then((ok) => granted.push(`b:${ok}`));
    void scheduler.turn(c).then((ok) => granted.push(`c:${ok}`));
    await settled();
    expect(granted).toEqual(['a:true']);
    expect([scheduler.runningCount, scheduler.waitingCount]).toEqual([1, 2]);
    scheduler.end(b); // b stops waiting (went live)
    scheduler.end(a);
    await settled();
    expect(granted).toEqual(['a:true', 'b:false', 'c:true']);
  });

  it('holds backlog writes while a live stream trails, and lets them go on the next poke after it caught up', async () => {
    let trailing = true;
    const scheduler = new BacklogScheduler(1, () => trailing);
    const owner = {};
    let written = false;
    void scheduler.permit(owner).then(() => (written = true));
    scheduler.poke();
    await settled();
    expect(written).toBe(false);
    trailing = false;
    scheduler.poke();
    await settled();
    expect(written).toBe(true);
  });

  it('releases the waits of an owner that ends (stopped or went live)', async () => {
    const scheduler = new BacklogScheduler(1, () => true);
    const owner = {};
    let released = false;
    void scheduler.permit(owner).then(() => (released = true));
    scheduler.end(owner);
    await settled();
    expect(released).toBe(true);
  });
});
