import { topicSpecs, Topics, testing } from '@tributary/contracts';
import type { DeadLetterPublisher, KafkaConfig, KafkaProducer } from '@tributary/kafka';
import { ReadinessRegistry } from '@tributary/nest-common';
import { TopicNames } from '@tributary/nest-kafka';
import type { EachBatchPayload, Kafka, KafkaMessage, Message } from 'kafkajs';
import pino from 'pino';
import { Registry } from 'prom-client';
import { batchBySize, messageBytes } from './snapshot-batches';
import { StatsProcessor } from './stats-processor';
import type { StatsConfig } from './stats.config';

/** The broker's limit for one record batch on playback.stats (what a too-large send is refused for). */
const STATS_TOPIC_MAX_BYTES = Number(topicSpecs().find((spec) => spec.name === Topics.playbackStats)!.configs['max.message.bytes']);

function processorWith(sends: Message[][], sendMaxBytes = 512 * 1024): StatsProcessor {
  const config: StatsConfig = { consumerGroup: undefined, emitIntervalMs: 2_000, allowedLatenessMs: 30_000, catchUpTimeoutMs: 0, sendMaxBytes, fetchMinBytes: 64 * 1024, fetchMaxWaitMs: 50 };
  const producer = {
    send: (_topic: string, messages: Message[]) => {
      sends.push(messages);
      return Promise.resolve([]);
    },
  } as unknown as KafkaProducer;
  return new StatsProcessor(
    config,
    {} as Kafka,
    { topicPrefix: '' } as KafkaConfig,
    pino({ level: 'silent' }),
    new Registry(),
    producer,
    {} as DeadLetterPublisher,
    new ReadinessRegistry(),
    new TopicNames(''),
  );
}

describe(StatsProcessor.name, () => {
  const now = Date.parse('2026-11-22T10:00:10.000Z');

  it('writes the snapshots of a partition carrying 10,000 streams in several sends, each under max.message.bytes', async () => {
    const sends: Message[][] = [];
    const processor = processorWith(sends);
    for (let i = 0; i < 10_000; i += 1) {
      processor.aggregator.add(testing.validPlaybackEvent({ event_id: `e-${i}`, stream_id: `stream-${i}`, ts: '2026-11-22T10:00:05.000Z' }), now);
    }
    const snapshots = await processor.emit(now);
    expect(snapshots).toHaveLength(10_000);
    const total = sends.flat().reduce((sum, message) => sum + messageBytes(message), 0);
    // One send would not have fit: that is what this guards against.
    expect(total).toBeGreaterThan(STATS_TOPIC_MAX_BYTES);
    expect(sends.length).toBeGreaterThan(1);
    for (const send of sends) {
      expect(send.reduce((sum, message) => sum + messageBytes(message), 0)).toBeLessThanOrEqual(512 * 1024);
    }
    expect(new Set(sends.flat().map((message) => String(message.key))).size).toBe(10_000);
  });

  it('forgets streams that left the horizon, also from its per-partition bookkeeping', async () => {
    const sends: Message[][] = [];
    const processor = processorWith(sends);
    const ts = new Date().toISOString();
    const messages: KafkaMessage[] = Array.from({ length: 10_000 }, (_, i) => ({
      key: Buffer.from(`stream-${i}`),
      value: Buffer.from(JSON.stringify(testing.validPlaybackEvent({ event_id: `e-${i}`, stream_id: `stream-${i}`, ts }))),
      headers: {},
      offset: String(i),
      timestamp: String(Date.now()),
      attributes: 0,
    }));
    const payload = {
      batch: { topic: Topics.playbackEvents, partition: 0, messages, firstOffset: () => '0', lastOffset: () => String(messages.length - 1) },
      isRunning: () => true,
      isStale: () => false,
      resolveOffset: () => undefined,
      heartbeat: () => Promise.resolve(),
    } as unknown as EachBatchPayload;
    await (processor as unknown as { onBatch(payload: EachBatchPayload): Promise<void> }).onBatch(payload);
    expect(processor.aggregator.streamIds).toHaveLength(10_000);
    expect(processor.trackedStreams).toBe(10_000);
    // Long after the streams ended: everything is past the horizon.
    await processor.emit(Date.now() + 60 * 60 * 1000);
    expect(processor.aggregator.streamIds).toHaveLength(0);
    expect(processor.trackedStreams).toBe(0);
  });
});

describe(batchBySize.name, () => {
  const message = (key: string, bytes: number): Message => ({ key, value: Buffer.alloc(bytes, 0x61) });

  it('keeps the order and puts every message in exactly one batch under the limit', () => {
    const messages = Array.from({ length: 100 }, (_, i) => message(`k${i}`, 900 + i));
    const { batches, oversized } = batchBySize(messages, 10_000);
    expect(oversized).toEqual([]);
    expect(batches.flat()).toEqual(messages);
    for (const batch of batches) expect(batch.reduce((sum, m) => sum + messageBytes(m), 128)).toBeLessThanOrEqual(10_000);
    expect(batches.length).toBeGreaterThan(9);
  });

  it('sets aside a message that alone exceeds the limit instead of failing the others', () => {
    const { batches, oversized } = batchBySize([message('a', 10), message('huge', 20_000), message('b', 10)], 10_000);
    expect(oversized.map((m) => m.key)).toEqual(['huge']);
    expect(batches.flat().map((m) => m.key)).toEqual(['a', 'b']);
  });
});
