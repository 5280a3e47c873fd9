import { RestartBudget } from './restart-budget';

describe(RestartBudget.name, () => {
  it('doubles the delay per restart up to the cap, then refuses', () => {
    const budget = new RestartBudget(6, 500, 10_000);
    expect(Array.from({ length: 7 }, () => budget.take())).toEqual([500, 1000, 2000, 4000, 8000, 10_000, undefined]);
    expect(budget.count).toBe(6);
  });
});
