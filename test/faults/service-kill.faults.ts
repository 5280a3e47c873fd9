import type { ServiceName } from '@tributary/devkit';
import { readTopic } from '../support/playback-events';
import { until } from '../support/video-stack';
import { kafkaFor } from '../support/video-topics';
import { createFaultStream, FaultPlatform, type Replica, sleep } from './support/fault-platform';
import { Figures, recordRow, scenario } from './support/fault-results';
import { HlsWatcher } from './support/hls-watcher';
import { EventLoad, ReconnectingPublisher, ResumingClient } from './support/load';

/**
 * Each service in turn loses a replica to SIGKILL while a stream is published and watched and
 * events flow; the replica comes back on the same port. Its partitions must move to the other
 * replica, the test's HLS client must keep playing with at most one discontinuity per fault
 * (including the replica's return), and no event answered 202 may be lost — the Socket.IO
 * clients resume on the other gateway and must get each event exactly once.
 */
const SUITE = 'service SIGKILL under load';
const ORDER: ServiceName[] = ['ingest', 'transcoder', 'viewer-api', 'event-gateway'];
interface FaultWindow {
  readonly service: ServiceName;
  readonly victim: string;
  readonly killedAt: number;
  readonly endedAt: number;
  readonly violations: number;
  readonly error?: string;
}
let platform: FaultPlatform;
let watcher: HlsWatcher;
let publisher: ReconnectingPublisher;
let load: EventLoad;
let clients: ResumingClient[] = [];
const windows: FaultWindow[] = [];
let setupError: Error | undefined;
const videoId = 'kill-video';
const eventsId = 'kill-events';

async function victimOf(service: ServiceName): Promise<Replica> {
  const replicas = platform.replicas[service];
  switch (service) {
    case 'ingest':
      return replicas.find((replica) => replica.url === publisher.currentUrl) ?? replicas[0];
    case 'transcoder':
      return (await platform.busyTranscoders())[0] ?? replicas[0];
    case 'viewer-api':
      return replicas.find((replica) => replica.url === watcher.currentUrl) ?? replicas[0];
    case 'event-gateway':
      return replicas[0];
  }
}

async function runFaults(): Promise<void> {
  platform = await FaultPlatform.start({ name: 'kill' });
  const key = await createFaultStream(platform.replicas.ingest[0].url, videoId);
  const gateways = () => platform.replicas['event-gateway'].map((replica) => replica.url);
  const viewers = () => platform.replicas['viewer-api'].map((replica) => replica.url);
  clients = [new ResumingClient(gateways, eventsId, 0), new ResumingClient(gateways, eventsId, 1)];
  await Promise.all(clients.map((client) => client.connect()));
  const warm = new EventLoad(viewers, eventsId, 1, 500);
  warm.start();
  await until('both gateways deliver', async () => (clients.every((client) => client.counts.size > 0) ? true : undefined), 60_000);
  await warm.stop();
  publisher = new ReconnectingPublisher(() => platform.replicas.ingest.map((replica) => replica.url), key);
  publisher.start();
  watcher = new HlsWatcher(viewers, videoId);
  watcher.start();
  load = new EventLoad(viewers, eventsId);
  load.start();
  await until('3 live segments', async () => (watcher.segments.size >= 3 ? true : undefined), 90_000, 1000);

  for (const service of ORDER) {
    const victim = await victimOf(service);
    const killedAt = Date.now();
    const violationsBefore = watcher.violationCount;
    let error: string | undefined;
    try {
      await victim.kill();
      // The survivors take over: new segments while the victim is down.
      await until(`playback after ${victim.label} was killed`, async () => (watcher.newSince(killedAt) >= 2 ? true : undefined), 90_000, 1000);
      const restartedAt = Date.now();
      await victim.start();
      // …and after it is back (a rejoin may move partitions again).
      await until(`playback after ${victim.label} came back`, async () => (watcher.newSince(restartedAt) >= 2 ? true : undefined), 90_000, 1000);
      await sleep(2_000);
    } catch (caught) {
      error = String(caught);
      if (!victim.alive) await victim.start().catch(() => undefined);
    }
    windows.push({ service, victim: victim.label, killedAt, endedAt: Date.now(), violations: watcher.violationCount - violationsBefore, error });
  }
  await load.stop();
  await publisher.stop();
  await watcher.stop();
  await until('clients caught up', async () => (clients.every((client) => client.check(load.accepted.keys()).missing.length === 0) ? true : undefined), 60_000, 500).catch(() => undefined);
}

