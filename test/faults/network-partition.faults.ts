import { partitionForKey } from '@tributary/kafka';
import { readTopic } from '../support/playback-events';
import { until } from '../support/video-stack';
import { kafkaFor } from '../support/video-topics';
import { createFaultStream, FaultPlatform, sleep, unhealthy } from './support/fault-platform';
import { scenario, skipRow } from './support/fault-results';
import { HlsWatcher } from './support/hls-watcher';
import { EventLoad, ReconnectingPublisher, ResumingClient } from './support/load';
import { BrokerPartition, ReadyEndpoints } from './support/netns';

/**
 * One replica each of transcoder, viewer-api and event-gateway runs in a network namespace of
 * the test's own and reaches the broker over a veth link; the link goes down for longer than the
 * consumer session timeout, then comes back. Clients still reach those replicas (a second link)
 * and route by /readyz, like a Service. Expected: the other replicas take over (the stream keeps
 * playing, one discontinuity per move of its partition — the takeover at the cut and, since
 * kafkajs' round-robin assignor is not sticky, possibly moves at the heal: ≤ 3 — and no
 * duplicate/backward sequence when the cut-off transcoder comes back), nothing is answered 202 that is not on the topic, every client gets every accepted event
 * exactly once after the heal, and the partitioned replicas recover by themselves.
 */
const SUITE = 'network partition (netns) of one replica set from the broker';
const CUT_MS = 25_000;
let partition: BrokerPartition | undefined;
let platform: FaultPlatform;
let watchers: HlsWatcher[] = [];
let publishers: ReconnectingPublisher[] = [];
let load: EventLoad;
let viewers: ReadyEndpoints | undefined;
let clients: ResumingClient[] = [];
let skipReason: string | undefined;
let setupError: Error | undefined;
let cutAt = 0;
let healedAt = 0;
let recoveredAfterMs: number | undefined;
let busyBeforeCut = 'none';
let notReadyDuringCut: string[] = [];
/** One video stream per `video.ingest` partition (2): both transcoders work, so the cut-off one holds a stream. */
const videoIds = [0, 1].map((partition) => {
  for (let n = 0; ; n++) if (partitionForKey('video.ingest', `part-video-${n}`, 2) === partition) return `part-video-${n}`;
});
const eventsId = 'part-events';

async function runFault(): Promise<void> {
  partition = new BrokerPartition();
  await partition.create();
  const kafkaPort = 20_000 + Math.floor(Math.random() * 20_000);
  const placement = partition.placement(kafkaPort);
  platform = await FaultPlatform.start({
    name: 'part',
    extraListeners: [{ name: 'VETH', host: partition.brokerHost, port: kafkaPort }],
    placements: { 'transcoder#1': placement, 'viewer-api#1': placement, 'event-gateway#1': placement },
  });
  const keys = await Promise.all(videoIds.map((id) => createFaultStream(platform.replicas.ingest[0].url, id)));
  const gateways = () => platform.replicas['event-gateway'].map((replica) => replica.url);
  viewers = new ReadyEndpoints(platform.replicas['viewer-api'].map((replica) => replica.url));
  // One client per gateway: client 1 stays on the partitioned gateway (its socket is not cut).
  clients = [new ResumingClient(gateways, eventsId, 0), new ResumingClient(gateways, eventsId, 1)];
  await Promise.all(clients.map((client) => client.connect()));
  const warm = new EventLoad(() => viewers!.ready(), eventsId, 1, 500);
  warm.start();
  await until('both gateways deliver', async () => (clients.every((client) => client.counts.size > 0) ? true : undefined), 60_000);
  await warm.stop();
  publishers = keys.map((key) => new ReconnectingPublisher(() => platform.replicas.ingest.map((replica) => replica.url), key));
  for (const publisher of publishers) publisher.start();
  watchers = videoIds.map((id) => new HlsWatcher(() => viewers!.ready(), id));
  for (const watcher of watchers) watcher.start();
  // Posts go to both viewer-api replicas regardless of readiness: a 202 from the cut-off one would be a lie.
  load = new EventLoad(() => platform.replicas['viewer-api'].map((replica) => replica.url), eventsId);
  load.start();
  await until('3 live segments of each stream', async () => (watchers.every((watcher) => watcher.segments.size >= 3) ? true : undefined), 90_000, 1000);
  await sleep(3_000);

  busyBeforeCut = (await platform.busyTranscoders()).map((replica) => replica.label).join(' ') || 'none';
  cutAt = Date.now();
  await partition.cut();
  await sleep(CUT_MS - 5_000);
  notReadyDuringCut = await platform.notReady();
  await sleep(5_000);
  await partition.heal();
  healedAt = Date.now();
  await until('partitioned replicas ready again', async () => {
    const ready = await Promise.all(platform.all().map(async (replica) => (await fetch(`${replica.url}/readyz`, { signal: AbortSignal.timeout(2_000) }).catch(() => undefined))?.ok === true));
    return ready.every(Boolean) ? true : undefined;
  }, 90_000, 1000).then(() => (recoveredAfterMs = Date.now() - healedAt)).catch(() => undefined);
  await until('segments after the heal', async () => (watchers.every((watcher) => watcher.newSince(healedAt) >= 3) ? true : undefined), 60_000, 1000).catch(() => undefined);
  await load.stop();
  for (const publisher of publishers) await publisher.stop();
  for (const watcher of watchers) await watcher.stop();
  await until('clients caught up', async () => (clients.every((client) => client.check(load.accepted.keys()).missing.length === 0) ? true : undefined), 60_000, 500).catch(() => undefined);
}

