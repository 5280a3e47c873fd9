import type { Message } from 'kafkajs';
import { CmcdBatcher } from './cmcd-batcher';

function batcher(send: (messages: Message[]) => Promise<unknown>, maxQueued = 3) {
  const dropped: Record<string, number> = {};
  let sent = 0;
  const instance = new CmcdBatcher({
    intervalMs: 10_000,
    maxQueued,
    maxBatch: 2,
    send,
    onDropped: (reason, count) => (dropped[reason] = (dropped[reason] ?? 0) + count),
    onSent: (count) => (sent += count),
  });
  return { instance, dropped, sent: () => sent };
}

const message = (value: string): Message => ({ key: 's', value });

describe(CmcdBatcher.name, () => {
  it('sends queued messages in batches of maxBatch, in order', async () => {
    const batches: string[][] = [];
    const { instance, sent } = batcher((messages) => Promise.resolve(batches.push(messages.map((m) => String(m.value)))));
    ['a', 'b', 'c'].forEach((v) => instance.push(message(v)));
    await instance.flush();
    expect(batches).toEqual([['a', 'b'], ['c']]);
    expect(sent()).toBe(3);
  });

  it('drops and counts when the queue is full, without waiting for Kafka', () => {
    const { instance, dropped } = batcher(() => new Promise(() => undefined));
    expect([1, 2, 3, 4].map((v) => instance.push(message(String(v))))).toEqual([true, true, true, false]);
    expect(dropped).toEqual({ queue_full: 1 });
  });

  it('counts a failed send as dropped and keeps going', async () => {
    let calls = 0;
    const { instance, dropped, sent } = batcher(() => {
      calls += 1;
      return calls === 1 ? Promise.reject(new Error('broker down')) : Promise.resolve();
    });
    ['a', 'b', 'c'].forEach((v) => instance.push(message(v)));
    await instance.flush();
    expect(dropped).toEqual({ produce_failed: 2 });
    expect(sent()).toBe(1);
    expect(instance.queued).toBe(0);
  });
});
