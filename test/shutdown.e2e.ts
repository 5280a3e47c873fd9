import { randomUUID } from 'node:crypto';
import { ConsumerGroups, topicName, Topics } from '@tributary/contracts';
import { consumerGroupId } from '@tributary/kafka';
import { freePort, type LocalKafka, type ServiceProcess, startLocalKafka, startService } from '@tributary/devkit';
import {
  connectClient,
  kafkaBrokers,
  makeEvent,
  postEvents,
  readTopic,
  testKafka,
  uniquePrefix,
  waitFor,
} from './support/playback-events';

/** Graceful shutdown of the playback-event path: nothing answered 202 is lost, consumers leave. */
describe('playback event services on SIGTERM', () => {
  it('viewer-api: every event answered 202 is on the topic; new requests fail after SIGTERM', async () => {
    const prefix = uniquePrefix('shutdown-api');
    const port = await freePort();
    const viewerApi = await startService('viewer-api', {
      port,
      env: { KAFKA_BROKERS: kafkaBrokers(), TOPIC_PREFIX: prefix, KAFKA_EVENT_PARTITIONS: '3', LOG_LEVEL: 'warn' },
    });
    const accepted = new Set<string>();
    const refusedAfterStop: string[] = [];
    const otherAnswers: string[] = [];
    let stopping = false;
    let stopped = false;

    // Four clients post batches back to back, before, during and after the shutdown.
    const poster = async (worker: number): Promise<void> => {
      let failuresAfterExit = 0;
      while (failuresAfterExit < 3) {
        const events = Array.from({ length: 5 }, () => makeEvent(`shutdown-${worker}`));
        const sentDuringStop = stopping;
        try {
          const response = await postEvents(viewerApi.url, events);
          if (response.status === 202) {
            for (const event of events) accepted.add(event.event_id);
          } else {
            otherAnswers.push(`${response.status} ${JSON.stringify(response.body)}`);
            if (!sentDuringStop) throw new Error(`unexpected answer before SIGTERM: ${response.status}`);
          }
        } catch (error) {
          if (!sentDuringStop) throw error;
          refusedAfterStop.push(String((error as Error).cause ?? error));
          if (stopped) failuresAfterExit += 1;
          await new Promise((wait) => setTimeout(wait, 20));
        }
      }
    };
    const posters = [0, 1, 2, 3].map(poster);
    await waitFor('some accepted events', () => accepted.size >= 200);

    stopping = true;
    const acceptedAtSigterm = accepted.size;
    const logBeforeStop = viewerApi.output().length;
    const exit = viewerApi.stop(30_000);
    const code = await exit;
    stopped = true;
    await Promise.all(posters);

    // A graceful exit: Nest re-raises SIGTERM after closing, or exits 0; never SIGKILL.
    expect(viewerApi.child.signalCode === 'SIGTERM' || code === 0).toBe(true);
    // Nothing went wrong while shutting down (start-up noise of other modules is not our business).
    expect(viewerApi.output().slice(logBeforeStop)).not.toMatch(/"level":"(error|fatal)"/);
    expect(acceptedAtSigterm).toBeGreaterThan(0);
    // New requests after the process is gone fail; nothing else was answered but 202 or a refusal.
    expect(refusedAfterStop.length).toBeGreaterThanOrEqual(12);
    for (const answer of otherAnswers) expect(answer).toMatch(/^503 /);

    const kafka = testKafka();
    const onTopic = new Set(
      (await readTopic(kafka, topicName(Topics.playbackEvents, prefix))).map((record) => (JSON.parse(record.value ?? '{}') as { event_id: string }).event_id),
    );
    const lost = [...accepted].filter((id) => !onTopic.has(id));
    expect(lost).toEqual([]);
  });

  it('event-gateway: exits cleanly, disconnects its clients and leaves its consumer group', async () => {
    const prefix = uniquePrefix('shutdown-gw');
    const instanceId = `shutdown-${randomUUID().slice(0, 8)}`;
    const groupId = consumerGroupId(ConsumerGroups.eventGatewayFanout, prefix, instanceId);
    const env = { KAFKA_BROKERS: kafkaBrokers(), TOPIC_PREFIX: prefix, KAFKA_EVENT_PARTITIONS: '3', LOG_LEVEL: 'warn' };
    const apiPort = await freePort();
    const viewerApi = await startService('viewer-api', { port: apiPort, env: env });
    const port = await freePort();
    const gateway = await startService('event-gateway', {
      port,
      env: { ...env, EVENT_GATEWAY_INSTANCE_ID: instanceId },
    });
    const kafka = testKafka();
    const admin = kafka.admin();
    await admin.connect();
    try {
      const before = await admin.describeGroups([groupId]);
      expect(before.groups[0]).toMatchObject({ groupId, state: 'Stable' });
      expect(before.groups[0]?.members).toHaveLength(1);

      const client = connectClient(gateway.url);
      await client.subscribed;
      const disconnected = new Promise<string>((resolve) => client.socket.on('disconnect', resolve));
      // Events keep flowing while the gateway shuts down.
      let posting = true;
      const poster = (async () => {
        while (posting) {
          await postEvents(viewerApi.url, [makeEvent('gateway-shutdown')]);
          await new Promise((wait) => setTimeout(wait, 10));
        }
      })();
      await new Promise((wait) => setTimeout(wait, 500));

      const logBeforeStop = gateway.output().length;
      const code = await gateway.stop(30_000);
      posting = false;
      await poster;
      expect(gateway.child.signalCode === 'SIGTERM' || code === 0).toBe(true);
      expect(gateway.output().slice(logBeforeStop)).not.toMatch(/"level":"(error|fatal)"/);
      expect(await disconnected).toMatch(/server|transport close/);
      client.socket.disconnect();

      const after = await admin.describeGroups([groupId]);
      expect(after.groups[0]?.members).toEqual([]);
      expect(['Empty', 'Dead']).toContain(after.groups[0]?.state);
    } finally {
      await admin.disconnect();
      await gateway.kill();
      await viewerApi.stop();
    }
  });
});