beforeAll(async () => {
  skipReason = await BrokerPartition.unavailable();
  if (skipReason) {
    process.stderr.write(`network partition scenario skipped: ${skipReason}\n`);
    return;
  }
  try {
    await runFault();
  } catch (error) {
    setupError = error instanceof Error ? error : new Error(String(error));
    const file = platform?.writeDiagnostics(`setup failed: ${String(error)}\npublisher exits: ${publishers.flatMap((publisher) => publisher.exits).join('\n')}\n`);
    process.stderr.write(`fault setup failed; diagnostics in ${file}\n`);
  }
}, 600_000);

afterAll(async () => {
  for (const client of clients) client.close();
  await load?.stop();
  for (const publisher of publishers) await publisher.stop();
  for (const watcher of watchers) await watcher.stop();
  await viewers?.stop();
  await platform?.stop();
  await partition?.destroy();
}, 120_000);

// Also on a crash of the test process: never leave a namespace or veth behind.
process.once('exit', () => {
  void partition?.destroy();
});

it('events: nothing answered 202 is missing from the topic; clients get every event exactly once after the heal', async () => {
  if (skipReason) {
    skipRow(SUITE, 'events across the partition', skipReason);
    return;
  }
  await scenario(SUITE, 'events: 202 ⇒ on topic, exactly once per client after heal', async (figures) => {
    if (setupError) throw setupError;
    const accepted = [...load.accepted.keys()];
    figures.set('cut s', ((healedAt - cutAt) / 1000).toFixed(0));
    figures.set('posts', load.summary());
    figures.set('events 202', accepted.length);
    const records = await readTopic(kafkaFor(platform.brokers), `${platform.prefix}.playback.events`, 60_000);
    const onTopic = new Set(records.map((record) => (JSON.parse(record.value ?? '{}') as { event_id?: string }).event_id));
    const lost = accepted.filter((id) => !onTopic.has(id));
    figures.set('202 missing from topic', lost.length);
    const checks = clients.map((client) => client.check(accepted));
    figures.set('missing at clients', checks.map((check) => check.missing.length).join('/'));
    figures.set('duplicated at clients', checks.map((check) => check.duplicated.length).join('/'));
    expect(lost).toEqual([]);
    for (const check of checks) {
      expect(check.missing).toEqual([]);
      expect(check.duplicated).toEqual([]);
    }
  });
});

it('video: playback continues through the partition and the heal; the partitioned replicas recover', async () => {
  if (skipReason) {
    skipRow(SUITE, 'video across the partition', skipReason);
    return;
  }
  await scenario(SUITE, 'video: keeps playing, ≤ 1 discontinuity per partition move (≤ 3), replicas recover', async (figures) => {
    if (setupError) throw setupError;
    const each = (value: (watcher: HlsWatcher) => string | number) => watchers.map(value).join('/');
    figures.set('streams', videoIds.length);
    figures.set('segments during cut', each((watcher) => watcher.newSince(cutAt) - watcher.newSince(healedAt)));
    figures.set('after heal', each((watcher) => watcher.newSince(healedAt)));
    figures.set('discontinuities', each((watcher) => watcher.discontinuitiesBetween(cutAt, Number.MAX_SAFE_INTEGER)));
    figures.set('max stall s', each((watcher) => (watcher.maxGapBetween(cutAt, Number.MAX_SAFE_INTEGER) / 1000).toFixed(1)));
    figures.set('violations', each((watcher) => watcher.violations.length));
    figures.set('transcoding before cut', busyBeforeCut);
    figures.set('not ready during cut', notReadyDuringCut.join(' ') || 'none');
    figures.set('ready again after heal s', recoveredAfterMs === undefined ? 'never (90 s)' : (recoveredAfterMs / 1000).toFixed(1));
    const bad = await unhealthy(platform.all());
    expect(bad).toEqual([]);
    expect(recoveredAfterMs).toBeDefined();
    for (const watcher of watchers) {
      expect(watcher.violations).toEqual([]);
      expect(watcher.newSince(healedAt)).toBeGreaterThanOrEqual(3);
      // One per ownership move of the stream's partition: the takeover at the cut, then the moves
      // at the heal. kafkajs' round-robin assignor is not sticky, and the returning member can cause
      // more than one rebalance, each of which may move the partition: one run saw 3 (1 + 2 at the
      // heal). The bound allows that; sequences never repeating or going back is checked above.
      expect(watcher.discontinuitiesBetween(cutAt, Number.MAX_SAFE_INTEGER)).toBeLessThanOrEqual(3);
    }
  });
});
