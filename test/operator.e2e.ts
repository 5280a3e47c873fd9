import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type StreamRecord, Topics, topicName } from '@tributary/contracts';
import { freePort, type KubeApiServer, type LocalKafka, REPO_ROOT, type ServiceProcess, startKubeApiServer, startLocalKafka, startService } from '@tributary/devkit';
import type { Kafka } from 'kafkajs';
import { startVideoStack, until, type VideoStack } from './support/video-stack';
import { kafkaFor, publishTestPattern, type ReadMessage, TopicTap } from './support/video-topics';

/**
 * The LiveStream operator against a real kube-apiserver (libs/devkit startKubeApiServer: etcd +
 * kube-apiserver, no controller-manager, so no garbage collector) and a real broker, with the
 * built ingest, transcoder, viewer-api and operator (`npx tsc -b` first) and ffmpeg publishing.
 * Kafka failures use a broker of their own (SIGSTOP'd), so the shared one is never disturbed.
 */
const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const prefix = `op-${randomUUID().slice(0, 8)}`;
const topic = (base: string) => topicName(base, prefix);
const NS = 'media';
const NS_KAFKA_DOWN = 'kafka-down';
const API = '/apis/streaming.tributary.io/v1alpha1';
const CRD = join(REPO_ROOT, 'k8s', 'crds', 'livestream.yaml');

interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
  lastTransitionTime: string;
}
interface LiveStreamObject {
  metadata: { name: string; generation: number; finalizers?: string[]; uid: string };
  spec: Record<string, unknown>;
  status?: { phase?: string; observedGeneration?: number; conditions?: Condition[]; streamKeySecretRef?: { name: string; key: string }; message?: string };
}

let kube: KubeApiServer;
let stack: VideoStack;
let operator: ServiceProcess<'operator'>;
let kafka: Kafka;
let tap: TopicTap;
let ownKafka: LocalKafka;
const latencies: number[] = [];

const small = (name: string, height: number) => ({ name, height, videoBitrateKbps: 300, audioBitrateKbps: 64 });

const path = (namespace: string, name?: string) => `${API}/namespaces/${namespace}/livestreams${name ? `/${name}` : ''}`;
const create = (namespace: string, name: string, spec: Record<string, unknown>) =>
  kube.request('POST', path(namespace), { apiVersion: 'streaming.tributary.io/v1alpha1', kind: 'LiveStream', metadata: { name }, spec });
const get = async (namespace: string, name: string) => kube.request<LiveStreamObject>('GET', path(namespace, name));
const patchSpec = (namespace: string, name: string, spec: Record<string, unknown>) =>
  kube.request('PATCH', path(namespace, name), { spec }, { contentType: 'application/merge-patch+json' });
const condition = (object: LiveStreamObject | undefined, type: string) => object?.status?.conditions?.find((entry) => entry.type === type);

/** Resolves with the LiveStream once `check` holds for it. */
async function waitForLiveStream(namespace: string, name: string, what: string, check: (object: LiveStreamObject) => boolean, timeoutMs = 60_000, everyMs = 200) {
  return until(
    `${namespace}/${name}: ${what}`,
    async () => {
      const response = await get(namespace, name);
      return response.status === 200 && check(response.body) ? response.body : undefined;
    },
    timeoutMs,
    everyMs,
  );
}

const isReady = (object: LiveStreamObject) => condition(object, 'Ready')?.status === 'True' && object.status?.observedGeneration === object.metadata.generation;

/** The stream key, as the operator stored it in the LiveStream's Secret. */
async function streamKeyOf(namespace: string, name: string): Promise<string> {
  const secret = await kube.request<{ data: Record<string, string> }>('GET', `/api/v1/namespaces/${namespace}/secrets/${name}-stream-key`);
  expect(secret.status).toBe(200);
  return Buffer.from(secret.body.data.streamKey ?? '', 'base64').toString('utf8');
}

