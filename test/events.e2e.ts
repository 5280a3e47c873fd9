import { connect as connectTcp } from 'node:net';
import { ConsumerGroups, groupName, Headers as KafkaHeaders, PLAYBACK_EVENT_SCHEMA_ID, type PlaybackEvent, topicName, Topics } from '@tributary/contracts';
import { freePort, type ServiceProcess, startService } from '@tributary/devkit';
import type { Kafka } from 'kafkajs';
import {
  connectClient,
  kafkaBrokers,
  makeEvent,
  postEvents,
  readTopic,
  type RecordingClient,
  testKafka,
  uniquePrefix,
  waitFor,
  warmUp,
} from './support/playback-events';

/**
 * The playback-event path end to end: HTTP → viewer-api → Kafka → event-gateway → Socket.IO,
 * with real services (built), a real broker and real socket.io clients.
 */
describe('playback events end to end', () => {
  const prefix = uniquePrefix('events');
  const eventsTopic = topicName(Topics.playbackEvents, prefix);
  let kafka: Kafka;
  let viewerApi: ServiceProcess;
  let gateway: ServiceProcess;
  const clients: RecordingClient[] = [];

  function client(auth?: Record<string, unknown>): RecordingClient {
    const recording = connectClient(gateway.url, auth);
    clients.push(recording);
    return recording;
  }

  beforeAll(async () => {
    kafka = testKafka();
    const env = { KAFKA_BROKERS: kafkaBrokers(), TOPIC_PREFIX: prefix, KAFKA_EVENT_PARTITIONS: '3', LOG_LEVEL: 'warn' };
    // viewer-api first: it creates the topics the gateway subscribes to.
    const viewerPort = await freePort();
    viewerApi = await startService('viewer-api', { port: viewerPort, env: env });
    const gatewayPort = await freePort();
    gateway = await startService('event-gateway', { port: gatewayPort, env: env });
    const first = client();
    await first.subscribed;
    await warmUp(viewerApi.url, first);
  });

  afterAll(async () => {
    for (const recording of clients) recording.socket.disconnect();
    await gateway?.stop();
    await viewerApi?.stop();
  });

  it('delivers exactly the posted events to a client, in per-stream order, with their Kafka position', async () => {
    const watcher = client();
    expect(await watcher.subscribed).toEqual({ all: true, streamIds: [] });
    const streams = ['order-a', 'order-b', 'order-c'];
    const posted: PlaybackEvent[] = [];
    for (let batch = 0; batch < 6; batch += 1) {
      const events = Array.from({ length: 10 }, (_, i) => makeEvent(streams[(batch + i) % streams.length]));
      const response = await postEvents(viewerApi.url, events);
      expect(response).toMatchObject({ status: 202, body: { accepted: 10 } });
      posted.push(...events);
    }
    // A single object is a batch of one.
    const single = makeEvent('order-a', { event_type: 'pause' });
    expect(await postEvents(viewerApi.url, single)).toMatchObject({ status: 202, body: { accepted: 1 } });
    posted.push(single);

    const ours = () => watcher.messages.filter((m) => streams.includes(m.event.stream_id));
    await waitFor('all posted events', () => ours().length >= posted.length);
    await new Promise((settle) => setTimeout(settle, 500)); // any duplicate would arrive now
    expect(ours()).toHaveLength(posted.length);
    for (const stream of streams) {
      expect(watcher.ids(stream)).toEqual(posted.filter((e) => e.stream_id === stream).map((e) => e.event_id));
    }
    const byId = new Map(ours().map((m) => [m.event.event_id, m]));
    for (const event of posted) expect(byId.get(event.event_id)?.event).toEqual(event);
    for (const message of ours()) {
      expect(message.position.partition).toEqual(expect.any(Number));
      expect(message.position.offset).toMatch(/^\d+$/);
    }
  });

  it('coalesces events into playback.events packets (fewer packets than events), concurrent POSTs included, keeping per-stream order', async () => {
    const batched = client({ streamId: ['batch-a', 'batch-b'] });
    const single = client({ streamId: ['batch-a', 'batch-b'], format: 'single' });
    await Promise.all([batched.subscribed, single.subscribed]);
    const requests = Array.from({ length: 4 }, (_, r) => Array.from({ length: 50 }, (_, i) => makeEvent(i % 2 === 0 ? 'batch-a' : 'batch-b', { session_id: `r${r}` })));
    // Concurrent requests: viewer-api may carry them in one produce; each still gets its 202.
    const responses = await Promise.all(requests.map((events) => postEvents(viewerApi.url, events)));
    expect(responses.map((r) => r.status)).toEqual([202, 202, 202, 202]);
    const posted = requests.flat();
    await waitFor('every event at both clients', () => batched.messages.length >= posted.length && single.messages.length >= posted.length);
    await new Promise((settle) => setTimeout(settle, 300));
    for (const recording of [batched, single]) {
      expect(recording.messages).toHaveLength(posted.length);
      for (const stream of ['batch-a', 'batch-b']) {
        // Per stream: each request's events in request order (requests may interleave).
        for (const events of requests) {
          const ids = new Set(events.filter((e) => e.stream_id === stream).map((e) => e.event_id));
          expect(recording.ids(stream).filter((id) => ids.has(id))).toEqual([...ids]);
        }
      }
    }
    expect(batched.packets['playback.event']).toBe(0);
    expect(batched.packets['playback.events']).toBeLessThan(posted.length / 4);
    // The simple client: one playback.event per event, the same messages.
    expect(single.packets['playback.events']).toBe(0);
    expect(single.packets['playback.event']).toBe(posted.length);
    expect(single.messages).toEqual(expect.arrayContaining(batched.messages));
  });

  it('refuses an unknown delivery format at the handshake with an error, and sends batches', async () => {
    const odd = client({ streamId: 'format-x', format: 'xml' });
    await odd.subscribed;
    await waitFor('the error', () => odd.errors.length > 0);
    expect(odd.errors[0]).toMatchObject({ code: 'invalid_request', during: 'handshake', message: expect.stringMatching(/format must be one of batch, single/) });
    const event = makeEvent('format-x');
    expect((await postEvents(viewerApi.url, event)).status).toBe(202);
    await waitFor('the event', () => odd.ids('format-x').includes(event.event_id));
    expect(odd.packets['playback.events']).toBe(1);
  });

  it('writes each accepted event keyed by stream id with schema, content type and W3C trace context headers', async () => {
    const events = [makeEvent('headers-a'), makeEvent('headers-b')];
    expect((await postEvents(viewerApi.url, events)).status).toBe(202);
    const records = (await readTopic(kafka, eventsTopic)).filter((r) => r.key?.startsWith('headers-'));
    expect(records.map((r) => JSON.parse(r.value ?? '') as PlaybackEvent)).toEqual(expect.arrayContaining(events));
    for (const record of records) {
      expect(record.key).toBe((JSON.parse(record.value ?? '') as PlaybackEvent).stream_id);
      expect(record.headers[KafkaHeaders.schema]).toBe(PLAYBACK_EVENT_SCHEMA_ID);
      expect(record.headers[KafkaHeaders.contentType]).toBe('application/json');
      expect(record.headers[KafkaHeaders.traceparent]).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[0-9a-f]$/);
    }
  });

  it('gives a client subscribed to one stream none of the others, by handshake or by subscribe', async () => {
    const onlyA = client({ streamId: 'filter-a' });
    expect(await onlyA.subscribed).toEqual({ all: false, streamIds: ['filter-a'] });
    const onlyB = client({ streamId: ['filter-b'] });
    await onlyB.subscribed;
    const bySubscribe = client();
    await bySubscribe.subscribed;
    const ack = await bySubscribe.socket.emitWithAck('subscribe', { streamId: 'filter-b' });
    expect(ack).toEqual({ ok: true, subscriptions: { all: false, streamIds: ['filter-b'] } });
    const everything = client();
    await everything.subscribed;

    const events = Array.from({ length: 20 }, (_, i) => makeEvent(i % 2 === 0 ? 'filter-a' : 'filter-b'));
    expect((await postEvents(viewerApi.url, events)).status).toBe(202);
    const idsOf = (stream: string) => events.filter((e) => e.stream_id === stream).map((e) => e.event_id);
    await waitFor('filtered events', () => everything.ids('filter-a').length + everything.ids('filter-b').length === 20);
    await waitFor('stream A at its client', () => onlyA.messages.length >= 10);
    await waitFor('stream B at its clients', () => onlyB.messages.length >= 10 && bySubscribe.messages.length >= 10);
    expect(onlyA.ids()).toEqual(idsOf('filter-a'));
    expect(onlyB.ids()).toEqual(idsOf('filter-b'));
    expect(bySubscribe.ids()).toEqual(idsOf('filter-b'));

    // unsubscribe: the client's last stream is gone, so it receives nothing more.
    const unsubscribed = await bySubscribe.socket.emitWithAck('unsubscribe', { streamId: 'filter-b' });
    expect(unsubscribed).toEqual({ ok: true, subscriptions: { all: false, streamIds: [] } });
    const later = makeEvent('filter-b');
    expect((await postEvents(viewerApi.url, later)).status).toBe(202);
    await waitFor('the later event at the other client', () => onlyB.ids().includes(later.event_id));
    await new Promise((settle) => setTimeout(settle, 300));
    expect(bySubscribe.ids()).not.toContain(later.event_id);
  });

  it('answers a bad stream id with an error event and keeps the connection', async () => {
    const bad = client({ streamId: 'Not A Stream!' });
    await waitFor('the handshake error', () => bad.errors.length > 0);
    expect(bad.errors[0]).toMatchObject({ code: 'invalid_stream_id', during: 'handshake' });
    expect(bad.socket.connected).toBe(true);

    const nack = await bad.socket.emitWithAck('subscribe', { streamId: 42 });
    expect(nack).toMatchObject({ ok: false, error: { code: 'invalid_stream_id', during: 'subscribe' } });
    const notAnObject = await bad.socket.emitWithAck('subscribe', 'filter-a');
    expect(notAnObject).toMatchObject({ ok: false, error: { code: 'invalid_request' } });
    expect(bad.errors.length).toBe(3);

    const fixed = await bad.socket.emitWithAck('subscribe', { streamId: 'recovered' });
    expect(fixed).toMatchObject({ ok: true, subscriptions: { all: false, streamIds: ['recovered'] } });
    const event = makeEvent('recovered');
    expect((await postEvents(viewerApi.url, event)).status).toBe(202);
    await waitFor('the event after the fix', () => bad.ids().includes(event.event_id));
  });

  it('rejects a batch with an invalid event as a whole: 400 naming each bad field, nothing written', async () => {
    const good = makeEvent('rejected-batch');
    const bad = { ...makeEvent('rejected-batch'), event_type: 'explode', device: undefined, extra: 1 };
    const alsoBad = { ...makeEvent('rejected-batch'), ts: 'yesterday' };
    const response = await postEvents(viewerApi.url, [good, bad, alsoBad]);
    expect(response.status).toBe(400);
    const fields = (response.body.issues as { field: string }[]).map((issue) => issue.field).sort();
    expect(fields).toEqual(['/1/device', '/1/event_type', '/1/extra', '/2/ts']);
    expect(response.body.message).toMatch(/2 of 3 events are invalid/);

    const single = await postEvents(viewerApi.url, { ...makeEvent('rejected-batch'), position_seconds: -5 });
    expect(single.status).toBe(400);
    expect(single.body.issues).toEqual([{ field: '/position_seconds', message: expect.any(String) }]);

    expect(await postEvents(viewerApi.url, [])).toMatchObject({ status: 400, body: { message: expect.stringMatching(/empty/) } });
    expect(await postEvents(viewerApi.url, '{"event_id": ')).toMatchObject({ status: 400, body: { message: expect.stringMatching(/not valid JSON/) } });
    expect(await postEvents(viewerApi.url, '42')).toMatchObject({ status: 400 });

    // A marker posted afterwards proves the topic has been read past the rejected requests.
    const marker = makeEvent('rejected-marker');
    expect((await postEvents(viewerApi.url, marker)).status).toBe(202);
    const records = await readTopic(kafka, eventsTopic);
    expect(records.some((r) => r.value?.includes(marker.event_id))).toBe(true);
    expect(records.filter((r) => r.key === 'rejected-batch')).toEqual([]);
  });

  it('answers 413 for a body or a batch over the limit and 415 for other content types', async () => {
    const huge = JSON.stringify([{ ...makeEvent('too-big'), user_id: 'x'.repeat(100) }]).padEnd(1024 * 1024 + 10, ' ');
    const tooBig = await postEvents(viewerApi.url, huge);
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.message).toMatch(/larger than 1048576 bytes/);

    const tooMany = await postEvents(viewerApi.url, Array.from({ length: 501 }, () => makeEvent('too-many')));
    expect(tooMany.status).toBe(413);
    expect(tooMany.body.message).toMatch(/501 events; at most 500/);

    const xml = await postEvents(viewerApi.url, '<event/>', 'application/xml');
    expect(xml.status).toBe(415);
    expect(xml.body.message).toMatch(/"application\/xml"/);
    const form = await postEvents(viewerApi.url, 'a=1', 'application/x-www-form-urlencoded');
    expect(form.status).toBe(415);

    // What navigator.sendBeacon sends: text/plain with a JSON body.
    const beacon = await postEvents(viewerApi.url, [makeEvent('beacon')], 'text/plain;charset=UTF-8');
    expect(beacon).toMatchObject({ status: 202, body: { accepted: 1 } });
  });

  it('allows players on any origin (CORS) on the events route', async () => {
    const preflight = await fetch(`${viewerApi.url}/v1/events`, {
      method: 'OPTIONS',
      headers: { origin: 'https://player.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
    expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('content-type');
    const accepted = await postEvents(viewerApi.url, makeEvent('cors'));
    expect(accepted.headers.get('access-control-allow-origin')).toBe('*');
    const rejected = await postEvents(viewerApi.url, '<x/>', 'application/xml');
    expect(rejected.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('keeps serving the other clients when a client connects and vanishes', async () => {
    const steady = client({ streamId: 'vanish' });
    await steady.subscribed;
    // A socket.io client whose TCP connection dies without a goodbye…
    const vanishing = client({ streamId: 'vanish' });
    await vanishing.subscribed;
    const engine = vanishing.socket.io.engine as unknown as { transport: { ws?: { _socket?: { destroy(): void } } } };
    engine.transport.ws?._socket?.destroy();
    // …and a raw connection that starts a WebSocket upgrade and drops half-way.
    await new Promise<void>((resolve) => {
      const raw = connectTcp(Number(new URL(gateway.url).port), '127.0.0.1', () => {
        raw.write('GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n');
        raw.destroy();
        resolve();
      });
      raw.on('error', () => resolve());
    });

    const events = Array.from({ length: 30 }, () => makeEvent('vanish'));
    for (let i = 0; i < events.length; i += 10) expect((await postEvents(viewerApi.url, events.slice(i, i + 10))).status).toBe(202);
    await waitFor('events at the steady client', () => steady.messages.length >= events.length);
    expect(steady.ids()).toEqual(events.map((e) => e.event_id));
    expect((await fetch(`${gateway.url}/healthz`)).status).toBe(200);
  });

  it('dead-letters a malformed message with the reason and keeps delivering later events', async () => {
    const watcher = client({ streamId: 'dlq-stream' });
    await watcher.subscribed;
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: eventsTopic,
      messages: [
        { key: 'dlq-stream', value: '{"event_id": "broken' },
        { key: 'dlq-stream', value: JSON.stringify({ ...makeEvent('dlq-stream'), event_type: 'teleport' }) },
      ],
    });
    await producer.disconnect();
    const after = [makeEvent('dlq-stream'), makeEvent('dlq-stream')];
    expect((await postEvents(viewerApi.url, after)).status).toBe(202);
    await waitFor('the valid events after the malformed ones', () => watcher.messages.length >= 2);
    expect(watcher.ids()).toEqual(after.map((e) => e.event_id));

    // Other consumers of playback.events (the stats processor) dead-letter the same messages
    // under their own group; the live gateway's copies name its group.
    const gatewayCopies = async () =>
      (await readTopic(kafka, `${eventsTopic}.dlq`)).filter((record) =>
        record.headers[KafkaHeaders.deadLetterConsumerGroup]?.startsWith(groupName(ConsumerGroups.eventGatewayFanout, prefix)),
      );
    // The gateway dead-letters before it handles the next message, so both are there by now.
    let dead = await gatewayCopies();
    const deadline = Date.now() + 20_000;
    while (dead.length < 2 && Date.now() < deadline) {
      await new Promise((wait) => setTimeout(wait, 300));
      dead = await gatewayCopies();
    }
    expect(dead).toHaveLength(2);
    expect(dead[0]?.value).toBe('{"event_id": "broken');
    expect(dead[0]?.headers[KafkaHeaders.deadLetterReason]).toMatch(/not valid JSON/);
    expect(dead[0]?.headers[KafkaHeaders.deadLetterTopic]).toBe(eventsTopic);
    expect(dead[0]?.headers[KafkaHeaders.deadLetterConsumerGroup]?.startsWith(groupName(ConsumerGroups.eventGatewayFanout, prefix))).toBe(true);
    expect(dead[1]?.headers[KafkaHeaders.deadLetterReason]).toMatch(/\/event_type must be one of/);
  });

  it('serves the live page with the Socket.IO client from the gateway itself', async () => {
    const page = await fetch(`${gateway.url}/live`); // `/` is the analytics dashboard (test/dashboard.e2e.ts)
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const html = await page.text();
    expect(html).toContain('<script src="/socket.io/socket.io.js"></script>');
    expect(html).toContain("io('/playback'");
    const script = await fetch(`${gateway.url}/socket.io/socket.io.js`);
    expect(script.status).toBe(200);
  });
});
