import type { Admin, Kafka } from 'kafkajs';
import { KafkaLagSource } from './kafka-lag-source';

/** A fake admin client: counts broker reads, answers one partition with a commit and one without. */
function fakeKafka(): { kafka: Kafka; reads: () => number; fail: (next: boolean) => void } {
  let reads = 0;
  let failing = false;
  const admin = {
    connect: () => Promise.resolve(),
    disconnect: () => Promise.resolve(),
    fetchOffsets: () => {
      reads += 1;
      return failing ? Promise.reject(new Error('broker gone')) : Promise.resolve([{ topic: 'video.ingest', partitions: [{ partition: 1, offset: '7' }] }]);
    },
    fetchTopicOffsets: () => Promise.resolve([{ partition: 1, high: '10', low: '0', offset: '10' }, { partition: 0, high: '4', low: '0', offset: '4' }]),
  } as unknown as Admin;
  return { kafka: { admin: () => admin } as unknown as Kafka, reads: () => reads, fail: (next) => (failing = next) };
}

describe(KafkaLagSource.name, () => {
  it('returns every partition in order, -1 where the group has no commit', async () => {
    const { kafka } = fakeKafka();
    await expect(new KafkaLagSource(kafka, 'transcoder', 'video.ingest').read()).resolves.toEqual([
      { partition: 0, committed: -1, end: 4 },
      { partition: 1, committed: 7, end: 10 },
    ]);
  });

  it('shares a reading younger than freshForMs, and one under way, between callers', async () => {
    const { kafka, reads } = fakeKafka();
    let now = 1_000;
    const source = new KafkaLagSource(kafka, 'transcoder', 'video.ingest', 5_000, () => now);
    const [first, concurrent] = await Promise.all([source.read(), source.read()]);
    expect(concurrent).toBe(first);
    now += 4_999;
    await source.read();
    expect(reads()).toBe(1);
    now += 1;
    await source.read();
    expect(reads()).toBe(2);
  });

  it('does not share a failed reading', async () => {
    const { kafka, reads, fail } = fakeKafka();
    const source = new KafkaLagSource(kafka, 'transcoder', 'video.ingest', 60_000, () => 0);
    fail(true);
    await expect(source.read()).rejects.toThrow('broker gone');
    fail(false);
    await expect(source.read()).resolves.toHaveLength(2);
    expect(reads()).toBe(2);
  });
});
