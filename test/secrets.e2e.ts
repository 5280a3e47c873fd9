import { randomBytes, randomUUID } from 'node:crypto';
import { topicSpecs } from '@tributary/contracts';
import { freePort, type OtlpReceiver, type ServiceProcess, startOtlpReceiver, startService } from '@tributary/devkit';
import { ensureTopics, silentLogger } from '@tributary/kafka';
import { makeJpegs } from './support/video-fixture';
import { kafkaFor, publishTestPattern } from './support/video-topics';

/**
 * No secret in any log line, span or error body: the built ingest and viewer-api (debug logging,
 * exporting spans over OTLP to a real receiver) are driven with known secrets — the admin token,
 * a wrong admin token, a real stream key (publish + frames + wrong methods), unknown keys and a
 * `?token=` query — and then everything they printed and exported is searched for them.
 */
const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const prefix = `secrets-${randomUUID().slice(0, 8)}`;
const secret = (label: string) => `${label}${randomBytes(12).toString('hex')}`;
const ADMIN_TOKEN = secret('admintok');
const WRONG_ADMIN_TOKEN = secret('wrongtok');
const UNKNOWN_KEY = secret('unknownkey');
const QUERY_TOKEN = secret('querytok');
const PLAYBACK_SIGNING_KEY = secret('signingkey');

let receiver: OtlpReceiver;
let ingest: ServiceProcess;
let viewer: ServiceProcess;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  await ensureTopics(kafkaFor(brokers), topicSpecs(prefix), { replicationFactor: 1, logger: silentLogger });
  const common = {
    KAFKA_BROKERS: brokers,
    TOPIC_PREFIX: prefix,
    LOG_LEVEL: 'debug',
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_BSP_SCHEDULE_DELAY: '200',
    PLAYBACK_SIGNING_KEY,
  };
  const ingestPort = await freePort();
  ingest = await startService('ingest', { port: ingestPort, env: { ...common, ADMIN_TOKEN } });
  const viewerPort = await freePort();
  viewer = await startService('viewer-api', { port: viewerPort, env: common });
}, 120_000);

afterAll(async () => {
  await Promise.all([ingest?.stop(), viewer?.stop()]);
  await receiver?.close();
});

