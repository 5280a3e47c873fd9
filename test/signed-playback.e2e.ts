import { randomBytes, randomUUID } from 'node:crypto';
import { mintPlaybackToken } from '@tributary/contracts';
import { freePort, type ServiceProcess, startService } from '@tributary/devkit';
import { connectClient, makeEvent, postEvents, type RecordingClient, waitFor, warmUp } from './support/playback-events';
import { FIXTURE_RENDITIONS, type FixtureSegment, makeJpegs, makeSegments, VideoFixture } from './support/video-fixture';
import { until } from './support/until';

/**
 * Private streams end to end on the real broker: ingest mints playback tokens for a signed stream,
 * viewer-api refuses its playlists, segments and thumbnails without one and writes the token into
 * the playlists' URIs (so a player fetches everything through them), event-gateway refuses its
 * Socket.IO events without one and guards the firehose with FIREHOSE_TOKEN; a public stream is
 * unaffected; /metrics moves to METRICS_PORT.
 */
const BROKERS = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const prefix = `signed-${randomUUID().slice(0, 8)}`;
const SIGNING_KEY = randomBytes(32).toString('base64url');
const ADMIN_TOKEN = randomBytes(16).toString('hex');
const FIREHOSE_TOKEN = randomBytes(16).toString('hex');
const signedId = `priv-${randomUUID().slice(0, 6)}`;
const publicId = `pub-${randomUUID().slice(0, 6)}`;
const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };

let ingest: ServiceProcess;
let viewer: ServiceProcess;
let gateway: ServiceProcess;
/** A second gateway without FIREHOSE_TOKEN: its open firehose must leave signed streams out. */
let openGateway: ServiceProcess;
let viewerMetricsPort: number;
let fixture: VideoFixture;
let segments: Map<string, FixtureSegment[]>;
let token: string;
const clients: RecordingClient[] = [];

function client(auth?: Record<string, unknown>, on: ServiceProcess = gateway): RecordingClient {
  const created = connectClient(on.url, auth);
  clients.push(created);
  return created;
}

/** The URI lines of a playlist (segments, variant playlists). */
const uriLines = (playlist: string): string[] => playlist.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#'));

beforeAll(async () => {
  segments = await makeSegments(FIXTURE_RENDITIONS, 4);
  const common = {
    KAFKA_BROKERS: BROKERS,
    TOPIC_PREFIX: prefix,
    LOG_LEVEL: 'warn',
    KAFKA_VIDEO_PARTITIONS: '2',
    KAFKA_EVENT_PARTITIONS: '1',
    PLAYBACK_SIGNING_KEY: SIGNING_KEY,
  };
  const ingestPort = await freePort();
  ingest = await startService('ingest', { port: ingestPort, env: { ...common, ADMIN_TOKEN } });
  const viewerPort = await freePort();
  viewerMetricsPort = await freePort();
  viewer = await startService('viewer-api', {
    port: viewerPort,
    env: { ...common, METRICS_PORT: String(viewerMetricsPort) },
  });
  const gatewayPort = await freePort();
  gateway = await startService('event-gateway', {
    port: gatewayPort,
    env: { ...common, EVENT_GATEWAY_ROLES: 'fanout', FIREHOSE_TOKEN },
  });
  const openPort = await freePort();
  openGateway = await startService('event-gateway', {
    port: openPort,
    env: { ...common, EVENT_GATEWAY_ROLES: 'fanout', EVENT_GATEWAY_INSTANCE_ID: `${prefix}-open` },
  });
  fixture = new VideoFixture(BROKERS.split(','), prefix);
  await fixture.connect();
}, 180_000);

afterAll(async () => {
  for (const c of clients) c.socket.disconnect();
  await fixture?.disconnect();
  await Promise.all([ingest?.stop(), viewer?.stop(), gateway?.stop(), openGateway?.stop()]);
});