/** The latest value of a stream's key in a compacted-topic tap (null = tombstone, undefined = never written). */
function latestRecord(messages: ReadMessage[], registryTopic: string, id: string): StreamRecord | null | undefined {
  const last = messages.filter((message) => message.topic === registryTopic && message.key === id).at(-1);
  if (!last) return undefined;
  return last.value === null ? null : (JSON.parse(last.value.toString()) as StreamRecord);
}

const statuses = (id: string) => tap.statuses(topic(Topics.streamStatus), id);

function operatorEnv(namespace: string, kafkaBrokers: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    KAFKA_BROKERS: kafkaBrokers,
    TOPIC_PREFIX: prefix,
    KAFKA_VIDEO_PARTITIONS: '2',
    KAFKA_EVENT_PARTITIONS: '1',
    KUBECONFIG: kube.kubeconfigPath,
    OPERATOR_NAMESPACE: namespace,
    OPERATOR_LEASE_NAMESPACE: namespace,
    OPERATOR_STATUS_INTERVAL_MS: '1000',
    OPERATOR_RETRY_BASE_MS: '250',
    OPERATOR_RETRY_MAX_MS: '4000',
    OPERATOR_LAG_AUTOSCALER_GROUP: `${prefix}-transcoder`,
    LOG_LEVEL: 'warn',
    ...extra,
  };
}

beforeAll(async () => {
  kafka = kafkaFor(brokers);
  // The own broker of the Kafka-failure case starts meanwhile (it takes ~15 s).
  const ownKafkaStarted = startLocalKafka({ heapMb: 256 });
  kube = await startKubeApiServer({ log: (line) => console.log(`[kube-api-server] ${line}`) });
  await kube.installCrds([CRD]);
  await kube.createNamespace(NS);
  await kube.createNamespace(NS_KAFKA_DOWN);
  stack = await startVideoStack({ brokers, prefix, transcoderEnv: { TRANSCODER_THREADS: '1', TRANSCODER_THUMBNAIL_INTERVAL_SECONDS: '0' } });
  const port = await freePort();
  operator = await startService('operator', {
    port,
    env: { ...operatorEnv(NS, brokers), INGEST_PUBLIC_URL: stack.ingest.url, VIEWER_PUBLIC_URL: stack.viewer.url },
  });
  tap = await new TopicTap(kafka, [topic(Topics.streamRegistry), topic(Topics.streamStatus)]).start();
  ownKafka = await ownKafkaStarted;
}, 240_000);

afterAll(async () => {
  if (ownKafka) process.kill(-ownKafka.pid, 'SIGCONT');
  await tap?.stop();
  await operator?.stop();
  await stack?.stop();
  await kube?.stop();
  await ownKafka?.stop();
}, 120_000);

it('the chart ships the same CRD as k8s/crds', () => {
  expect(readFileSync(join(REPO_ROOT, 'helm', 'tributary', 'crds', 'livestream.yaml'), 'utf8')).toBe(readFileSync(CRD, 'utf8'));
});

