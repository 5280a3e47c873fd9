import { randomUUID } from 'node:crypto';
import { ConsumerGroups, topicName, Topics } from '@tributary/contracts';
import { freePort, type ServiceProcess, SERVICE_NAMES, type ServiceName, startService } from '@tributary/devkit';
import { consumerGroupId, createKafkaClient, fetchTopicOffsetsWithRetry, KafkaConsumerRunner, KafkaProducer, silentLogger } from '@tributary/kafka';
import { consumerLag, registry } from '@tributary/telemetry';
import type { Kafka } from 'kafkajs';
import { type MetricFamily, parsePrometheusText, sampleValue } from './support/prometheus-text';
import { connectClient, kafkaBrokers, makeEvent, postEvents, type RecordingClient, testKafka, uniquePrefix, waitFor, warmUp } from './support/playback-events';

/**
 * `GET /metrics` on every service is valid Prometheus text with the series dashboards use, and
 * consumer lag (committed vs log-end offsets) rises while a consumer is paused and falls after it
 * resumes.
 */

function family(families: MetricFamily[], name: string): MetricFamily {
  const found = families.find((candidate) => candidate.name === name);
  if (!found) throw new Error(`series ${name} missing; have: ${families.map((f) => f.name).join(', ')}`);
  return found;
}

async function scrape(url: string): Promise<{ contentType: string; families: MetricFamily[]; text: string }> {
  const response = await fetch(`${url}/metrics`);
  expect(response.status).toBe(200);
  const text = await response.text();
  return { contentType: response.headers.get('content-type') ?? '', families: parsePrometheusText(text), text };
}