it('no stream key, admin token or URL token appears in logs, spans or error bodies', async () => {
  const bodies: string[] = [];
  const call = async (url: string, init: RequestInit = {}): Promise<Response> => {
    const response = await fetch(url, init);
    // Error answers only: the 201 of POST /v1/streams shows the new key once, by design.
    if (response.status >= 400) bodies.push(await response.clone().text());
    return response;
  };
  const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
  const id = `sec-${randomUUID().slice(0, 6)}`;

  // Admin API: right token, wrong token, no token.
  const created = await call(`${ingest.url}/v1/streams`, { method: 'POST', headers: admin, body: JSON.stringify({ id, title: 'secrets' }) });
  expect(created.status).toBe(201);
  const { streamKey } = (await created.json()) as { streamKey: string };
  expect((await call(`${ingest.url}/v1/streams/${id}`, { headers: { authorization: `Bearer ${WRONG_ADMIN_TOKEN}` } })).status).toBe(403);
  expect((await call(`${ingest.url}/v1/streams/${id}`, { headers: admin })).status).toBe(200);
  expect((await call(`${ingest.url}/v1/streams`, { method: 'POST', body: '{}' })).status).toBe(401);

  // Publishing and frames with the real key; wrong methods and unknown keys (4xx paths).
  const published = await publishTestPattern(`${ingest.url}/live/${streamKey}`, { size: '160x120', rate: 10, seconds: 3 }).done;
  expect(published.code).toBe(0);
  const [jpeg] = await makeJpegs(1);
  const frame = await call(`${ingest.url}/live/${streamKey}/frames`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: jpeg });
  expect(frame.status).toBe(202);
  expect((await call(`${ingest.url}/live/${streamKey}/frames`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' })).status).toBe(415);
  expect((await call(`${ingest.url}/live/${streamKey}`)).status).toBe(404);
  expect((await call(`${ingest.url}/live/${streamKey}/nothing-here?token=${QUERY_TOKEN}`)).status).toBe(404);
  expect((await call(`${ingest.url}/live/${UNKNOWN_KEY}`, { method: 'POST', body: Buffer.alloc(188, 0x47) })).status).toBe(403);
  expect((await call(`${ingest.url}/live/${UNKNOWN_KEY}/frames`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: jpeg })).status).toBe(403);

  // Viewer side: a token in the query string of playlist/segment/preview requests.
  await call(`${viewer.url}/live/${id}/master.m3u8?token=${QUERY_TOKEN}`);
  await call(`${viewer.url}/live/${id}/thumbnail.jpg?token=${QUERY_TOKEN}`);
  await call(`${viewer.url}/v1/streams/${id}?access_token=${QUERY_TOKEN}`, { headers: { authorization: `Bearer ${QUERY_TOKEN}` } });

  // A private stream: a minted playback token used as ?token= and as a bearer, and a refused one.
  const privateId = `sec-p-${randomUUID().slice(0, 6)}`;
  const createdPrivate = await call(`${ingest.url}/v1/streams`, { method: 'POST', headers: admin, body: JSON.stringify({ id: privateId, title: 'private', playback: 'signed' }) });
  expect(createdPrivate.status).toBe(201);
  const minted = await call(`${ingest.url}/v1/streams/${privateId}/playback-tokens`, { method: 'POST', headers: admin, body: JSON.stringify({ ttlSeconds: 60 }) });
  expect(minted.status).toBe(201);
  const PLAYBACK_TOKEN = ((await minted.json()) as { token: string }).token;
  // viewer-api learns the stream (and that it is signed) from stream.registry.
  for (let tries = 0; (await fetch(`${viewer.url}/v1/streams/${privateId}`)).status !== 200; tries++) {
    if (tries > 100) throw new Error('viewer-api never listed the private stream');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await call(`${viewer.url}/live/${privateId}/master.m3u8?token=${PLAYBACK_TOKEN}`);
  await call(`${viewer.url}/live/${privateId}/thumbnail.jpg`, { headers: { authorization: `Bearer ${PLAYBACK_TOKEN}` } });
  expect((await call(`${viewer.url}/live/${id}/master.m3u8`)).status).not.toBe(401); // public: no token asked
  const refused = await call(`${viewer.url}/live/${privateId}/master.m3u8?token=${QUERY_TOKEN}`);
  expect(refused.status).toBe(403);

  // Wait for the publish's server span (named after its route template) and the viewer's spans.
  await receiver.waitFor(
    (spans) =>
      spans.some((span) => span.service === 'ingest' && span.name === 'POST /live/:streamKey' && span.attributes['url.path'] === '/live/:streamKey') &&
      spans.some((span) => span.service === 'ingest' && span.name === 'POST /live/:streamKey/frames') &&
      spans.filter((span) => span.service === 'viewer-api' && span.kind === 2).length >= 3,
    30_000,
  );
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const spans = JSON.stringify(receiver.spans, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
  const logs = `${ingest.output()}\n${viewer.output()}`;
  const answers = bodies.join('\n');

  // The test saw real traffic: a debug log of some size, spans, the key in its URLs.
  expect(logs.length).toBeGreaterThan(10_000);
  expect(receiver.spans.length).toBeGreaterThan(10);
  expect(logs).toContain('publisher connected');
  for (const [name, value] of Object.entries({ streamKey, ADMIN_TOKEN, WRONG_ADMIN_TOKEN, UNKNOWN_KEY, QUERY_TOKEN, PLAYBACK_TOKEN, PLAYBACK_SIGNING_KEY })) {
    const where = [logs.includes(value) && 'logs', spans.includes(value) && 'spans', answers.includes(value) && 'response bodies'].filter(Boolean);
    expect(`${name}: ${where.join(', ') || 'nowhere'}`).toBe(`${name}: nowhere`);
  }
  // Error lines still say what was refused, by route.
  expect(logs).toMatch(/"url":"\/live\/\[REDACTED\]\/frames".*"route":"\/live\/:streamKey\/frames"/);
}, 120_000);