describe('the API server rejects invalid LiveStreams with the CRD schema', () => {
  it.each([
    ['a name that is not a stream id (dots)', 'bad.name', { title: 'x' }, /metadata.name is the stream id/],
    ['no title', 'no-title', {}, /spec.title: Required value/],
    ['a rendition taller than 4320', 'too-tall', { title: 'x', ladder: [small('8k', 8640)] }, /less than or equal to 4320/],
    ['an odd height', 'odd', { title: 'x', ladder: [small('odd', 361)] }, /height must be even/],
    ['two renditions with one name', 'dup', { title: 'x', ladder: [small('a', 360), small('a', 240)] }, /Duplicate value/],
    ['latencyMode low with 6 s segments (CEL across fields)', 'low', { title: 'x', latencyMode: 'low', segmentSeconds: 6 }, /latencyMode low needs segmentSeconds of at most 2/],
    ['a retention shorter than 10 segments (CEL across fields)', 'short', { title: 'x', segmentSeconds: 10, retention: '90s' }, /retention must keep at least 10 segments/],
    ['a retention that is not a duration', 'forever', { title: 'x', retention: 'forever' }, /retention must be a duration/],
    ['an unknown latency mode', 'ultra', { title: 'x', latencyMode: 'ultra' }, /Unsupported value: "ultra"/],
  ])('%s', async (_what, name, spec, message) => {
    const response = await create(NS, name, spec);
    expect(response.status).toBe(422);
    expect((response.body as { message?: string }).message).toMatch(message);
  });

  it('accepts a full valid spec and defaults what it leaves out', async () => {
    const response = await kube.request<LiveStreamObject>(
      'POST',
      path(NS),
      { apiVersion: 'streaming.tributary.io/v1alpha1', kind: 'LiveStream', metadata: { name: 'valid' }, spec: { title: 'x', ladder: [small('360p', 360)] } },
      { query: { dryRun: 'All' } },
    );
    expect(response.status).toBe(201);
    expect(response.body.spec).toMatchObject({ segmentSeconds: 2, latencyMode: 'standard' });
  });
});

