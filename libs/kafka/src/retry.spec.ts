import { backoffDelay, isRetriableKafkaError, retryKafka } from './retry';

describe(retryKafka.name, () => {
  it('retries retriable errors until the call succeeds, waiting the given delays', async () => {
    let calls = 0;
    const waits: number[] = [];
    const result = await retryKafka(
      () => {
        calls += 1;
        return calls < 3 ? Promise.reject(Object.assign(new Error('x'), { retriable: true })) : Promise.resolve('ok');
      },
      { delayMs: (attempt) => attempt, onRetry: (_error, _attempt, delay) => waits.push(delay) },
    );
    expect(result).toBe('ok');
    expect(waits).toEqual([1, 2]);
  });

  it('throws a non-retriable error at once and the last error after the attempts', async () => {
    let calls = 0;
    const fatal = () => {
      calls += 1;
      return Promise.reject(new Error('authorization failed'));
    };
    await expect(retryKafka(fatal, { delayMs: 0 })).rejects.toThrow('authorization failed');
    expect(calls).toBe(1);
    calls = 0;
    const flaky = () => {
      calls += 1;
      return Promise.reject(new Error('This server is not the leader for that topic-partition'));
    };
    await expect(retryKafka(flaky, { attempts: 3, delayMs: 0 })).rejects.toThrow(/not the leader/);
    expect(calls).toBe(3);
  });

  it('backs off exponentially up to a cap', () => {
    expect([1, 2, 3, 4, 5].map((attempt) => backoffDelay(attempt, 500, 4000))).toEqual([500, 1000, 2000, 4000, 4000]);
    expect(isRetriableKafkaError({ retriable: false, message: 'nope' })).toBe(false);
  });
});
