import { readTopic } from '../support/playback-events';
import { kafkaFor } from '../support/video-topics';
import { createFaultStream, FaultPlatform, sleep } from './support/fault-platform';
import { scenario } from './support/fault-results';
import { HlsWatcher } from './support/hls-watcher';
import { EventLoad, ReconnectingPublisher, ResumingClient } from './support/load';
import { until } from '../support/video-stack';

/**
 * The broker is SIGKILLed mid-publish and mid-events, stays down for a while, and comes back on
 * the same port and data dir. Every event answered 202 must be on the topic and reach each
 * client exactly once; the live stream must resume with the gap marked as a discontinuity and no
 * duplicate or backward media sequence.
 */
const SUITE = 'broker SIGKILL + restart';
const DOWN_MS = 8_000;
let platform: FaultPlatform;
let watcher: HlsWatcher;
let publisher: ReconnectingPublisher;
let load: EventLoad;
let clients: ResumingClient[] = [];
let killedAt = 0;
let backAt = 0;
const videoId = `bk-video`;
const eventsId = `bk-events`;

let setupError: Error | undefined;

beforeAll(async () => {
  try {
    await runFault();
  } catch (error) {
    setupError = error instanceof Error ? error : new Error(String(error));
    const file = platform?.writeDiagnostics(`setup failed: ${String(error)}\npublisher exits: ${publisher?.exits.join('\n')}\nwatcher: ${watcher?.segments.size} segments, ${watcher?.failovers} failovers\n`);
    process.stderr.write(`fault setup failed; diagnostics in ${file}\n`);
  }
}, 600_000);

async function runFault(): Promise<void> {
  platform = await FaultPlatform.start({ name: 'broker' });
  const key = await createFaultStream(platform.replicas.ingest[0].url, videoId);
  const gateways = () => platform.replicas['event-gateway'].map((replica) => replica.url);
  const viewers = () => platform.replicas['viewer-api'].map((replica) => replica.url);
  clients = [new ResumingClient(gateways, eventsId, 0), new ResumingClient(gateways, eventsId, 1)];
  await Promise.all(clients.map((client) => client.connect()));
  publisher = new ReconnectingPublisher(() => platform.replicas.ingest.map((replica) => replica.url), key);
  publisher.start();
  watcher = new HlsWatcher(viewers, videoId);
  watcher.start();
  // Both clients see live events before the load starts (a fresh gateway group starts at "latest").
  const warm = new EventLoad(viewers, eventsId, 1, 500);
  warm.start();
  await until('both gateways deliver', async () => (clients.every((client) => client.counts.size > 0) ? true : undefined), 60_000);
  await warm.stop();
  load = new EventLoad(viewers, eventsId);
  load.start();
  await until('3 live segments', async () => (watcher.segments.size >= 3 ? true : undefined), 90_000, 1000);
  await sleep(3_000);

  killedAt = Date.now();
  await platform.killBroker();
  await sleep(DOWN_MS);
  await platform.restartBroker();
  backAt = Date.now();

  await until('new segments after the restart', async () => (watcher.newSince(backAt) >= 3 ? true : undefined), 150_000, 1000).catch(() => undefined);
  await sleep(5_000);
  await load.stop();
  await publisher.stop();
  await watcher.stop();
  // Delivery catches up after the restart; give it a bounded while.
  await until('clients caught up', async () => (clients.every((client) => client.check(load.accepted.keys()).missing.length === 0) ? true : undefined), 60_000, 500).catch(() => undefined);
}

afterAll(async () => {
  for (const client of clients) client.close();
  await load?.stop();
  await publisher?.stop();
  await watcher?.stop();
  await platform?.stop();
}, 120_000);

it('events: every 202 is on the topic and reaches each client exactly once', async () => {
  await scenario(SUITE, 'mid-events: 202 ⇒ on topic, exactly once per client', async (figures) => {
    if (setupError) throw setupError;
    const accepted = [...load.accepted.keys()];
    figures.set('posts', load.summary());
    figures.set('events 202', accepted.length);
    const records = await readTopic(kafkaFor(platform.brokers), `${platform.prefix}.playback.events`, 60_000);
    const onTopic = new Map<string, number>();
    for (const record of records) {
      const id = (JSON.parse(record.value ?? '{}') as { event_id?: string }).event_id;
      if (id) onTopic.set(id, (onTopic.get(id) ?? 0) + 1);
    }
    const lost = accepted.filter((id) => !onTopic.has(id));
    figures.set('202 missing from topic', lost.length);
    figures.set('duplicates on topic', [...onTopic.values()].filter((count) => count > 1).length);
    const checks = clients.map((client) => client.check(accepted));
    figures.set('missing at clients', checks.map((check) => check.missing.length).join('/'));
    figures.set('duplicated at clients', checks.map((check) => check.duplicated.length).join('/'));
    figures.set('client reconnects', clients.map((client) => client.reconnects).join('/'));
    expect(accepted.length).toBeGreaterThan(100);
    expect(lost).toEqual([]);
    for (const check of checks) {
      expect(check.missing).toEqual([]);
      expect(check.duplicated).toEqual([]);
    }
  });
});

it('video: the stream resumes after the restart, gap marked, no duplicate or backward sequence', async () => {
  await scenario(SUITE, 'mid-publish: stream resumes, discontinuity, sequences', async (figures) => {
    if (setupError) throw setupError;
    figures.set('broker down s', ((backAt - killedAt) / 1000).toFixed(1));
    figures.set('segments', watcher.segments.size);
    figures.set('after restart', watcher.newSince(backAt));
    figures.set('discontinuities', watcher.discontinuities);
    figures.set('publisher sessions', publisher.sessions);
    figures.set('max stall s', (watcher.maxStallMs / 1000).toFixed(1));
    figures.set('violations', watcher.violations.length);
    expect(watcher.violations).toEqual([]);
    expect(watcher.newSince(backAt)).toBeGreaterThanOrEqual(3);
    // The outage is a gap in the timeline: a player must be told (EXT-X-DISCONTINUITY).
    expect(watcher.discontinuitiesBetween(killedAt, Number.MAX_SAFE_INTEGER)).toBeGreaterThanOrEqual(1);
  });
});
