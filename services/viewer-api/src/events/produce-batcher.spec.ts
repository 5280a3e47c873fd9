import type { Message } from 'kafkajs';
import { ProduceBatcher } from './produce-batcher';

const messages = (...values: string[]): Message[] => values.map((value) => ({ key: 'k', value }));

function deferred() {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((ok, fail) => {
    resolve = ok;
    reject = fail;
  });
  return { promise, resolve, reject };
}

describe(ProduceBatcher.name, () => {
  it('sends the messages of concurrent callers in one send, in call order, and settles each when it is acknowledged', async () => {
    const sends: string[][] = [];
    const batcher = new ProduceBatcher(async (sent) => void sends.push(sent.map((m) => String(m.value))), { lingerMs: 5, maxSendBytes: 1_000, maxInFlight: 1 });
    await Promise.all([batcher.send(messages('a1', 'a2'), 10), batcher.send(messages('b1'), 10), batcher.send(messages('c1'), 10)]);
    expect(sends).toEqual([['a1', 'a2', 'b1', 'c1']]);
  });

  it('keeps at most maxInFlight sends in flight and sends what queued meanwhile as the next batch', async () => {
    const sends: string[][] = [];
    const acks: ReturnType<typeof deferred>[] = [];
    const batcher = new ProduceBatcher(
      (sent) => {
        sends.push(sent.map((m) => String(m.value)));
        const ack = deferred();
        acks.push(ack);
        return ack.promise;
      },
      { lingerMs: 0, maxSendBytes: 1_000, maxInFlight: 2 },
    );
    const first = batcher.send(messages('a'), 10);
    const second = batcher.send(messages('b'), 10);
    const third = batcher.send(messages('c'), 10);
    const fourth = batcher.send(messages('d'), 10);
    expect(sends).toEqual([['a'], ['b']]);
    let thirdDone = false;
    void third.then(() => (thirdDone = true));
    acks[0].resolve();
    await first;
    expect(sends).toEqual([['a'], ['b'], ['c', 'd']]);
    expect(thirdDone).toBe(false);
    acks[1].resolve();
    acks[2].resolve();
    await Promise.all([second, third, fourth]);
  });

  it('fails exactly the callers whose send failed', async () => {
    let calls = 0;
    const batcher = new ProduceBatcher(
      async () => {
        calls += 1;
        if (calls === 1) throw new Error('broker down');
      },
      { lingerMs: 0, maxSendBytes: 15, maxInFlight: 1 },
    );
    // 10 + 10 bytes > 15: two sends; the first fails.
    const results = await Promise.allSettled([batcher.send(messages('a'), 10), batcher.send(messages('b'), 10)]);
    expect(results.map((result) => result.status)).toEqual(['rejected', 'fulfilled']);
  });

  it('sends at once, without lingering, when a send worth of bytes is queued', async () => {
    const sends: number[] = [];
    const batcher = new ProduceBatcher(async (sent) => void sends.push(sent.length), { lingerMs: 60_000, maxSendBytes: 20, maxInFlight: 1 });
    await Promise.all([batcher.send(messages('a'), 10), batcher.send(messages('b'), 10)]);
    expect(sends).toEqual([2]);
  });
});