/**
 * Bounded shutdown: with the broker already gone (SIGKILLed — a broker of this test's own, never
 * the shared one), every service still exits within 20 s of SIGTERM (SHUTDOWN_TIMEOUT_MS, 15 s by
 * default, bounds the flush/commit/leave steps that would otherwise retry for a minute).
 */
describe('every service on SIGTERM after the broker died', () => {
  let kafka: LocalKafka | undefined;
  const services: ServiceProcess[] = [];

  afterAll(async () => {
    await Promise.all(services.map((service) => service.kill()));
    await kafka?.stop();
  });

  it('exits within 20 s', async () => {
    kafka = await startLocalKafka({ heapMb: 384 });
    const prefix = uniquePrefix('shutdown-dead-broker');
    const common = { KAFKA_BROKERS: kafka.brokers, TOPIC_PREFIX: prefix, LOG_LEVEL: 'warn', KAFKA_EVENT_PARTITIONS: '1', KAFKA_VIDEO_PARTITIONS: '1' };
    // ingest first: it creates the topics.
    for (const name of ['ingest', 'transcoder', 'viewer-api', 'event-gateway'] as const) {
      const port = await freePort();
      const env = { ...common, TRANSCODER_GROUP_ID: `${prefix}-transcoder`, EVENTS_MAX_IN_FLIGHT_BYTES: '1024' };
      services.push(await startService(name, { port, env, readyTimeoutMs: 120_000 }));
    }
    // Some work in flight: events posted (so producers have something to flush).
    expect((await postEvents(services[2].url, [makeEvent('dead-broker')])).status).toBe(202);

    process.kill(-kafka.pid, 'SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 1_000));

    // Admission control (EVENTS_MAX_IN_FLIGHT_BYTES=1024): a batch stuck on the dead broker holds
    // the budget; the next one is refused at once with 503 + Retry-After instead of queueing.
    const viewerUrl = services[2].url;
    const stuck = postEvents(viewerUrl, Array.from({ length: 8 }, () => makeEvent('dead-broker'))).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const askedAt = Date.now();
    const refused = await fetch(`${viewerUrl}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([makeEvent('dead-broker')]),
    });
    expect(Date.now() - askedAt).toBeLessThan(1_000);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(((await refused.json()) as { message: string }).message).toMatch(/too many events in flight to Kafka/);

    void stuck;
    const started = Date.now();
    const exits = await Promise.all(
      services.map(async (service) => {
        // stop() would SIGKILL after its timeout: give it more than the bound, and measure.
        const code = await service.stop(40_000);
        return { name: service.name, ms: Date.now() - started, code, signal: service.child.signalCode };
      }),
    );
    for (const exit of exits) {
      expect({ ...exit, within20s: exit.ms < 20_000 }).toMatchObject({ within20s: true });
      expect(exit.signal).not.toBe('SIGKILL');
    }
    // The watchdog says why it exited, so an operator knows what happened.
    const watchdogLines = services.filter((service) => /graceful shutdown did not finish in time/.test(service.output()));
    expect(watchdogLines.length + exits.filter((exit) => exit.code === 0 || exit.signal === 'SIGTERM').length).toBeGreaterThanOrEqual(services.length);
  }, 300_000);
});