describe('a LiveStream', () => {
  const name = 'town-hall';

  it('gets a stream-key Secret, its stream.registry entry, a finalizer and Ready=True for its generation', async () => {
    const started = Date.now();
    expect((await create(NS, name, { title: 'Town hall', ladder: [small('240p', 240), small('144p', 144)] })).status).toBe(201);
    const ready = await waitForLiveStream(NS, name, 'Ready=True', isReady, 60_000, 25);
    latencies.push(Date.now() - started);

    expect(ready.metadata.finalizers).toContain('streaming.tributary.io/stream-cleanup');
    expect(ready.status).toMatchObject({ phase: 'Idle', observedGeneration: 1, streamKeySecretRef: { name: `${name}-stream-key`, key: 'streamKey' } });
    expect(condition(ready, 'Registered')).toMatchObject({ status: 'True', reason: 'RegistryEntryWritten' });
    const secret = await kube.request<{ metadata: { ownerReferences: { uid: string; kind: string }[] } }>('GET', `/api/v1/namespaces/${NS}/secrets/${name}-stream-key`);
    expect(secret.body.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'LiveStream', uid: ready.metadata.uid })]);

    // The entry in stream.registry carries only the key's hash, read back from Kafka.
    const key = await streamKeyOf(NS, name);
    const record = await tap.waitFor((messages) => latestRecord(messages, topic(Topics.streamRegistry), name), 30_000, 'the registry entry');
    expect(record).toMatchObject({
      id: name,
      title: 'Town hall',
      stream_key_sha256: createHash('sha256').update(key).digest('hex'),
      managed_by: `livestream/${NS}/${name}`,
      publishing_enabled: true,
      ladder: [
        { name: '240p', width: 426, height: 240, video_bitrate_kbps: 300, audio_bitrate_kbps: 64 },
        { name: '144p', width: 256, height: 144, video_bitrate_kbps: 300, audio_bitrate_kbps: 64 },
      ],
    });
    // ingest picked it up exactly as a stream created through its own API.
    await until('ingest knows the stream', async () => ((await fetch(`${stack.ingest.url}/v1/streams/${name}`)).status === 200 ? true : undefined), 30_000);
    // The stream key never reaches the operator's log.
    expect(operator.output()).not.toContain(key);
  });

  it('goes Live while ffmpeg publishes with its key, then Ended, with the ladder of its spec', async () => {
    const key = await streamKeyOf(NS, name);
    const publisher = publishTestPattern(`${stack.ingest.url}/live/${key}`, { size: '426x240', rate: 10, seconds: 6 });
    const live = await waitForLiveStream(NS, name, 'phase Live', (object) => object.status?.phase === 'Live', 60_000);
    expect(condition(live, 'Publishing')).toMatchObject({ status: 'True', reason: 'Live' });
    expect((await publisher.done).code).toBe(0);
    const ended = await waitForLiveStream(NS, name, 'phase Ended', (object) => object.status?.phase === 'Ended', 90_000);
    expect(condition(ended, 'Publishing')).toMatchObject({ status: 'False', reason: 'Ended' });
    const transcoderLive = statuses(name).find((status) => status.reporter === 'transcoder' && status.state === 'live' && status.renditions);
    expect(transcoderLive?.renditions?.map((rendition) => rendition.name)).toEqual(['240p', '144p']);
  }, 150_000);

  it('changing the ladder rewrites the registry entry and the next publish has the new renditions', async () => {
    const before = statuses(name).length;
    expect((await patchSpec(NS, name, { ladder: [small('180p', 180)] })).status).toBe(200);
    await waitForLiveStream(NS, name, 'generation 2 observed', (object) => isReady(object) && object.status?.observedGeneration === 2);
    const record = await tap.waitFor(
      (messages) => {
        const latest = latestRecord(messages, topic(Topics.streamRegistry), name);
        return latest && latest.ladder.length === 1 ? latest : undefined;
      },
      30_000,
      'the new ladder in the registry',
    );
    expect(record.ladder).toEqual([{ name: '180p', width: 320, height: 180, video_bitrate_kbps: 300, audio_bitrate_kbps: 64 }]);

    const publisher = publishTestPattern(`${stack.ingest.url}/live/${await streamKeyOf(NS, name)}`, { size: '426x240', rate: 10, seconds: 5 });
    expect((await publisher.done).code).toBe(0);
    const renditions = await until(
      'the transcoder live report of the second publish',
      async () => statuses(name).slice(before).find((status) => status.reporter === 'transcoder' && status.state === 'live' && status.renditions)?.renditions,
      90_000,
    );
    expect(renditions.map((rendition) => rendition.name)).toEqual(['180p']);
  }, 150_000);

  it('publishing.enabled=false makes ingest refuse the key with a 403 naming the reason', async () => {
    expect((await patchSpec(NS, name, { publishing: { enabled: false } })).status).toBe(200);
    await waitForLiveStream(NS, name, 'publishing disabled observed', (object) => isReady(object) && condition(object, 'Publishing')?.reason !== 'Live');
    await tap.waitFor((messages) => latestRecord(messages, topic(Topics.streamRegistry), name)?.publishing_enabled === false, 30_000, 'publishing_enabled=false in the registry');
    const key = await streamKeyOf(NS, name);
    const response = await until(
      'ingest refusing the publish',
      async () => {
        const answer = await fetch(`${stack.ingest.url}/live/${key}`, { method: 'POST', body: Buffer.alloc(188 * 10, 0x47) });
        return answer.status === 403 ? answer : undefined;
      },
      30_000,
    );
    expect(((await response.json()) as { message: string }).message).toMatch(/publishing to stream town-hall is disabled/);
  });

  it('deleting it runs the finalizer: registry tombstone, Secret deleted, then the resource is gone', async () => {
    expect((await kube.request('DELETE', path(NS, name))).status).toBe(200);
    await until('the LiveStream is gone', async () => ((await get(NS, name)).status === 404 ? true : undefined), 60_000);
    expect((await kube.request('GET', `/api/v1/namespaces/${NS}/secrets/${name}-stream-key`)).status).toBe(404);
    await tap.waitFor((messages) => latestRecord(messages, topic(Topics.streamRegistry), name) === null, 30_000, 'the registry tombstone');
    await until('ingest forgot the stream', async () => ((await fetch(`${stack.ingest.url}/v1/streams/${name}`)).status === 404 ? true : undefined), 30_000);
  }, 90_000);
});

