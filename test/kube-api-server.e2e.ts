import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { isProcessAlive, KUBE_TOOL_VERSIONS, type KubeApiServer, type KubeObject, REPO_ROOT, startKubeApiServer } from '@tributary/devkit';
import { parseAllDocuments } from 'yaml';

/**
 * The test Kubernetes API server (libs/devkit startKubeApiServer) with the real binaries: etcd and
 * kube-apiserver (built once per machine by tools/k8s/build-tools.sh — the first run waits for it).
 * The Strimzi and KEDA cases use the CRDs of the steering checkout (`../shared/crds`); a clone without
 * it skips them.
 */
const CRDS = join(REPO_ROOT, '..', 'shared', 'crds');
const haveCrds = existsSync(join(CRDS, 'strimzi')) && existsSync(join(CRDS, 'keda'));
if (!haveCrds) console.log(`[kube-api-server.e2e] ${CRDS} is absent: the Strimzi/KEDA CRD cases are skipped`);
const describeWithCrds = haveCrds ? describe : describe.skip;

/** First run: kube-apiserver is built from Go modules (10-30 min on a loaded machine). */
const FIRST_START_TIMEOUT_MS = 45 * 60_000;

describe('test Kubernetes API server', () => {
  let kube: KubeApiServer;

  beforeAll(async () => {
    kube = await startKubeApiServer({ log: (line) => console.log(`[kube-api-server] ${line}`) });
  }, FIRST_START_TIMEOUT_MS);

  afterAll(async () => {
    await kube?.stop();
  });

  it(`is Kubernetes v${KUBE_TOOL_VERSIONS.kubernetes}, on loopback, with a kubeconfig for @kubernetes/client-node`, async () => {
    expect(kube.server).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const version = await kube.request<{ gitVersion: string }>('GET', '/version');
    expect(version.status).toBe(200);
    expect(version.body.gitVersion).toBe(`v${KUBE_TOOL_VERSIONS.kubernetes}`);

    await kube.createNamespace('fixture-test');
    await kube.createNamespace('fixture-test'); // already there: fine

    const config = new KubeConfig();
    config.loadFromFile(kube.kubeconfigPath);
    expect(config.getCurrentCluster()?.server).toBe(kube.server);
    const namespaces = await config.makeApiClient(CoreV1Api).listNamespace();
    expect(namespaces.items.map((namespace) => namespace.metadata?.name)).toEqual(expect.arrayContaining(['default', 'kube-system', 'fixture-test']));
  });

  it('forbids an anonymous client (RBAC on; only the kubeconfig user is in system:masters)', async () => {
    const status = await new Promise<number>((resolveStatus, reject) => {
      // No client certificate; the throwaway serving CA is not trusted here, hence rejectUnauthorized: false.
      https
        .get(`${kube.server}/api/v1/namespaces`, { rejectUnauthorized: false }, (response) => {
          response.resume();
          resolveStatus(response.statusCode ?? 0);
        })
        .on('error', reject);
    });
    expect(status).toBe(403);
  });

  describeWithCrds('with the Strimzi 1.2 and KEDA 2.20 CRDs', () => {
    const kafkaExample = join(CRDS, 'strimzi-examples', 'strimzi', 'kafka_kafka-ephemeral.yaml');
    const objects = (file: string) => parseAllDocuments(readFileSync(file, 'utf8')).map((document) => document.toJS() as KubeObject);
    let installed: string[];

    beforeAll(async () => {
      const files = ['strimzi', 'keda'].flatMap((folder) =>
        readdirSync(join(CRDS, folder))
          .filter((name) => name.endsWith('.yaml'))
          .map((name) => join(CRDS, folder, name)),
      );
      installed = await kube.installCrds(files);
    }, 120_000);

    it('installs them and waits until they are Established and served', async () => {
      expect(installed).toEqual(expect.arrayContaining(['kafkas.kafka.strimzi.io', 'kafkanodepools.kafka.strimzi.io', 'kafkatopics.kafka.strimzi.io', 'kafkausers.kafka.strimzi.io', 'scaledobjects.keda.sh', 'triggerauthentications.keda.sh']));
      expect(installed).toHaveLength(14);
      const strimzi = await kube.request<{ resources: { name: string }[] }>('GET', '/apis/kafka.strimzi.io/v1');
      expect(strimzi.status).toBe(200);
      expect(strimzi.body.resources.map((resource) => resource.name)).toEqual(expect.arrayContaining(['kafkas', 'kafkanodepools', 'kafkas/status']));
      // Installing again is idempotent.
      expect(await kube.installCrds([join(CRDS, 'strimzi', '040-Crd-kafka.yaml')])).toEqual(['kafkas.kafka.strimzi.io']);
    });

    it('accepts the upstream ephemeral Kafka example with ?dryRun=All (201, nothing stored)', async () => {
      await kube.createNamespace('strimzi-dry-run');
      const documents = objects(kafkaExample);
      expect(documents.map((object) => object.kind)).toEqual(['KafkaNodePool', 'KafkaNodePool', 'Kafka']);
      for (const object of documents) {
        const namespaced = { ...object, metadata: { ...object.metadata, namespace: 'strimzi-dry-run' } };
        const created = await kube.createObject(namespaced, { dryRun: true });
        expect({ kind: object.kind, status: created.status }).toEqual({ kind: object.kind, status: 201 });
        expect(created.body.metadata?.uid).toBeDefined();
        expect((await kube.request('GET', await kube.resourcePath(namespaced))).status).toBe(404);
      }
    });

    it('rejects a schema-invalid Kafka with 422 naming each bad field', async () => {
      const kafka = objects(kafkaExample).find((object) => object.kind === 'Kafka') as KubeObject & {
        spec: { kafka: { listeners: Record<string, unknown>[] } };
      };
      kafka.metadata = { ...kafka.metadata, namespace: 'default' };
      kafka.spec.kafka.listeners[0].port = 'ninety-ninety-two';
      kafka.spec.kafka.listeners[1].type = 'carrier-pigeon';
      const rejected = await kube.createObject<{ kind: string; reason: string; message: string }>(kafka, { dryRun: true });
      expect(rejected.status).toBe(422);
      expect(rejected.body.kind).toBe('Status');
      expect(rejected.body.reason).toBe('Invalid');
      expect(rejected.body.message).toContain('spec.kafka.listeners[0].port');
      expect(rejected.body.message).toContain('spec.kafka.listeners[1].type');
    });

    it('accepts a KEDA ScaledObject with a Kafka trigger (the chart scales the stats processor with one)', async () => {
      const scaledObject: KubeObject = {
        apiVersion: 'keda.sh/v1alpha1',
        kind: 'ScaledObject',
        metadata: { name: 'stats', namespace: 'default' },
        spec: {
          scaleTargetRef: { name: 'tributary-event-gateway-stats' },
          minReplicaCount: 1,
          maxReplicaCount: 6,
          triggers: [{ type: 'kafka', metadata: { bootstrapServers: 'my-cluster-kafka-bootstrap:9092', consumerGroup: 'stats-processor', topic: 'playback.events', lagThreshold: '1000' } }],
        },
      };
      const created = await kube.createObject(scaledObject);
      expect(created.status).toBe(201);
      const missingTarget = await kube.createObject<{ message: string }>({ ...scaledObject, metadata: { name: 'broken', namespace: 'default' }, spec: { triggers: [] } });
      expect(missingTarget.status).toBe(422);
      expect(missingTarget.body.message).toContain('spec.scaleTargetRef');
    });
  });

  it('includes the log tails in a start-up error and leaves nothing running', async () => {
    const failure = await startKubeApiServer({ extraArgs: ['--no-such-flag=1'], startTimeoutMs: 120_000 }).then(
      () => new Error('started despite an unknown flag'),
      (error: Error) => error,
    );
    expect(failure.message).toMatch(/kube-apiserver did not become healthy[\s\S]*--- kube-apiserver log \(tail\) ---[\s\S]*no-such-flag/);
    expect(failure.message).toMatch(/--- etcd log \(tail\) ---\n(?!\(no log\)|\(empty\))\S/);
    const dir = /test API server folder (\S+), removed/.exec(failure.message)?.[1];
    expect(dir).toBeDefined();
    expect(existsSync(dir!)).toBe(false);
    // Its etcd (started with a data dir inside that folder) is gone too.
    const running = readdirSync('/proc')
      .filter((entry) => /^\d+$/.test(entry))
      .filter((pid) => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir!);
        } catch {
          return false;
        }
      });
    expect(running).toEqual([]);
  }, 180_000);

  it('leaves no etcd or kube-apiserver behind when the test process is killed (kill -9)', async () => {
    // A separate Node process (the built devkit) starts a server, prints its pids and its folder, then is SIGKILLed.
    const script = `require(${JSON.stringify(join(REPO_ROOT, 'libs', 'devkit', 'dist'))}).startKubeApiServer().then((k) => console.log(JSON.stringify({ pids: k.pids, dir: k.dir })))`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const started = await new Promise<{ pids: { etcd: number; kubeApiServer: number }; dir: string }>((resolveStarted, reject) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('\n')) resolveStarted(JSON.parse(out.split('\n')[0]) as { pids: { etcd: number; kubeApiServer: number }; dir: string });
      });
      child.once('exit', (code) => reject(new Error(`the child exited (${code}) before the server started`)));
    });
    expect(isProcessAlive(started.pids.kubeApiServer)).toBe(true);
    child.kill('SIGKILL');
    const deadline = Date.now() + 30_000;
    while ((isProcessAlive(started.pids.kubeApiServer) || isProcessAlive(started.pids.etcd)) && Date.now() < deadline) {
      await new Promise((wait) => setTimeout(wait, 200));
    }
    expect(isProcessAlive(started.pids.kubeApiServer)).toBe(false);
    expect(isProcessAlive(started.pids.etcd)).toBe(false);
    // Nobody is left to remove the folder of a killed run: that is the OS temp dir's job.
    rmSync(started.dir, { recursive: true, force: true });
  }, 180_000);

  it('stop() ends etcd and kube-apiserver and removes its folder; a second stop() is a no-op', async () => {
    const { pids, dir } = kube;
    expect(isProcessAlive(pids.etcd)).toBe(true);
    expect(isProcessAlive(pids.kubeApiServer)).toBe(true);
    await kube.stop();
    expect(isProcessAlive(pids.kubeApiServer)).toBe(false);
    expect(isProcessAlive(pids.etcd)).toBe(false);
    expect(existsSync(dir)).toBe(false);
    await kube.stop();
  }, 60_000);
});
