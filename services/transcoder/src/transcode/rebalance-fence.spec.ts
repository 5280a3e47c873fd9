import { RebalanceFence } from './rebalance-fence';

describe(RebalanceFence.name, () => {
  it('lets producers through while open', async () => {
    const fence = new RebalanceFence();
    expect(fence.isClosed).toBe(false);
    await expect(fence.passed()).resolves.toBeUndefined();
  });

  it('holds producers while closed and releases them all when opened', async () => {
    const fence = new RebalanceFence();
    fence.close();
    fence.close();
    let passed = 0;
    const waiting = [fence.passed(), fence.passed()].map((wait) => wait.then(() => (passed += 1)));
    await new Promise((resolve) => setImmediate(resolve));
    expect(passed).toBe(0);
    fence.open();
    await Promise.all(waiting);
    expect(passed).toBe(2);
    expect(fence.isClosed).toBe(false);
  });

  it('keeps a producer waiting when the fence closed again before it went through', async () => {
    const fence = new RebalanceFence();
    fence.close();
    let passed = false;
    const waiting = fence.passed().then(() => (passed = true));
    fence.open();
    fence.close();
    await new Promise((resolve) => setImmediate(resolve));
    expect(passed).toBe(false);
    fence.open();
    await waiting;
    expect(passed).toBe(true);
  });
});