it('measures create → Ready=True over a few more LiveStreams', async () => {
  for (const name of ['latency-1', 'latency-2', 'latency-3']) {
    const started = Date.now();
    expect((await create(NS, name, { title: name })).status).toBe(201);
    await waitForLiveStream(NS, name, 'Ready=True', isReady, 60_000, 25);
    latencies.push(Date.now() - started);
  }
  console.log(`[operator.e2e] create → Ready=True latency (ms): ${latencies.join(', ')}`);
});

it('converges after the API server restarts mid-reconcile, and watches again', async () => {
  expect((await create(NS, 'restart-a', { title: 'created just before the restart' })).status).toBe(201);
  await kube.restartApiServer({ downMs: 2_000 });
  await waitForLiveStream(NS, 'restart-a', 'Ready=True after the restart', isReady, 90_000);
  // A resource created after the restart is seen: the informers listed and watched again.
  expect((await create(NS, 'restart-b', { title: 'created after the restart' })).status).toBe(201);
  await waitForLiveStream(NS, 'restart-b', 'Ready=True', isReady, 90_000);
  for (const name of ['restart-a', 'restart-b']) {
    expect(latestRecord(tap.messages, topic(Topics.streamRegistry), name) ?? (await tap.waitFor((m) => latestRecord(m, topic(Topics.streamRegistry), name), 30_000, name))).toMatchObject({ id: name });
  }
}, 180_000);

it('a reconcile that fails because Kafka is unreachable is reported in a condition and retried with backoff until it succeeds', async () => {
  const port = await freePort();
  const second = await startService('operator', {
    port,
    env: { ...operatorEnv(NS_KAFKA_DOWN, ownKafka.brokers, { OPERATOR_KAFKA_WRITE_TIMEOUT_MS: '1500', LOG_LEVEL: 'warn' }) },
  });
  try {
    expect((await create(NS_KAFKA_DOWN, 'offline', { title: 'before' })).status).toBe(201);
    await waitForLiveStream(NS_KAFKA_DOWN, 'offline', 'Ready=True', isReady);

    process.kill(-ownKafka.pid, 'SIGSTOP'); // the broker freezes: connections open, no answers
    expect((await patchSpec(NS_KAFKA_DOWN, 'offline', { title: 'after' })).status).toBe(200);
    const failed = await waitForLiveStream(NS_KAFKA_DOWN, 'offline', 'Registered=False', (object) => condition(object, 'Registered')?.status === 'False', 60_000);
    expect(condition(failed, 'Registered')).toMatchObject({ reason: 'RegistryWriteFailed' });
    expect(condition(failed, 'Registered')?.message).toMatch(/Kafka did not acknowledge within 1500 ms/);
    expect(condition(failed, 'Ready')?.status).toBe('False');
    expect(failed.status?.phase).toBe('Error');
    // Retried, with a growing delay (OPERATOR_RETRY_BASE_MS 250 · 2^n).
    const retries = await until(
      'three failed attempts',
      async () => {
        const delays = [...second.output().matchAll(/reconcile of LiveStream kafka-down\/offline failed; retrying in (\d+) ms/g)].map((match) => Number(match[1]));
        return delays.length >= 3 ? delays : undefined;
      },
      60_000,
    );
    expect(retries.slice(0, 3)).toEqual([250, 500, 1000]);

    process.kill(-ownKafka.pid, 'SIGCONT');
    const recovered = await waitForLiveStream(NS_KAFKA_DOWN, 'offline', 'Ready=True after Kafka is back', (object) => isReady(object) && condition(object, 'Registered')?.status === 'True', 90_000);
    expect(recovered.status?.observedGeneration).toBe(2);
    const ownTap = await new TopicTap(kafkaFor(ownKafka.brokers), [topic(Topics.streamRegistry)]).start();
    try {
      await ownTap.waitFor((messages) => latestRecord(messages, topic(Topics.streamRegistry), 'offline')?.title === 'after', 30_000, 'the new title in the registry');
    } finally {
      await ownTap.stop();
    }
  } finally {
    process.kill(-ownKafka.pid, 'SIGCONT');
    await second.stop();
  }
}, 240_000);
