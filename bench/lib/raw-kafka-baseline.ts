import { performance } from 'node:perf_hooks';
import { type PlaybackEvent, topicName, topicSpecs, Topics } from '@tributary/contracts';
import { type Compression, compressionType } from '@tributary/kafka';
import { type Kafka, type Message, Partitioners } from 'kafkajs';
import { DiscardingConsumer } from './discarding-consumer';
import { playbackEventMessage } from './playback-load';
import { pool, waitForProgress } from './progress';
import { type CpuUse, CpuWatch } from './report';

export interface BaselineSettings {
  /** Topic prefix of this run (`bench-<run id>`). */
  prefix: string;
  partitions: number;
  events: number;
  batch: number;
  concurrency: number;
}

export interface BaselineResult {
  produceEps: number;
  endToEndEps: number;
  wireBytesPerEvent: number;
  valueBytesPerEvent: number;
  cpu: CpuUse;
}

/**
 * Raw kafkajs produce → consume on a topic configured like playback.events: the same JSON events
 * and headers, batch size and concurrency as the POSTs, an idempotent acks=-1 producer (as
 * KafkaProducer) and one discarding consumer; also the produce-request bytes per event.
 * `batchesOf(total)` makes the events, in batches of `settings.batch`.
 */
export async function runRawKafkaBaseline(
  kafka: Kafka,
  settings: BaselineSettings,
  codec: Compression,
  pids: ReadonlyMap<string, number>,
  batchesOf: (total: number) => PlaybackEvent[][],
): Promise<BaselineResult> {
  const topic = topicName(`bench.baseline.${codec}`, settings.prefix);
  const spec = topicSpecs('').find((candidate) => candidate.name === Topics.playbackEvents)!;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      {
        topic,
        numPartitions: settings.partitions,
        replicationFactor: -1,
        configEntries: Object.entries(spec.configs).map(([name, value]) => ({ name, value })),
      },
    ],
  });
  await admin.disconnect();

  // The same producer settings as KafkaProducer (libs/kafka/src/producer.ts), on raw kafkajs so the
  // produce-request sizes can be counted.
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 5, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();

  const consumer = await DiscardingConsumer.start(kafka, topic, `${settings.prefix}-baseline-${codec}`);

  const send = (messages: Message[]) => producer.send({ topic, messages, acks: -1, compression: compressionType(codec) });
  // Warm-up: connections, metadata, JIT.
  for (const batch of batchesOf(settings.batch * 2)) await send(batch.map(playbackEventMessage));
  await consumer.waitFor(settings.batch * 2, 'baseline warm-up');

  const batches = batchesOf(settings.events).map((batch) => batch.map(playbackEventMessage));
  const valueBytes = batches.flat().reduce((sum, message) => sum + Buffer.byteLength(message.value as string), 0);
  consumer.reset();
  const watch = new CpuWatch(pids);
  const started = performance.now();
  await pool(batches, settings.concurrency, async (messages) => {
    await send(messages);
  });
  const produced = performance.now();
  await consumer.waitFor(settings.events, `baseline ${codec}`);
  const finished = performance.now();
  const cpu = watch.stop();
  const { wireBytes } = consumer;

  await consumer.stop();
  await producer.disconnect();
  return {
    produceEps: settings.events / ((produced - started) / 1000),
    endToEndEps: settings.events / ((finished - started) / 1000),
    wireBytesPerEvent: wireBytes / settings.events,
    valueBytesPerEvent: valueBytes / settings.events,
    cpu,
  };
}

/**
 * Proves the codec against the broker's own implementation (lz4-java, zstd-jni): our batches
 * into a topic with compression.type=gzip (Kafka must decompress them to recompress), and plain
 * batches into a topic with compression.type=<codec> (Kafka compresses, we decompress).
 */
export async function checkCodecInterop(kafka: Kafka, codec: Compression, prefix: string, events: readonly PlaybackEvent[]): Promise<string> {
  if (codec === 'none' || codec === 'gzip') return 'built in';
  const admin = kafka.admin();
  await admin.connect();
  const cases: { topicCodec: string; producerCodec: Compression }[] = [
    { topicCodec: 'gzip', producerCodec: codec },
    { topicCodec: codec, producerCodec: 'none' },
  ];
  try {
    for (const { topicCodec, producerCodec } of cases) {
      const topic = topicName(`bench.interop.${producerCodec}-to-${topicCodec}`, prefix);
      await admin.createTopics({
        waitForLeaders: true,
        topics: [{ topic, numPartitions: 1, replicationFactor: -1, configEntries: [{ name: 'compression.type', value: topicCodec }] }],
      });
      const producer = kafka.producer({ idempotent: true, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      await producer.send({ topic, messages: events.map(playbackEventMessage), acks: -1, compression: compressionType(producerCodec) });
      await producer.disconnect();
      const consumer = kafka.consumer({ groupId: `${prefix}-interop-${producerCodec}-${topicCodec}` });
      const seen: string[] = [];
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          seen.push((JSON.parse(message.value!.toString()) as PlaybackEvent).event_id);
        },
      });
      await waitForProgress(() => seen.length >= events.length, () => seen.length, 20_000, `interop ${producerCodec}→${topicCodec}`);
      await consumer.disconnect();
      if (seen.join() !== events.map((event) => event.event_id).join()) {
        throw new Error(`interop ${producerCodec}→${topicCodec}: events differ after the round trip`);
      }
    }
    return `ok with Kafka's ${codec === 'lz4' ? 'lz4-java' : 'zstd-jni'} both ways`;
  } finally {
    await admin.disconnect();
  }
}
