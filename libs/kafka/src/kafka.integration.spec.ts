import { randomUUID } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { deadLetterTopicOf, Headers, topicSpecs, Topics } from '@tributary/contracts';
import { parseEnv } from '@tributary/config';
import { ensureTopics, PartitionGrowthRefusedError } from './admin';
import { createKafkaClient } from './client';
import { kafkaEnvSpec } from './config';
import { KafkaConsumerRunner } from './consumer';
import { DeadLetterPublisher } from './dead-letter';
import { silentLogger } from './logger';
import { KafkaProducer } from './producer';

// Real broker: jest global setup starts one (or KAFKA_BROKERS points at one).
const config = parseEnv(kafkaEnvSpec, process.env);

async function readAll(kafka: Kafka, topic: string, expected: number): Promise<KafkaMessage[]> {
  const messages: KafkaMessage[] = [];
  const runner = new KafkaConsumerRunner(kafka, {
    groupId: `read-${randomUUID()}`,
    topics: [topic],
    fromBeginning: true,
    logger: silentLogger,
    eachMessage: async ({ message }) => {
      messages.push(message);
    },
  });
  await runner.start();
  const deadline = Date.now() + 20_000;
  while (messages.length < expected && Date.now() < deadline) await new Promise((wait) => setTimeout(wait, 100));
  await runner.stop();
  return messages;
}

describe('libs/kafka against a real broker', () => {
  const prefix = `t-${randomUUID().slice(0, 8)}`;
  const kafka = createKafkaClient(config, 'kafka-lib-test', silentLogger);
  const producer = new KafkaProducer(kafka, { compression: 'gzip' });

  beforeAll(async () => {
    await producer.connect();
  });
  afterAll(async () => {
    await producer.disconnect();
  });

  it('creates every contract topic with its configs, idempotently, and grows partitions', async () => {
    const specs = topicSpecs(prefix, { eventPartitions: 2, videoPartitions: 2 });
    const first = await ensureTopics(kafka, specs, { replicationFactor: -1, logger: silentLogger });
    expect(first.created.sort()).toEqual(specs.map((spec) => spec.name).sort());

    const second = await ensureTopics(kafka, specs, { replicationFactor: -1, logger: silentLogger });
    expect(second.created).toEqual([]);
    expect(second.existing).toHaveLength(specs.length);

    const registry = `${prefix}.${Topics.streamRegistry}`;
    const admin = kafka.admin();
    await admin.connect();
    try {
      const described = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: 2, name: registry, configNames: ['cleanup.policy'] }],
      });
      expect(described.resources[0]?.configEntries[0]?.configValue).toBe('compact');

      const grown = await ensureTopics(kafka, topicSpecs(prefix, { eventPartitions: 3, videoPartitions: 2 }), {
        replicationFactor: -1,
        logger: silentLogger,
      });
      expect(grown.grown).toContain(`${prefix}.${Topics.playbackEvents}`);
      // New partitions reach the metadata cache shortly after the controller accepts them.
      let partitions = 0;
      for (let attempt = 0; attempt < 50 && partitions !== 3; attempt += 1) {
        const metadata = await admin.fetchTopicMetadata({ topics: [`${prefix}.${Topics.playbackEvents}`] });
        partitions = metadata.topics[0]?.partitions.length ?? 0;
        if (partitions !== 3) await new Promise((wait) => setTimeout(wait, 100));
      }
      expect(partitions).toBe(3);

      // Keyed video topics keep their partition count unless a migration says otherwise.
      await expect(
        ensureTopics(kafka, topicSpecs(prefix, { eventPartitions: 3, videoPartitions: 3 }), { replicationFactor: -1, logger: silentLogger }),
      ).rejects.toThrow(PartitionGrowthRefusedError);
      const segments = await admin.fetchTopicMetadata({ topics: [`${prefix}.${Topics.videoSegments}`] });
      expect(segments.topics[0]?.partitions).toHaveLength(2);
    } finally {
      await admin.disconnect();
    }
  });

  it('produces with acks=-1 and consumes the same messages, in key order, and commits offsets on stop', async () => {
    const topic = `${prefix}.${Topics.playbackEvents}`;
    const sent = Array.from({ length: 50 }, (_, index) => ({ key: `stream-${index % 3}`, value: JSON.stringify({ index }) }));
    await producer.send(topic, sent);

    const groupId = `group-${randomUUID()}`;
    const received: { key: string; index: number }[] = [];
    const runner = new KafkaConsumerRunner(kafka, {
      groupId,
      topics: [topic],
      fromBeginning: true,
      logger: silentLogger,
      eachMessage: async ({ message }) => {
        received.push({ key: String(message.key), index: (JSON.parse(String(message.value)) as { index: number }).index });
      },
    });
    await runner.start();
    expect(runner.isJoined).toBe(true);
    const deadline = Date.now() + 20_000;
    while (received.length < sent.length && Date.now() < deadline) await new Promise((wait) => setTimeout(wait, 100));
    await runner.stop();

    expect(received).toHaveLength(sent.length);
    for (const key of ['stream-0', 'stream-1', 'stream-2']) {
      const indexes = received.filter((entry) => entry.key === key).map((entry) => entry.index);
      expect(indexes).toEqual([...indexes].sort((a, b) => a - b));
    }
    const admin = kafka.admin();
    await admin.connect();
    const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
    await admin.disconnect();
    const total = committed[0]?.partitions.reduce((sum, partition) => sum + Math.max(0, Number(partition.offset)), 0);
    expect(total).toBe(sent.length);
  });

  it('dead-letters a message with its reason and origin in headers', async () => {
    const topic = `${prefix}.${Topics.playbackEvents}`;
    const dlq = new DeadLetterPublisher(producer);
    const original: KafkaMessage = {
      key: Buffer.from('stream-x'),
      value: Buffer.from('not json'),
      headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
      offset: '17',
      timestamp: String(Date.now()),
      attributes: 0,
    };
    await dlq.publish({ topic, partition: 1, message: original, groupId: 'g' }, 'value is not JSON');

    const [dead] = await readAll(kafka, deadLetterTopicOf(topic), 1);
    expect(dead?.value?.toString()).toBe('not json');
    expect(dead?.headers?.[Headers.deadLetterReason]?.toString()).toBe('value is not JSON');
    expect(dead?.headers?.[Headers.deadLetterTopic]?.toString()).toBe(topic);
    expect(dead?.headers?.[Headers.deadLetterOffset]?.toString()).toBe('17');
    expect(dead?.headers?.traceparent?.toString()).toContain('0af7651916cd43dd8448eb211c80319c');
  });
});