beforeAll(async () => {
  try {
    await runFaults();
  } catch (error) {
    setupError = error instanceof Error ? error : new Error(String(error));
    const file = platform?.writeDiagnostics(`setup failed: ${String(error)}\npublisher exits: ${publisher?.exits.join('\n')}\n`);
    process.stderr.write(`fault setup failed; diagnostics in ${file}\n`);
  }
}, 900_000);

afterAll(async () => {
  for (const client of clients) client.close();
  await load?.stop();
  await publisher?.stop();
  await watcher?.stop();
  await platform?.stop();
}, 120_000);

it.each(ORDER)('SIGKILL of a %s replica: playback continues with at most one discontinuity', async (service) => {
  await scenario(SUITE, `SIGKILL ${service} replica: viewers keep playing`, async (figures) => {
    if (setupError) throw setupError;
    const window = windows.find((entry) => entry.service === service);
    if (!window) throw new Error(`${service} was never killed (an earlier step failed)`);
    figures.set('victim', window.victim);
    figures.set('new segments', watcher.newSince(window.killedAt) - watcher.newSince(window.endedAt));
    figures.set('discontinuities', watcher.discontinuitiesBetween(window.killedAt, window.endedAt));
    figures.set('max stall s', (watcher.maxGapBetween(window.killedAt, window.endedAt) / 1000).toFixed(1));
    figures.set('window s', ((window.endedAt - window.killedAt) / 1000).toFixed(0));
    if (window.error) throw new Error(window.error);
    expect(window.violations).toBe(0);
    expect(watcher.discontinuitiesBetween(window.killedAt, window.endedAt)).toBeLessThanOrEqual(1);
  });
});

it('no accepted event is lost; each client gets every event exactly once across gateway kills', async () => {
  await scenario(SUITE, 'events across all kills: 202 ⇒ on topic, exactly once per client', async (figures) => {
    if (setupError) throw setupError;
    const accepted = [...load.accepted.keys()];
    figures.set('posts', load.summary());
    figures.set('events 202', accepted.length);
    const records = await readTopic(kafkaFor(platform.brokers), `${platform.prefix}.playback.events`, 60_000);
    const onTopic = new Set(records.map((record) => (JSON.parse(record.value ?? '{}') as { event_id?: string }).event_id));
    const lost = accepted.filter((id) => !onTopic.has(id));
    figures.set('202 missing from topic', lost.length);
    const checks = clients.map((client) => client.check(accepted));
    figures.set('missing at clients', checks.map((check) => check.missing.length).join('/'));
    figures.set('duplicated at clients', checks.map((check) => check.duplicated.length).join('/'));
    figures.set('client reconnects', clients.map((client) => client.reconnects).join('/'));
    figures.set('publisher sessions', publisher.sessions);
    expect(accepted.length).toBeGreaterThan(100);
    expect(lost).toEqual([]);
    for (const check of checks) {
      expect(check.missing).toEqual([]);
      expect(check.duplicated).toEqual([]);
    }
  });
});

afterAll(() => {
  // A summary row of the whole run's playback, for the table.
  if (!watcher) return;
  const figures = new Figures();
  figures.set('segments', watcher.segments.size);
  figures.set('discontinuities', watcher.discontinuities);
  figures.set('failovers', watcher.failovers);
  figures.set('violations', watcher.violations.length);
  figures.set('publisher sessions', publisher?.sessions ?? 0);
  if (publisher && publisher.exits.length > 0) figures.set('last publisher exit', publisher.exits.at(-1)!.replace(/\/live\/[^\s/:]+/g, '/live/<key>').slice(0, 160));
  recordRow({ suite: SUITE, scenario: 'whole run (HLS client)', outcome: watcher.violations.length === 0 ? 'survived' : 'FAILED', figures: figures.toString(), note: watcher.violations.slice(0, 2).join('; ') || undefined });
});
