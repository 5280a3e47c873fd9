import { type PlaybackStats, topicName, Topics } from '@tributary/contracts';
import { freePort, type ServiceProcess, startService } from '@tributary/devkit';
import type { Kafka } from 'kafkajs';
import { connectClient, kafkaBrokers, makeEvent, postEvents, readTopic, type RecordingClient, testKafka, uniquePrefix, warmUp } from './support/playback-events';

/**
 * EVENT_GATEWAY_ROLES with the built services and a real broker: a `stats`-only event-gateway runs
 * the stats processor (group `<prefix>.stats-processor`) and serves no Socket.IO; a `fanout`-only one
 * serves `/playback` (events, and the statistics the other one wrote to playback.stats) without
 * running the stats processor. This is how the chart scales the stats processor on its own lag.
 */
describe('event-gateway roles end to end', () => {
  const prefix = uniquePrefix('roles');
  let kafka: Kafka;
  let viewerApi: ServiceProcess;
  let statsOnly: ServiceProcess;
  let fanoutOnly: ServiceProcess;
  const clients: RecordingClient[] = [];

  beforeAll(async () => {
    kafka = testKafka();
    const env = { KAFKA_BROKERS: kafkaBrokers(), TOPIC_PREFIX: prefix, KAFKA_EVENT_PARTITIONS: '3', LOG_LEVEL: 'warn' };
    const viewerPort = await freePort();
    viewerApi = await startService('viewer-api', { port: viewerPort, env: env });
    const statsPort = await freePort();
    statsOnly = await startService('event-gateway', {
      port: statsPort,
      env: { ...env, EVENT_GATEWAY_ROLES: 'stats', STATS_EMIT_INTERVAL_MS: '300' },
    });
    const fanoutPort = await freePort();
    fanoutOnly = await startService('event-gateway', {
      port: fanoutPort,
      env: { ...env, EVENT_GATEWAY_ROLES: 'fanout' },
    });
  }, 180_000);

  afterAll(async () => {
    for (const client of clients) client.socket.disconnect();
    await fanoutOnly?.stop();
    await statsOnly?.stop();
    await viewerApi?.stop();
  });

  it('a stats-only gateway serves health and metrics but no Socket.IO and no dashboard', async () => {
    expect((await fetch(`${statsOnly.url}/readyz`)).status).toBe(200);
    expect((await fetch(`${statsOnly.url}/socket.io/?EIO=4&transport=polling`)).status).toBe(404);
    expect((await fetch(`${statsOnly.url}/`)).status).toBe(404);
    const refused = connectClient(statsOnly.url);
    clients.push(refused);
    await expect(refused.subscribed).rejects.toThrow();
    expect(refused.socket.connected).toBe(false);

    // The fan-out one does serve them.
    expect((await fetch(`${fanoutOnly.url}/socket.io/?EIO=4&transport=polling`)).status).toBe(200);
    expect((await fetch(`${fanoutOnly.url}/`)).status).toBe(200);
  });

  it('the stats-only gateway computes statistics; the fanout-only one delivers events and those statistics to sockets', async () => {
    const client = connectClient(fanoutOnly.url);
    clients.push(client);
    await client.subscribed;
    await warmUp(viewerApi.url, client);
    const streamId = 'roles-a';
    const statsSeen: PlaybackStats[] = [];
    client.socket.on('playback.stats', (stats) => statsSeen.push(stats));

    const events = [0, 1, 2].map((i) => makeEvent(streamId, { session_id: `roles-viewer-${i}`, event_type: 'play', ts: new Date(Date.now() - 2000 + i * 100).toISOString() }));
    expect((await postEvents(viewerApi.url, events)).status).toBe(202);

    // Events reach the socket through the fanout-only gateway.
    const deadline = Date.now() + 30_000;
    while (client.ids(streamId).length < 3 && Date.now() < deadline) await new Promise((wait) => setTimeout(wait, 100));
    expect(client.ids(streamId).sort()).toEqual(events.map((e) => e.event_id).sort());

    // Statistics for the stream reach the same socket: written to playback.stats by the stats-only gateway.
    while (!statsSeen.some((s) => s.stream_id === streamId && s.active_viewers === 3) && Date.now() < deadline + 30_000) {
      await new Promise((wait) => setTimeout(wait, 100));
    }
    expect(statsSeen.find((s) => s.stream_id === streamId && s.active_viewers === 3)).toBeDefined();
    const onTopic = (await readTopic(kafka, topicName(Topics.playbackStats, prefix))).filter((record) => record.key === streamId);
    expect(onTopic.length).toBeGreaterThan(0);

    // Only the stats-only process runs the stats processor (its metrics exist only where it runs) …
    const statsMetrics = await (await fetch(`${statsOnly.url}/metrics`)).text();
    expect(statsMetrics).toMatch(/^tributary_stats_events_total\{[^}]*result="applied"[^}]*\} [1-9]/m);
    const fanoutMetrics = await (await fetch(`${fanoutOnly.url}/metrics`)).text();
    expect(fanoutMetrics).not.toMatch(/^tributary_stats_/m);

    // … and it is the one member of the stats-processor group.
    const admin = kafka.admin();
    await admin.connect();
    try {
      const { groups } = await admin.describeGroups([`${prefix}.stats-processor`]);
      expect(groups[0].state).toBe('Stable');
      expect(groups[0].members).toHaveLength(1);
    } finally {
      await admin.disconnect();
    }
  }, 90_000);
});
