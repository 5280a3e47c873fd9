import { Headers as KafkaHeaders, PLAYBACK_EVENT_SCHEMA_ID, type PlaybackEvent, type PlaybackStats, topicName, Topics } from '@tributary/contracts';
import { freePort, type ServiceProcess, startService } from '@tributary/devkit';
import type { Kafka } from 'kafkajs';
import { VideoFixture } from './support/video-fixture';
import { kafkaBrokers, makeEvent, postEvents, readTopic, testKafka, uniquePrefix } from './support/playback-events';

/**
 * Analytics end to end with the built services and a real broker: events POSTed to viewer-api →
 * stats processor (event-gateway, group stats-processor) → playback.stats → viewer-api
 * GET /v1/streams/:id/stats; CMCD on HLS requests → `source: "cmcd"` events; the published
 * schema; invalid events dead-lettered by the stats processor; a restart that does not double-count.
 */
describe('playback analytics end to end', () => {
  const prefix = uniquePrefix('analytics');
  const eventsTopic = topicName(Topics.playbackEvents, prefix);
  let kafka: Kafka;
  let viewerApi: ServiceProcess;
  let gateway: ServiceProcess;
  let gatewayEnv: Record<string, string>;
  let gatewayPort: number;

  async function stats(streamId: string): Promise<{ status: number; body: PlaybackStats }> {
    const response = await fetch(`${viewerApi.url}/v1/streams/${streamId}/stats`);
    return { status: response.status, body: (await response.json()) as PlaybackStats };
  }

  async function waitForStats(streamId: string, what: string, check: (s: PlaybackStats) => boolean, timeoutMs = 30_000): Promise<PlaybackStats> {
    let last: PlaybackStats | undefined;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const response = await stats(streamId);
      if (response.status === 200) {
        last = response.body;
        if (check(last)) return last;
      }
      await new Promise((wait) => setTimeout(wait, 200));
    }
    throw new Error(`timed out waiting for ${what}; last stats: ${JSON.stringify(last)}`);
  }

  beforeAll(async () => {
    kafka = testKafka();
    const env = { KAFKA_BROKERS: kafkaBrokers(), TOPIC_PREFIX: prefix, KAFKA_EVENT_PARTITIONS: '3', LOG_LEVEL: 'warn' };
    const viewerPort = await freePort();
    viewerApi = await startService('viewer-api', { port: viewerPort, env: env });
    gatewayPort = await freePort();
    gatewayEnv = { ...env, STATS_EMIT_INTERVAL_MS: '300' };
    gateway = await startService('event-gateway', { port: gatewayPort, env: gatewayEnv });
  });

  afterAll(async () => {
    await gateway?.stop();
    await viewerApi?.stop();
  });

  it('publishes the event schema (the validator’s own JSON Schema)', async () => {
    const response = await fetch(`${viewerApi.url}/v1/events/schema`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/schema\+json/);
    const schema = (await response.json()) as { $id: string; properties: Record<string, unknown>; required: string[] };
    expect(schema.$id).toBe(PLAYBACK_EVENT_SCHEMA_ID);
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['event_id', 'stream_id', 'object_type', 'buffer_length_ms']));
    expect(schema.required).toContain('session_id');
  });

  it('turns posted events into per-stream statistics served by GET /v1/streams/:id/stats', async () => {
    const streamId = 'stats-a';
    const now = Date.now();
    const at = (offsetMs: number) => new Date(now + offsetMs).toISOString();
    const events: PlaybackEvent[] = [];
    for (const [index, device] of (['web', 'tv', 'mobile'] as const).entries()) {
      const session = `viewer-${index}`;
      events.push(
        makeEvent(streamId, { session_id: session, device, event_type: 'play', bitrate_kbps: 0, ts: at(-5000) }),
        makeEvent(streamId, { session_id: session, device, event_type: 'position', bitrate_kbps: 2000 * (index + 1), ts: at(-4000 + index * 500) }),
      );
    }
    expect((await postEvents(viewerApi.url, events)).status).toBe(202);

    const result = await waitForStats(streamId, '3 active viewers', (s) => s.active_viewers === 3 && s.windows[1].events === 6);
    expect(result.active_viewers_by_device).toEqual({ web: 1, tv: 1, mobile: 1 });
    const minute = result.windows[1];
    expect(minute.plays_started).toBe(3);
    expect(minute.bitrate.avg_kbps).toBe(4000);
    // startups: 1000, 1500, 2000 ms
    expect(minute.startup).toEqual({ samples: 3, p50_ms: 1500, p95_ms: 2000 });

    expect((await stats('no-such-stream')).status).toBe(404);
    expect((await stats('Bad_Id')).status).toBe(400);

    // The stream catalogue shows the same live viewer count once the stream is registered.
    const fixture = new VideoFixture(kafkaBrokers().split(','), prefix);
    await fixture.connect();
    try {
      await fixture.register(streamId);
    } finally {
      await fixture.disconnect();
    }
    let listed: { viewers?: number | null } = {};
    const deadline = Date.now() + 20_000;
    while (listed.viewers !== 3 && Date.now() < deadline) {
      const response = await fetch(`${viewerApi.url}/v1/streams/${streamId}`);
      if (response.ok) listed = (await response.json()) as { viewers?: number | null };
      if (listed.viewers !== 3) await new Promise((wait) => setTimeout(wait, 200));
    }
    expect(listed.viewers).toBe(3);
  }, 60_000);

  it('turns hls.js-format CMCD on playlist and segment requests into cmcd events, and never fails a request for bad CMCD', async () => {
    const streamId = 'cmcd-a';
    const sid = `sid-${prefix}`;
    const payload = `bl=8400,br=2400,d=2000,mtp=31500,ot=v,pr=1,sf=h,sid="${sid}",st=l,su`;
    const plain = await fetch(`${viewerApi.url}/live/${streamId}/720p/7.ts`);
    const withCmcd = await fetch(`${viewerApi.url}/live/${streamId}/720p/7.ts?CMCD=${encodeURIComponent(payload)}`);
    // Same answer with and without CMCD (the stream does not exist: whatever the HLS route says).
    expect(withCmcd.status).toBe(plain.status);
    const playlist = await fetch(`${viewerApi.url}/live/${streamId}/720p/index.m3u8`, {
      headers: { 'CMCD-Request': 'bl=9000,mtp=30000', 'CMCD-Object': 'br=2400,ot=m', 'CMCD-Session': `sid="${sid}",sf=h` },
    });
    expect(playlist.status).toBe(plain.status);
    const malformed = await fetch(`${viewerApi.url}/live/${streamId}/720p/8.ts?CMCD=${encodeURIComponent('br="x,sid=')}`);
    expect(malformed.status).toBe(plain.status);

    let cmcd: PlaybackEvent[] = [];
    const deadline = Date.now() + 20_000;
    while (cmcd.length < 2 && Date.now() < deadline) {
      const records = await readTopic(kafka, eventsTopic);
      cmcd = records
        .filter((r) => r.key === streamId)
        .map((r) => JSON.parse(r.value!) as PlaybackEvent)
        .filter((e) => e.source === 'cmcd');
      if (cmcd.length < 2) await new Promise((wait) => setTimeout(wait, 300));
    }
    expect(cmcd).toHaveLength(2); // the malformed request produced nothing
    expect(cmcd[0]).toMatchObject({
      session_id: sid,
      stream_id: streamId,
      event_type: 'play',
      bitrate_kbps: 2400,
      buffer_length_ms: 8400,
      throughput_kbps: 31500,
      object_type: 'v',
      source: 'cmcd',
    });
    expect(cmcd[1]).toMatchObject({ event_type: 'position', buffer_length_ms: 9000, object_type: 'm' });

    const metrics = await (await fetch(`${viewerApi.url}/metrics`)).text();
    expect(metrics).toMatch(/tributary_cmcd_requests_total\{[^}]*outcome="malformed"[^}]*\} 1/);
  }, 60_000);

  it('dead-letters an invalid event with the reason and keeps counting the valid ones', async () => {
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: eventsTopic, messages: [{ key: 'dlq-a', value: '{"event_type":"play"}' }] });
    await producer.disconnect();
    const dlq = topicName(`${Topics.playbackEvents}.dlq`, prefix);
    let records: Awaited<ReturnType<typeof readTopic>> = [];
    const deadline = Date.now() + 30_000;
    while (!records.some((r) => r.headers[KafkaHeaders.deadLetterConsumerGroup] === `${prefix}.stats-processor`) && Date.now() < deadline) {
      records = await readTopic(kafka, dlq).catch(() => []);
      await new Promise((wait) => setTimeout(wait, 300));
    }
    const ours = records.find((r) => r.headers[KafkaHeaders.deadLetterConsumerGroup] === `${prefix}.stats-processor`);
    expect(ours?.value).toBe('{"event_type":"play"}');
    expect(ours?.headers[KafkaHeaders.deadLetterReason]).toMatch(/invalid playback event: .*is required/);
  }, 70_000);

  it('rebuilds the window after a restart without double-counting', async () => {
    const streamId = 'restart-a';
    const events = Array.from({ length: 20 }, (_, i) => makeEvent(streamId, { session_id: `r-${i % 4}`, ts: new Date(Date.now() - 3000 + i * 100).toISOString() }));
    expect((await postEvents(viewerApi.url, events)).status).toBe(202);
    await waitForStats(streamId, '20 events', (s) => s.windows[1].events === 20 && s.active_viewers === 4);

    await gateway.stop();
    const restartedAt = new Date().toISOString();
    gateway = await startService('event-gateway', { port: gatewayPort, env: gatewayEnv });
    const after = await waitForStats(streamId, 'a snapshot from the restarted processor', (s) => s.generated_at > restartedAt);
    expect(after.windows[1].events).toBe(20);
    expect(after.windows[1].sessions).toBe(4);
    // And it keeps counting new events exactly once.
    expect((await postEvents(viewerApi.url, [makeEvent(streamId, { session_id: 'r-new' })])).status).toBe(202);
    const more = await waitForStats(streamId, '21 events', (s) => s.windows[1].events >= 21);
    expect(more.windows[1].events).toBe(21);
    expect(more.windows[1].sessions).toBe(5);
  }, 90_000);
});