describe('Prometheus metrics on every service', () => {
  const prefix = uniquePrefix('metrics');
  const eventsTopic = topicName(Topics.playbackEvents, prefix);
  const instanceId = `metrics-${randomUUID().slice(0, 8)}`;
  const services = new Map<ServiceName, ServiceProcess>();
  let client: RecordingClient;

  beforeAll(async () => {
    const env = {
      KAFKA_BROKERS: kafkaBrokers(),
      TOPIC_PREFIX: prefix,
      KAFKA_EVENT_PARTITIONS: '2',
      KAFKA_VIDEO_PARTITIONS: '2',
      LOG_LEVEL: 'warn',
      METRICS_KAFKA_LAG_INTERVAL_MS: '500',
      EVENT_GATEWAY_INSTANCE_ID: instanceId,
    };
    // viewer-api first (it creates the topics), then the rest one at a time (2 cores).
    for (const name of ['viewer-api', 'event-gateway', 'ingest', 'transcoder'] as const) {
      const port = await freePort();
      services.set(name, await startService(name, { port, env }));
    }
    client = connectClient(services.get('event-gateway')!.url);
    await client.subscribed;
    await warmUp(services.get('viewer-api')!.url, client, 'metrics-warm-up');
  });

  afterAll(async () => {
    client?.socket.disconnect();
    for (const service of [...services.values()].reverse()) await service.stop();
  });

  it('serves parseable Prometheus text with process, HTTP and Kafka series on all four services', async () => {
    expect(services.size).toBe(SERVICE_NAMES.length);
    for (const [name, service] of services) {
      const { contentType, families } = await scrape(service.url);
      expect(contentType).toMatch(/^text\/plain;.*version=0\.0\.4/);
      for (const series of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes']) {
        expect(family(families, series).samples.length).toBeGreaterThan(0);
      }
      // Every series names its service; labels never carry per-user or per-session ids.
      for (const metricFamily of families) {
        for (const sample of metricFamily.samples) {
          expect(sample.labels.service).toBe(name);
          for (const label of Object.keys(sample.labels)) expect(label).not.toMatch(/session|user|event_id|socket|stream/);
        }
      }
      // The /metrics request just made by the previous scrape, or readyz polled by startService.
      const http = family(families, 'tributary_http_request_duration_seconds');
      expect(http.type).toBe('histogram');
      expect(sampleValue(families, 'tributary_http_request_duration_seconds', { route: '/readyz', method: 'GET', status_class: '2xx' })).toBeGreaterThanOrEqual(1);
    }
  });

  it('counts the event path: HTTP route, Kafka produce/consume, emits, socket clients, consumer lag', async () => {
    const viewerApi = services.get('viewer-api')!;
    const gateway = services.get('event-gateway')!;
    const events = Array.from({ length: 5 }, () => makeEvent('metrics-stream'));
    expect((await postEvents(viewerApi.url, events)).status).toBe(202);
    await postEvents(viewerApi.url, { not: 'an event' });
    await fetch(`${viewerApi.url}/definitely/not/a/route/${randomUUID()}`);
    await waitFor('the events at the socket client', () => events.every((event) => client.ids('metrics-stream').includes(event.event_id)));

    const viewer = (await scrape(viewerApi.url)).families;
    expect(sampleValue(viewer, 'tributary_http_request_duration_seconds', { route: '/v1/events', method: 'POST', status_class: '2xx' })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(viewer, 'tributary_http_request_duration_seconds', { route: '/v1/events', method: 'POST', status_class: '4xx' })).toBeGreaterThanOrEqual(1);
    // Unknown paths collapse into one series (no cardinality explosion from scanners).
    expect(sampleValue(viewer, 'tributary_http_request_duration_seconds', { route: 'unmatched', status_class: '4xx' })).toBeGreaterThanOrEqual(1);
    expect(family(viewer, 'tributary_http_request_duration_seconds').samples.some((sample) => sample.labels.route?.includes('/definitely'))).toBe(false);
    expect(sampleValue(viewer, 'tributary_kafka_produced_messages_total', { topic: eventsTopic })).toBeGreaterThanOrEqual(events.length + 1);
    expect(sampleValue(viewer, 'tributary_kafka_produced_bytes_total', { topic: eventsTopic })).toBeGreaterThan(0);

    const group = consumerGroupId(ConsumerGroups.eventGatewayFanout, prefix, instanceId);
    const gatewayCount = async () => (await scrape(gateway.url)).families;
    let gatewayFamilies = await gatewayCount();
    expect(sampleValue(gatewayFamilies, 'tributary_kafka_consumed_messages_total', { group, topic: eventsTopic })).toBeGreaterThanOrEqual(events.length + 1);
    expect(sampleValue(gatewayFamilies, 'tributary_events_emitted_total', { event: 'playback.event' })).toBeGreaterThanOrEqual(events.length + 1);
    expect(sampleValue(gatewayFamilies, 'tributary_socket_clients', {})).toBe(1);
    // Where the fan-out's time goes: Kafka record timestamp → consumed → written, once per flush.
    expect(sampleValue(gatewayFamilies, 'tributary_fanout_delay_seconds', { stage: 'consumed' })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(gatewayFamilies, 'tributary_fanout_delay_seconds', { stage: 'written' })).toBeGreaterThanOrEqual(1);
    // Lag of the gateway's own group, per partition, back to 0 once everything is consumed.
    const deadline = Date.now() + 20_000;
    for (;;) {
      gatewayFamilies = await gatewayCount();
      const lag = family(gatewayFamilies, 'tributary_kafka_consumer_lag_messages').samples.filter(
        (sample) => sample.labels.group === group && sample.labels.topic === eventsTopic,
      );
      if (lag.length > 0 && lag.every((sample) => sample.value === 0)) break;
      if (Date.now() > deadline) throw new Error(`gateway lag did not settle at 0: ${JSON.stringify(lag)}`);
      await new Promise((wait) => setTimeout(wait, 300));
    }

    // An invalid message on the topic (not through viewer-api) is dead-lettered and counted as dropped.
    const rawProducer = testKafka().producer();
    await rawProducer.connect();
    await rawProducer.send({ topic: eventsTopic, messages: [{ key: 'metrics-stream', value: '{"not":"an event"}' }] });
    await rawProducer.disconnect();
    const droppedBy = Date.now() + 20_000;
    while ((sampleValue(await gatewayCount(), 'tributary_events_dropped_total', { reason: 'invalid' }) ?? 0) < 1) {
      if (Date.now() > droppedBy) throw new Error('tributary_events_dropped_total{reason="invalid"} did not count the invalid message');
      await new Promise((wait) => setTimeout(wait, 200));
    }

    // A second client shows up in the gauge, and leaves it again.
    const second = connectClient(gateway.url);
    await second.subscribed;
    expect(sampleValue(await gatewayCount(), 'tributary_socket_clients', {})).toBe(2);
    second.socket.disconnect();
    const settle = Date.now() + 5_000;
    while (sampleValue(await gatewayCount(), 'tributary_socket_clients', {}) !== 1) {
      if (Date.now() > settle) throw new Error('tributary_socket_clients did not return to 1');
      await new Promise((wait) => setTimeout(wait, 100));
    }
  });
});

