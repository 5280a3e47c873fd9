import { randomBytes } from 'node:crypto';
import { topicName, Topics } from '@tributary/contracts';
import { freePort, type OtlpReceiver, type ReceivedSpan, type ServiceProcess, startOtlpReceiver, startService } from '@tributary/devkit';
import {
  connectClient,
  kafkaBrokers,
  makeEvent,
  type RecordingClient,
  readTopic,
  testKafka,
  uniquePrefix,
  waitFor,
  warmUp,
} from './support/playback-events';
import { publishTestPattern } from './support/video-topics';
import { makeJpegs } from './support/video-fixture';
import { startTestTranscoder } from './support/test-transcoder';
import { until } from './support/until';
import { createStream } from './support/video-stack';

/**
 * Tracing end to end, with the built services exporting over OTLP/HTTP (JSON) to a real receiver
 * in this process — the same code path as production with a collector, no test hooks in services.
 *
 * The event path is ONE trace per event: the client's traceparent → viewer-api `POST /v1/events`
 * (server) → `send <topic>` (producer, traceparent in the Kafka headers; the stats processor's
 * `process <topic>` batch span LINKS to it). The Socket.IO fan-out works in batches: its `emit
 * playback.events` span (one per flush) LINKS to the `send` span of each event it carried
 * (docs/observability.md).
 */

const SPAN_KIND = { server: 2, producer: 4, consumer: 5 } as const;

function hex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

function one(spans: ReceivedSpan[], predicate: (span: ReceivedSpan) => boolean, what: string): ReceivedSpan {
  const found = spans.filter(predicate);
  if (found.length !== 1) {
    const summary = spans.map((span) => `${span.service}:${span.name}(${span.spanId}<-${span.parentSpanId ?? 'root'})`).join('\n  ');
    throw new Error(`expected exactly one ${what}, found ${found.length} among:\n  ${summary}`);
  }
  return found[0];
}