describe('signed playback (ingest, viewer-api, event-gateway on a real broker)', () => {
  it('ingest validates the playback mode, creates signed and public streams, mints tokens and switches modes', async () => {
    const bad = await fetch(`${ingest.url}/v1/streams`, { method: 'POST', headers: admin, body: JSON.stringify({ id: 'bad-mode', title: 't', playback: 'secret' }) });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toContain('playback');

    for (const [id, playback] of [[signedId, 'public'], [publicId, undefined]] as const) {
      const created = await fetch(`${ingest.url}/v1/streams`, { method: 'POST', headers: admin, body: JSON.stringify({ id, title: id, ...(playback ? { playback } : {}) }) });
      expect(created.status).toBe(201);
    }
    // Turned private after creation (PATCH), as an operator would.
    const patched = await fetch(`${ingest.url}/v1/streams/${signedId}`, { method: 'PATCH', headers: admin, body: JSON.stringify({ playback: 'signed' }) });
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({ id: signedId, playback: 'signed' });
    expect((await fetch(`${ingest.url}/v1/streams/${signedId}`, { method: 'PATCH', headers: admin, body: JSON.stringify({ playback: 1 }) })).status).toBe(400);

    expect((await fetch(`${ingest.url}/v1/streams/${signedId}/playback-tokens`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })).status).toBe(401);
    expect((await fetch(`${ingest.url}/v1/streams/${signedId}/playback-tokens`, { method: 'POST', headers: admin, body: JSON.stringify({ ttlSeconds: 1 }) })).status).toBe(400);
    const minted = await fetch(`${ingest.url}/v1/streams/${signedId}/playback-tokens`, { method: 'POST', headers: admin, body: JSON.stringify({ ttlSeconds: 600 }) });
    expect(minted.status).toBe(201);
    const body = (await minted.json()) as { token: string; expiresAt: string; playbackUrl: string };
    expect(Date.parse(body.expiresAt) - Date.now()).toBeGreaterThan(590_000);
    expect(body.playbackUrl).toContain(`/watch/${signedId}?token=`);
    token = body.token;
  });

  it('viewer-api: a signed stream needs its token for playlists, segments and thumbnails; URIs carry it; public is unaffected', async () => {
    const start = new Date(Date.now() - 10_000);
    for (const id of [signedId, publicId]) {
      await fixture.live(id, `sess-${id}`);
      await fixture.segments(id, segments, 0, 2, start, `tx-${id}`);
    }
    const [jpeg] = await makeJpegs(1);
    await fixture.frame(signedId, jpeg);

    const master = `${viewer.url}/live/${signedId}/master.m3u8`;
    // The window fills from Kafka, and the PATCH reaches viewer-api through stream.registry: wait
    // (with the token) until the master lists renditions with the token in their URIs.
    const masterText = await until('signed master playlist', async () => {
      const response = await fetch(`${master}?token=${token}`);
      const text = response.status === 200 ? await response.text() : '';
      return text.includes('token=') ? text : undefined;
    });
    expect((await fetch(master)).status).toBe(401);
    const otherStream = await mintPlaybackToken(SIGNING_KEY, { streamId: publicId, ttlSeconds: 60 });
    expect((await fetch(`${master}?token=${otherStream.token}`)).status).toBe(403);
    const expired = await mintPlaybackToken(SIGNING_KEY, { streamId: signedId, ttlSeconds: 60 }, new Date(Date.now() - 3_600_000));
    expect((await fetch(`${master}?token=${expired.token}`)).status).toBe(403);
    const forged = await mintPlaybackToken('f'.repeat(32), { streamId: signedId, ttlSeconds: 60 });
    expect((await fetch(`${master}?token=${forged.token}`)).status).toBe(403);
    // Authorization: Bearer works as well as ?token=.
    expect((await fetch(master, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);

    // Follow the URIs in the playlists, as hls.js does: every one carries the token.
    const variants = uriLines(masterText);
    expect(variants.length).toBeGreaterThan(0);
    for (const uri of variants) expect(uri).toContain(`token=${encodeURIComponent(token)}`);
    const mediaUrl = new URL(variants[0], master);
    const media = await until('signed media playlist', async () => {
      const response = await fetch(mediaUrl);
      return response.status === 200 ? response.text() : undefined;
    });
    const segmentUris = uriLines(media);
    expect(segmentUris.length).toBeGreaterThan(0);
    const segmentUrl = new URL(segmentUris[0], mediaUrl);
    expect(segmentUrl.searchParams.get('token')).toBe(token);
    const segment = await fetch(segmentUrl);
    expect(segment.status).toBe(200);
    expect(segment.headers.get('content-type')).toBe('video/mp2t');
    expect(segment.headers.get('cache-control')).toMatch(/^private/);
    expect((await segment.arrayBuffer()).byteLength).toBeGreaterThan(1000);
    const bare = new URL(segmentUrl);
    bare.search = '';
    expect((await fetch(bare)).status).toBe(401);
    expect((await fetch(new URL(`/vod/${signedId}/master.m3u8`, viewer.url))).status).toBe(401);

    // Thumbnails (and MJPEG) sit behind the same guard.
    expect((await fetch(`${viewer.url}/live/${signedId}/thumbnail.jpg`)).status).toBe(401);
    const thumbnail = await until('signed thumbnail', async () => {
      const response = await fetch(`${viewer.url}/live/${signedId}/thumbnail.jpg?token=${token}`);
      return response.status === 200 ? response : undefined;
    });
    expect(thumbnail.headers.get('content-type')).toBe('image/jpeg');
    expect((await fetch(`${viewer.url}/live/${signedId}/preview.mjpeg`)).status).toBe(401);
    // A cross-origin player may send the token as a bearer: the preflight allows the header.
    const preflight = await fetch(master, { method: 'OPTIONS', headers: { origin: 'https://elsewhere.example', 'access-control-request-headers': 'authorization' } });
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/authorization/i);

    // The public stream: no token needed, no token written into its playlists.
    const publicMaster = await until('public master playlist', async () => {
      const response = await fetch(`${viewer.url}/live/${publicId}/master.m3u8`);
      return response.status === 200 ? response.text() : undefined;
    });
    expect(publicMaster).not.toContain('token=');

    // The listing shows the signed stream exists, without its media URLs.
    const listed = (await (await fetch(`${viewer.url}/v1/streams`)).json()) as { streams: { id: string; playback: string; urls: Record<string, string> }[] };
    const signedEntry = listed.streams.find((s) => s.id === signedId);
    expect(signedEntry).toMatchObject({ playback: 'signed', urls: { watch: `/watch/${signedId}` } });
    expect(signedEntry?.urls.master).toBeUndefined();
    expect(listed.streams.find((s) => s.id === publicId)?.urls.master).toBe(`/live/${publicId}/master.m3u8`);
  }, 120_000);

  it('event-gateway: a signed stream\'s events need its token; the firehose needs FIREHOSE_TOKEN', async () => {
    const firehoseRefused = client();
    await waitFor('firehose refusal', () => firehoseRefused.errors.length > 0);
    expect(firehoseRefused.errors[0]).toMatchObject({ code: 'unauthorized', during: 'handshake' });
    const firehoseWrong = client({ token: 'x'.repeat(32) });
    await waitFor('wrong firehose token refusal', () => firehoseWrong.errors.length > 0);
    expect(firehoseWrong.errors[0]).toMatchObject({ code: 'forbidden' });
    const historyRefused = client({ streamId: publicId, history: true });
    expect(await historyRefused.subscribed).toEqual({ all: false, streamIds: [publicId] });

    // The gateway learns that the stream is signed from stream.registry: retry until it has.
    const signedRefused = await until('signed stream refusal', async () => {
      const attempt = client({ streamId: signedId });
      await Promise.race([attempt.subscribed, new Promise((resolve) => setTimeout(resolve, 500))]).catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 100));
      if (attempt.errors.length > 0) return attempt;
      attempt.socket.disconnect();
      return undefined;
    });
    expect(signedRefused.errors[0]).toMatchObject({ code: 'unauthorized', during: 'handshake' });
    // …and through `subscribe`, with a token for another stream.
    const otherToken = (await mintPlaybackToken(SIGNING_KEY, { streamId: publicId, ttlSeconds: 60 })).token;
    const ack = (await signedRefused.socket.timeout(5_000).emitWithAck('subscribe', { streamId: signedId, token: otherToken })) as unknown;
    expect(ack).toMatchObject({ ok: false, error: { code: 'forbidden', during: 'subscribe' } });

    const firehose = client({ token: FIREHOSE_TOKEN });
    expect(await firehose.subscribed).toEqual({ all: true, streamIds: [] });
    const subscriber = client({ streamId: signedId, token });
    expect(await subscriber.subscribed).toEqual({ all: false, streamIds: [signedId] });
    await warmUp(viewer.url, firehose, `warm-${prefix}`);
    const event = makeEvent(signedId);
    expect((await postEvents(viewer.url, event)).status).toBe(202);
    await waitFor('the signed stream event at its subscriber', () => subscriber.ids(signedId).includes(event.event_id));
    await waitFor('the signed stream event on the firehose', () => firehose.ids(signedId).includes(event.event_id));
    expect(signedRefused.ids(signedId)).toEqual([]);
  }, 90_000);

  it('event-gateway without FIREHOSE_TOKEN: the open firehose carries public streams only', async () => {
    const open = client(undefined, openGateway);
    expect(await open.subscribed).toEqual({ all: true, streamIds: [] });
    const subscriber = await until('signed subscription on the open gateway', async () => {
      const attempt = client({ streamId: signedId, token }, openGateway);
      return (await attempt.subscribed).streamIds.includes(signedId) ? attempt : undefined;
    });
    await warmUp(viewer.url, open, `warm-open-${prefix}`);
    const signedEvent = makeEvent(signedId);
    const publicEvent = makeEvent(publicId);
    expect((await postEvents(viewer.url, signedEvent)).status).toBe(202);
    expect((await postEvents(viewer.url, publicEvent)).status).toBe(202);
    // Same partition (one event partition), Kafka order: once the later public event is in, the
    // signed one was delivered (to its subscriber) or left out (of the firehose).
    await waitFor('the public event on the open firehose', () => open.ids(publicId).includes(publicEvent.event_id));
    await waitFor('the signed event at its subscriber', () => subscriber.ids(signedId).includes(signedEvent.event_id));
    expect(open.ids(signedId)).toEqual([]);
  }, 90_000);

  it('METRICS_PORT: /metrics only on its own port', async () => {
    expect((await fetch(`${viewer.url}/metrics`)).status).toBe(404);
    const metrics = await fetch(`http://127.0.0.1:${viewerMetricsPort}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('tributary_http_request_duration_seconds');
  });
});