describe('consumer lag (KafkaConsumerRunner + the process lag monitor)', () => {
  const topic = `${uniquePrefix('lag')}.lag-probe`;
  const groupId = `lag-probe-${randomUUID().slice(0, 8)}`;
  let kafka: Kafka;
  let producer: KafkaProducer;
  let runner: KafkaConsumerRunner;
  let consumed = 0;

  async function lagNow(): Promise<number> {
    await consumerLag().sampleOnce();
    const families = parsePrometheusText(await registry.metrics());
    const samples = family(families, 'tributary_kafka_consumer_lag_messages').samples.filter(
      (sample) => sample.labels.group === groupId && sample.labels.topic === topic,
    );
    return samples.reduce((sum, sample) => sum + sample.value, 0);
  }

  beforeAll(async () => {
    kafka = createKafkaClient({ brokers: kafkaBrokers().split(','), ssl: false, saslMechanism: 'none', compression: 'none' } as never, 'lag-test', silentLogger);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
    // On a loaded broker the new partitions' leaders can still be unknown ("does not host this topic-partition").
    await fetchTopicOffsetsWithRetry(admin, topic);
    await admin.disconnect();
    producer = new KafkaProducer(kafka, { compression: 'none' });
    await producer.connect();
    runner = new KafkaConsumerRunner(kafka, {
      groupId,
      topics: [topic],
      fromBeginning: true,
      logger: silentLogger,
      eachMessage: () => {
        consumed += 1;
        return Promise.resolve();
      },
    });
    await runner.start();
  });

  afterAll(async () => {
    await runner?.stop();
    await producer?.disconnect();
    await consumerLag().close();
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });

  const send = (count: number) =>
    producer.send(
      topic,
      Array.from({ length: count }, (_, index) => ({ key: `k${index}`, value: `v${index}` })),
    );

  it('rises while the consumer is paused and falls after it resumes', async () => {
    await send(4);
    await waitFor('the first messages to be consumed', () => consumed >= 4);
    const settled = Date.now() + 15_000;
    while ((await lagNow()) !== 0) {
      if (Date.now() > settled) throw new Error('lag did not settle at 0 before pausing');
      await new Promise((wait) => setTimeout(wait, 200));
    }

    runner.consumer.pause([{ topic }]);
    const before = consumed;
    await send(20);
    // The committed offsets stay put while the log end moves on: lag = 20.
    expect(await lagNow()).toBe(20);
    expect(consumed).toBe(before);

    runner.consumer.resume([{ topic }]);
    await waitFor('the backlog to be consumed', () => consumed >= before + 20);
    const drained = Date.now() + 15_000;
    while ((await lagNow()) !== 0) {
      if (Date.now() > drained) throw new Error('lag did not fall back to 0 after resuming');
      await new Promise((wait) => setTimeout(wait, 200));
    }
  });
});