describe('tracing across the event path', () => {
  const prefix = uniquePrefix('telemetry');
  const eventsTopic = topicName(Topics.playbackEvents, prefix);
  let receiver: OtlpReceiver;
  let viewerApi: ServiceProcess;
  let gateway: ServiceProcess;
  let client: RecordingClient;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    const env = {
      KAFKA_BROKERS: kafkaBrokers(),
      TOPIC_PREFIX: prefix,
      KAFKA_EVENT_PARTITIONS: '2',
      LOG_LEVEL: 'warn',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      // Export quickly (the batch processor's default delay is 5 s).
      OTEL_BSP_SCHEDULE_DELAY: '200',
      OTEL_TRACES_SAMPLER: 'parentbased_always_on',
      K8S_NAMESPACE_NAME: 'tributary-test',
      K8S_NODE_NAME: 'node-a',
    };
    const viewerPort = await freePort();
    viewerApi = await startService('viewer-api', {
      port: viewerPort,
      env: { ...env, K8S_POD_NAME: 'viewer-api-0' },
    });
    const gatewayPort = await freePort();
    gateway = await startService('event-gateway', {
      port: gatewayPort,
      env: { ...env, K8S_POD_NAME: 'event-gateway-0', OTEL_SERVICE_NAME: 'event-gateway-traced' },
    });
    client = connectClient(gateway.url);
    await client.subscribed;
    await warmUp(viewerApi.url, client, 'trace-warm-up');
  });

  afterAll(async () => {
    client?.socket.disconnect();
    await gateway?.stop();
    await viewerApi?.stop();
    await receiver?.close();
  });

  it('makes POST /v1/events → send → process → emit one trace, continuing the caller’s traceparent', async () => {
    const traceId = hex(16);
    const callerSpanId = hex(8);
    const event = makeEvent('traced-stream');
    const response = await fetch(`${viewerApi.url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-${callerSpanId}-01` },
      body: JSON.stringify(event),
    });
    expect(response.status).toBe(202);
    await waitFor('the event at the socket client', () => client.ids('traced-stream').includes(event.event_id));
    // The Socket.IO payload names the trace, so a browser-side observation can be joined to it.
    expect(client.messages.find((message) => message.event.event_id === event.event_id)?.trace_id).toBe(traceId);

    const linksTo = (span: ReceivedSpan, id: string) => span.links.some((link) => link.traceId === id);
    const all = await receiver.waitFor(
      (received) =>
        received.some((span) => span.name === 'emit playback.events' && linksTo(span, traceId)) &&
        received.some((span) => span.traceId === traceId && span.kind === SPAN_KIND.server),
    );
    const spans = all.filter((span) => span.traceId === traceId);

    const server = one(spans, (span) => span.kind === SPAN_KIND.server, 'viewer-api server span');
    expect(server.service).toBe('viewer-api');
    expect(server.name).toBe('POST /v1/events');
    expect(server.attributes['http.route']).toBe('/v1/events');
    expect(server.parentSpanId).toBe(callerSpanId);

    const send = one(spans, (span) => span.kind === SPAN_KIND.producer && span.service === 'viewer-api', 'kafka send span');
    expect(send.name).toBe(`send ${eventsTopic}`);
    // The send span is made in the request (viewer-api batches requests into shared produces): its ancestor chain reaches the server span.
    const byId = new Map(spans.map((span) => [span.spanId, span]));
    let ancestor: ReceivedSpan | undefined = send;
    while (ancestor && ancestor.spanId !== server.spanId) ancestor = ancestor.parentSpanId ? byId.get(ancestor.parentSpanId) : undefined;
    expect(ancestor?.spanId).toBe(server.spanId);

    // The stats processor: one `process <topic>` span per batch, LINKED to each event's send span;
    // no consumer makes a span per event, so nothing of event-gateway sits in the event's own trace.
    const processed = await receiver.waitFor((received) =>
      received.some((span) => span.name === `process ${eventsTopic}` && span.links.some((link) => link.spanId === send.spanId)),
    );
    const batchSpan = processed.find((span) => span.name === `process ${eventsTopic}` && span.links.some((link) => link.spanId === send.spanId));
    expect(batchSpan?.kind).toBe(SPAN_KIND.consumer);
    expect(batchSpan?.service).toBe('event-gateway-traced');
    expect(batchSpan?.links).toContainEqual(expect.objectContaining({ traceId, spanId: send.spanId }));
    expect(batchSpan?.attributes['messaging.batch.message_count']).toBeGreaterThanOrEqual(1);
    expect(spans.filter((span) => span.service === 'event-gateway-traced')).toEqual([]);
    // The fan-out: one span per flush, linked to this event's send span, never a span per event per client.
    const emit = one(all, (span) => span.name === 'emit playback.events' && linksTo(span, traceId), 'emit span linked to the event');
    expect(emit.links).toContainEqual(expect.objectContaining({ traceId, spanId: send.spanId }));
    expect(emit.service).toBe('event-gateway-traced');
    expect(emit.kind).toBe(SPAN_KIND.producer);
    expect(emit.attributes['socketio.clients']).toBeGreaterThanOrEqual(1);
    expect(emit.attributes['messaging.system']).toBe('socket.io');
    expect(emit.attributes['messaging.batch.message_count']).toBeGreaterThanOrEqual(1);

    // Resource: name/version, OTEL_SERVICE_NAME override, Kubernetes downward-API attributes.
    expect(server.resource['service.version']).toEqual(expect.any(String));
    expect(server.resource['k8s.pod.name']).toBe('viewer-api-0');
    expect(server.resource['k8s.namespace.name']).toBe('tributary-test');
    expect(server.resource['k8s.node.name']).toBe('node-a');
    expect(emit.resource['service.name']).toBe('event-gateway-traced');
    expect(emit.resource['k8s.pod.name']).toBe('event-gateway-0');

    // The Kafka record carries the send span's context (what any OTel-aware consumer continues).
    const records = await readTopic(testKafka(), eventsTopic);
    const record = records.find((r) => r.value?.includes(event.event_id));
    expect(record?.headers.traceparent).toBe(`00-${traceId}-${send.spanId}-01`);
  });

  it('starts a new trace for an untraced request and still links every hop', async () => {
    const event = makeEvent('untraced-stream');
    const response = await fetch(`${viewerApi.url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(event),
    });
    expect(response.status).toBe(202);
    await waitFor('the event at the socket client', () => client.ids('untraced-stream').includes(event.event_id));
    const records = await readTopic(testKafka(), eventsTopic);
    const traceparent = records.find((r) => r.value?.includes(event.event_id))?.headers.traceparent;
    expect(traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const traceId = traceparent!.split('-')[1];
    const all = await receiver.waitFor(
      (received) =>
        received.some((span) => span.name === 'emit playback.events' && span.links.some((link) => link.traceId === traceId)) &&
        received.some((span) => span.traceId === traceId && span.kind === SPAN_KIND.server) &&
        received.some((span) => span.name === `process ${eventsTopic}` && span.links.some((link) => link.traceId === traceId)),
    );
    const spans = all.filter((span) => span.traceId === traceId);
    const server = one(spans, (span) => span.kind === SPAN_KIND.server, 'server span');
    expect(server.parentSpanId).toBeUndefined();
    // viewer-api's spans in one trace; the stats processor's batch span and the fan-out link to it.
    expect(new Set(spans.map((span) => span.service))).toEqual(new Set(['viewer-api']));
  });

  it('does not trace probes and scrapes', async () => {
    await fetch(`${viewerApi.url}/healthz`);
    await fetch(`${viewerApi.url}/metrics`);
    await new Promise((wait) => setTimeout(wait, 1_000));
    expect(receiver.spans.filter((span) => /healthz|metrics/.test(`${span.name} ${JSON.stringify(span.attributes['url.path'] ?? span.attributes['http.target'] ?? '')}`))).toEqual([]);
  });
});

/**
 * The media path: publisher → ingest (`ingest chunk` → `send video.ingest`) → transcoder
 * (`transcode segment` LINKED to the chunk sends that fed it → `segment published` → `send
 * video.segments`) → viewer-api (`segment served`, a child of the GET, LINKED to the segment's
 * traceparent). Links, not parents: a segment has many input chunks, and a publish lasts hours.
 */
describe('tracing across the media path', () => {
  const prefix = uniquePrefix('media-trace');
  let receiver: OtlpReceiver;
  const services: ServiceProcess[] = [];
  let ingestUrl = '';
  let viewerUrl = '';

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    const env = {
      KAFKA_BROKERS: kafkaBrokers(),
      TOPIC_PREFIX: prefix,
      KAFKA_VIDEO_PARTITIONS: '1',
      KAFKA_EVENT_PARTITIONS: '1',
      LOG_LEVEL: 'warn',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '200',
    };
    const ingestPort = await freePort();
    const ingest = await startService('ingest', { port: ingestPort, env: env });
    services.push(ingest);
    ingestUrl = ingest.url;
    // Traces of the full ladder: no load shedding (testTranscoderEnv).
    services.push(await startTestTranscoder(env, `transcoder-${prefix}`, { TRANSCODER_THREADS: '1', TRANSCODER_PROBE_MAX_BYTES: String(512 * 1024) }));
    const viewerPort = await freePort();
    const viewer = await startService('viewer-api', { port: viewerPort, env: env });
    services.push(viewer);
    viewerUrl = viewer.url;
  }, 180_000);

  afterAll(async () => {
    for (const service of [...services].reverse()) await service.stop();
    await receiver?.close();
  });

  it('links ingest chunks → transcoded segment → served segment', async () => {
    const streamId = `trace-${randomBytes(3).toString('hex')}`;
    const streamKey = await createStream(ingestUrl, streamId, { segment_duration_seconds: 1 });
    const publisher = publishTestPattern(`${ingestUrl}/live/${streamKey}`, { size: '640x360', rate: 10, seconds: 6 });

    // The first segment in viewer-api's live window, served over HTTP.
    let segmentUri: string | undefined;
    const deadline = Date.now() + 90_000;
    while (!segmentUri) {
      if (Date.now() > deadline) throw new Error('no live segment reached viewer-api within 90 s');
      const playlist = await fetch(`${viewerUrl}/live/${streamId}/360p/index.m3u8`);
      if (playlist.ok) segmentUri = (await playlist.text()).split('\n').find((line) => line.trim() !== '' && !line.startsWith('#'));
      if (!segmentUri) await new Promise((wait) => setTimeout(wait, 500));
    }
    const served = await fetch(`${viewerUrl}/live/${streamId}/360p/${segmentUri}`);
    expect(served.status).toBe(200);
    await served.arrayBuffer();
    await publisher.done.catch(() => undefined);

    const isServed = (span: ReceivedSpan) =>
      span.service === 'viewer-api' && span.name === 'segment served' && span.attributes['tributary.stream_id'] === streamId;
    await receiver.waitFor((all) => all.some(isServed), 30_000);
    const servedSpan = receiver.spans.find(isServed)!;
    // A child of the GET's server span…
    const get = receiver.spans.find((span) => span.spanId === servedSpan.parentSpanId);
    expect(get?.kind).toBe(SPAN_KIND.server);
    expect(get?.name).toBe('GET /live/:id/:rendition/:file');
    // …linked into the transcoder's trace of that segment.
    expect(servedSpan.links).toHaveLength(1);
    const segmentTraceId = servedSpan.links[0].traceId;
    const transcoderSpans = (
      await receiver.waitFor((all) => all.some((span) => span.traceId === segmentTraceId && span.name === 'transcode segment'), 20_000)
    ).filter((span) => span.traceId === segmentTraceId);
    const transcode = one(transcoderSpans, (span) => span.name === 'transcode segment', 'transcode segment span');
    expect(transcode.service).toBe('transcoder');
    expect(transcode.parentSpanId).toBeUndefined();
    expect(transcode.attributes).toMatchObject({ 'tributary.stream_id': streamId, 'tributary.rendition': '360p' });
    expect(transcode.attributes['tributary.segment.duration_s']).toBeGreaterThan(0);
    const published = one(transcoderSpans, (span) => span.name === 'segment published', 'segment published span');
    expect(published.parentSpanId).toBe(transcode.spanId);
    // Segments are written in a Kafka transaction (zombie fencing): published → transaction → send.
    const send = one(transcoderSpans, (span) => span.name === `send ${topicName(Topics.videoSegments, prefix)}`, 'segment send span');
    const transaction = one(transcoderSpans, (span) => span.spanId === send.parentSpanId, 'transaction span of the segment send');
    expect(transaction.name).toBe('transaction');
    expect(transaction.parentSpanId).toBe(published.spanId);
    expect([send.spanId, published.spanId]).toContain(servedSpan.links[0].spanId);

    // The segment span links to the chunks that fed it: each link is an ingest `send video.ingest`
    // span whose parent is an `ingest chunk` span of this stream.
    expect(transcode.links.length).toBeGreaterThan(0);
    const ingestTopic = topicName(Topics.videoIngest, prefix);
    await receiver.waitFor((all) => transcode.links.every((link) => all.some((span) => span.spanId === link.spanId)), 20_000);
    for (const link of transcode.links) {
      const chunkSend = receiver.spans.find((span) => span.spanId === link.spanId && span.traceId === link.traceId);
      expect(chunkSend?.service).toBe('ingest');
      expect(chunkSend?.name).toBe(`send ${ingestTopic}`);
      const chunk = receiver.spans.find((span) => span.spanId === chunkSend?.parentSpanId);
      expect(chunk?.name).toBe('ingest chunk');
      expect(chunk?.attributes['tributary.stream_id']).toBe(streamId);
      expect(chunk?.links).toHaveLength(1); // to the long-lived publish request
    }
  });

  it('makes a posted JPEG frame one trace, through video.frames to the MJPEG part that carries it', async () => {
    const streamId = `frame-${randomBytes(3).toString('hex')}`;
    const streamKey = await createStream(ingestUrl, streamId);
    const [jpeg] = await makeJpegs(1);

    // A viewer watches the MJPEG preview before the frame is posted (once viewer-api has read the
    // new stream from stream.registry: until then it rightly answers 404).
    await until('viewer-api to know the new stream', async () => (await fetch(`${viewerUrl}/v1/streams/${streamId}`)).status === 200, 30_000);
    const preview = new AbortController();
    const response = await fetch(`${viewerUrl}/live/${streamId}/preview.mjpeg`, { signal: preview.signal });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    let received = Buffer.alloc(0);
    const reading = (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        received = Buffer.concat([received, Buffer.from(value)]);
      }
    })().catch(() => undefined);

    const traceId = hex(16);
    const posted = await fetch(`${ingestUrl}/live/${streamKey}/frames`, {
      method: 'POST',
      headers: { 'content-type': 'image/jpeg', traceparent: `00-${traceId}-${hex(8)}-01` },
      body: jpeg,
    });
    expect(posted.status).toBe(202);
    const deadline = Date.now() + 20_000;
    while (!received.includes(jpeg) && Date.now() < deadline) await new Promise((wait) => setTimeout(wait, 100));
    preview.abort();
    await reading;
    expect(received.includes(jpeg)).toBe(true);

    // Each service exports on its own schedule: wait for both ends of the trace.
    const spans = (
      await receiver.waitFor(
        (all) =>
          all.some((span) => span.traceId === traceId && span.name === 'mjpeg part') &&
          all.some((span) => span.traceId === traceId && span.service === 'ingest' && span.kind === SPAN_KIND.producer),
        20_000,
      )
    ).filter((span) => span.traceId === traceId);
    const part = spans.find((span) => span.name === 'mjpeg part');
    expect(part?.service).toBe('viewer-api');
    // Its parent is the ingest's Kafka send of the frame, inside the POST: one trace, end to end.
    const send = spans.find((span) => span.spanId === part?.parentSpanId);
    expect(send?.service).toBe('ingest');
    expect(send?.kind).toBe(SPAN_KIND.producer);
  });
});
