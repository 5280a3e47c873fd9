import { randomUUID } from 'node:crypto';
import { Topics, topicName, VideoHeaders } from '@tributary/contracts';
import { kafkaFor, TopicTap } from './support/video-topics';
import { createDemoStream, findFfmpeg, freePort, startDemoPublisher, startService } from '@tributary/devkit';

/** The npm-start demo source against a real ingest (built) and broker. */
it('creates the demo stream (replacing an earlier one) and publishes the test pattern to video.ingest', async () => {
  const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
  const prefix = `t-${randomUUID().slice(0, 8)}`;
  const port = await freePort();
  const ingest = await startService('ingest', {
    port,
    env: { KAFKA_BROKERS: brokers, TOPIC_PREFIX: prefix, ADMIN_TOKEN: 'demo-token', LOG_LEVEL: 'warn' },
  });
  const tap = await new TopicTap(kafkaFor(brokers), [topicName(Topics.videoIngest, prefix)]).start();
  try {
    const first = await createDemoStream({ ingestUrl: ingest.url, adminToken: 'demo-token' });
    const second = await createDemoStream({ ingestUrl: ingest.url, adminToken: 'demo-token' });
    expect(second.id).toBe('demo');
    expect(second.streamKey).not.toBe(first.streamKey);
    const publisher = startDemoPublisher({ ingestUrl: ingest.url, streamKey: second.streamKey, ffmpegPath: findFfmpeg(), size: '640x360', frameRate: 10 });
    try {
      const chunks = await tap.waitFor((messages) => (messages.filter((m) => m.key === 'demo').length >= 3 ? messages : undefined), 60_000, 'demo chunks');
      expect(chunks[0].headers[VideoHeaders.chunkSequence]).toBe('0');
      expect(chunks[0].value![0]).toBe(0x47);
    } finally {
      await publisher.stop();
    }
  } finally {
    await tap.stop();
    await ingest.stop();
  }
}, 120_000);
