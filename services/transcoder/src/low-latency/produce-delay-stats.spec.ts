import { ProduceDelayStats } from './produce-delay-stats';

describe(ProduceDelayStats.name, () => {
  it('summarises count, p50, p95 and max', () => {
    const stats = new ProduceDelayStats();
    expect(stats.summary()).toEqual({ count: 0, p50: 0, p95: 0, max: 0 });
    for (let ms = 1; ms <= 100; ms += 1) stats.add(ms);
    expect(stats.summary()).toEqual({ count: 100, p50: 50, p95: 95, max: 100 });
  });

  it('keeps percentiles over the recent samples only, the max over all', () => {
    const stats = new ProduceDelayStats(10);
    stats.add(500);
    for (let i = 0; i < 10; i += 1) stats.add(2);
    expect(stats.summary()).toEqual({ count: 11, p50: 2, p95: 2, max: 500 });
  });
});
