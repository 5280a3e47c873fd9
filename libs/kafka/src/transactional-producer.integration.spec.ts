import { randomUUID } from 'node:crypto';
import { parseEnv } from '@tributary/config';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { createKafkaClient } from './client';
import { kafkaEnvSpec } from './config';
import { silentLogger } from './logger';
import { isFencedError, ProducerFencedError, TransactionalProducer } from './transactional-producer';

/**
 * kafkajs 2.2.4 transactions against the real broker (Kafka 4.x): commit with offsets, read
 * committed, and fencing of a zombie by a newer producer with the same transactional.id.
 */
const config = parseEnv(kafkaEnvSpec, process.env);

async function readCommitted(kafka: Kafka, topic: string, settleMs = 3000): Promise<KafkaMessage[]> {
  const messages: KafkaMessage[] = [];
  const consumer = kafka.consumer({ groupId: `read-${randomUUID()}` }); // kafkajs default: read committed
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      messages.push(message);
    },
  });
  await new Promise((wait) => setTimeout(wait, settleMs));
  await consumer.disconnect();
  return messages;
}

/** Committed offsets of a transaction become visible once its markers are written (asynchronously). */
async function committedOffset(kafka: Kafka, groupId: string, topic: string, partition: number, expected: string): Promise<string | undefined> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    let offset: string | undefined;
    for (const deadline = Date.now() + 15_000; Date.now() < deadline; await new Promise((wait) => setTimeout(wait, 200))) {
      const fetched = await admin.fetchOffsets({ groupId, topics: [topic] });
      offset = fetched[0]?.partitions.find((entry) => entry.partition === partition)?.offset;
      if (offset === expected) break;
    }
    return offset;
  } finally {
    await admin.disconnect();
  }
}

describe(TransactionalProducer.name, () => {
  const kafka = createKafkaClient(config, 'kafka-txn-test', silentLogger);
  const topic = `t-${randomUUID().slice(0, 8)}.txn`;
  const input = `${topic}.in`;
  const group = `txn-group-${randomUUID().slice(0, 8)}`;
  const admin = kafka.admin();

  beforeAll(async () => {
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1 }, { topic: input, numPartitions: 2 }] });
  }, 60_000);

  afterAll(async () => {
    await admin.deleteTopics({ topics: [topic, input] }).catch(() => undefined);
    await admin.disconnect();
  });

  it('commits messages and consumed offsets together, and fences the older of two producers with one transactional.id', async () => {
    const id = `txn-${randomUUID()}`;
    const first = new TransactionalProducer(kafka, id, { compression: 'none' });
    await first.connect();
    await first.commit([{ topic, messages: [{ key: 'cam', value: 'first-1' }] }], [{ consumerGroupId: group, topic: input, partition: 1, offset: '7' }]);
    expect(await committedOffset(kafka, group, input, 1, '7')).toBe('7');

    expect(await first.stillOwner(group)).toBe(true);
    // A new owner takes over the id: the first producer is now a zombie.
    const second = new TransactionalProducer(kafka, id, { compression: 'none' });
    await second.connect();
    expect(await second.stillOwner(group)).toBe(true);
    const zombie = first.commit([{ topic, messages: [{ key: 'cam', value: 'zombie' }] }], [{ consumerGroupId: group, topic: input, partition: 1, offset: '99' }]);
    await expect(zombie).rejects.toBeInstanceOf(ProducerFencedError);
    expect(first.isFenced).toBe(true);
    expect(await first.stillOwner(group)).toBe(false);
    await expect(first.commit([{ topic, messages: [{ key: 'cam', value: 'zombie-2' }] }])).rejects.toBeInstanceOf(ProducerFencedError);
    await second.commit([{ topic, messages: [{ key: 'cam', value: 'second-1' }] }], [{ consumerGroupId: group, topic: input, partition: 1, offset: '9' }]);

    const values = (await readCommitted(kafka, topic)).map((message) => message.value?.toString());
    expect(values).toEqual(['first-1', 'second-1']);
    expect(await committedOffset(kafka, group, input, 1, '9')).toBe('9');
    await first.disconnect();
    await second.disconnect();
  }, 90_000);

  it('merges the commits that wait behind a running transaction into one, in call order, later offsets winning', async () => {
    const own = `${topic}.group`;
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: own, numPartitions: 1 }] });
    const producer = new TransactionalProducer(kafka, `txn-${randomUUID()}`, { compression: 'none' });
    await producer.connect();
    const offset = (value: string) => [{ consumerGroupId: group, topic: input, partition: 0, offset: value }];
    // The first is running (waiting for the broker) when the next three come: they go together.
    const first = producer.commit([{ topic: own, messages: [{ key: 'cam', value: 'a' }] }], offset('10'));
    await new Promise((resolve) => setImmediate(resolve));
    const rest = ['b', 'c', 'd'].map((value, i) => producer.commit([{ topic: own, messages: [{ key: 'cam', value }] }], offset(String(11 + i))));
    await Promise.all([first, ...rest]);
    const messages = await readCommitted(kafka, own);
    expect(messages.map((message) => message.value?.toString())).toEqual(['a', 'b', 'c', 'd']);
    // One transaction for a, one for b–d: one commit marker after each (offsets a, a+1 marker, b, c, d, marker).
    expect(messages.map((message) => Number(message.offset))).toEqual([0, 2, 3, 4]);
    expect(await committedOffset(kafka, group, input, 0, '13')).toBe('13');
    await producer.disconnect();
  }, 90_000);

  it('aborts the open transaction of a producer that is taken over mid-transaction', async () => {
    const id = `txn-${randomUUID()}`;
    // A raw kafkajs transaction left open (the owner froze before committing).
    const frozen = kafka.producer({ transactionalId: id, idempotent: true, maxInFlightRequests: 1 });
    await frozen.connect();
    const open = await frozen.transaction();
    await open.send({ topic, messages: [{ key: 'cam', value: 'never-committed' }] });
    const next = new TransactionalProducer(kafka, id, { compression: 'none' });
    await next.connect();
    await next.commit([{ topic, messages: [{ key: 'cam', value: 'after-takeover' }] }]);
    const error = await open.commit().then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(isFencedError(error)).toBe(true);
    const values = (await readCommitted(kafka, topic)).map((message) => message.value?.toString());
    expect(values).toContain('after-takeover');
    expect(values).not.toContain('never-committed');
    await frozen.disconnect();
    await next.disconnect();
  }, 90_000);
});
