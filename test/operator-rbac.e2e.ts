/**
 * The operator's RBAC from the chart (helm/tributary/templates/operator-rbac.yaml), enforced by a real
 * kube-apiserver: the chart's ServiceAccount, Roles and RoleBindings are created, a token for that
 * ServiceAccount comes from the TokenRequest API, and the operator's own clients (leader election,
 * the lag autoscaler's scale subresource and Events, the LiveStream/Secret calls the controller makes)
 * run with it — not as an admin. Calls outside the Role are answered 403.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import {
  ApiException,
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  Watch,
} from '@kubernetes/client-node';
import { ensureKubeTools, freePort, type KubeApiServer, type KubeObject, type ServiceProcess, startKubeApiServer, startService } from '@tributary/devkit';
import { createLogger } from '@tributary/telemetry';
import { KafkaLagSource } from '../services/operator/src/kafka/kafka-lag-source';
import { KubeDeploymentScale, KubeEventRecorder } from '../services/operator/src/lag-autoscaler/kube-scale';
import { LagAutoscaler } from '../services/operator/src/lag-autoscaler/lag-autoscaler';
import { LeaderElector } from '../services/operator/src/leader-election/leader-elector';
import { KubeLeaseApi } from '../services/operator/src/leader-election/lease-api';
import { CHART_DIR, componentOf, renderChart, STRIMZI_API } from './support/helm-chart';
import { applyObjects, createDeployment, deploymentReplicas, eventsOf, serviceAccountKubeConfig, until } from './support/operator-kube';
import { testKafka } from './support/playback-events';

const log = (line: string) => process.stdout.write(`[operator-rbac] ${line}\n`);
const logger = createLogger('operator-test', { LOG_LEVEL: 'error' });
const NAMESPACE = 'media';
const OTHER_NAMESPACE = 'elsewhere';
const RELEASE = 'tv';
const TRANSCODER = `${RELEASE}-tributary-transcoder`;
const SERVICE_ACCOUNT = `${RELEASE}-tributary-operator`;
const LS = { group: 'streaming.tributary.io', version: 'v1alpha1', plural: 'livestreams' };

/** The HTTP status of a client call: 200 when it succeeds, the ApiException's code otherwise. */
async function statusOf(call: Promise<unknown>): Promise<number> {
  try {
    await call;
    return 200;
  } catch (error) {
    if (error instanceof ApiException) return error.code;
    throw error;
  }
}

describe("the operator's RBAC (chart Role, real API server, ServiceAccount token)", () => {
  const kafka = testKafka();
  let kube: KubeApiServer;
  let asOperator: KubeConfig;
  let asOperatorPath: string;
  let operator: ServiceProcess<'operator'> | undefined;
  let elector: LeaderElector | undefined;
  let source: KafkaLagSource | undefined;
  let rbacObjects: KubeObject[] = [];

  beforeAll(async () => {
    const helm = (await ensureKubeTools({ tools: ['helm'], log })).helm;
    const rendered = await renderChart(helm, {
      release: RELEASE,
      namespace: NAMESPACE,
      apiVersions: [STRIMZI_API],
      set: ['adminToken.value=t0k', 'keda.enabled=false', 'operator.lagAutoscaler.enabled=true'],
    });
    if (!rendered.ok) throw new Error(`helm template failed: ${rendered.stderr}`);
    rbacObjects = rendered.objects
      .filter((object) => componentOf(object) === 'operator' && ['ServiceAccount', 'Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding'].includes(object.kind))
      .map((object) => ({ ...object, metadata: { ...object.metadata, namespace: NAMESPACE } }));
    kube = await startKubeApiServer({ log });
    await kube.installCrds([join(CHART_DIR, 'crds', 'livestream.yaml')]);
    await kube.createNamespace(NAMESPACE);
    await kube.createNamespace(OTHER_NAMESPACE);
    await applyObjects(kube, rbacObjects);
    await createDeployment(kube, NAMESPACE, TRANSCODER, 1);
    await createDeployment(kube, NAMESPACE, `${RELEASE}-tributary-ingest`, 2);
    ({ kubeConfig: asOperator, path: asOperatorPath } = await serviceAccountKubeConfig(kube, NAMESPACE, SERVICE_ACCOUNT));
  }, 40 * 60_000);

  afterAll(async () => {
    await operator?.stop();
    await elector?.stop();
    await source?.close();
    await kube?.stop();
  }, 60_000);

  it('renders the ServiceAccount, a Role for LiveStreams/Secrets/Events and a Role for its Lease and the transcoder scale', () => {
    expect(rbacObjects.map((object) => `${object.kind}/${object.metadata?.name}`).sort()).toEqual([
      `Role/${SERVICE_ACCOUNT}`,
      `Role/${SERVICE_ACCOUNT}-leader`,
      `RoleBinding/${SERVICE_ACCOUNT}`,
      `RoleBinding/${SERVICE_ACCOUNT}-leader`,
      `ServiceAccount/${SERVICE_ACCOUNT}`,
    ]);
  });

  it('lets leader election and the lag autoscaler work under the ServiceAccount', async () => {
    elector = new LeaderElector({
      identity: 'operator-rbac',
      leaseDurationMs: 4_000,
      renewDeadlineMs: 3_000,
      retryPeriodMs: 500,
      api: new KubeLeaseApi(asOperator, NAMESPACE, 'tributary-operator'),
      logger,
    });
    const leadership = elector;
    leadership.start();
    // create, then get + update (renewals) of its Lease.
    await until('the operator to lead', async () => leadership.isLeader(), 30_000);
    const renewals = (await kube.request<{ metadata: { resourceVersion: string } }>('GET', `/apis/coordination.k8s.io/v1/namespaces/${NAMESPACE}/leases/tributary-operator`)).body.metadata.resourceVersion;
    await until('a renewal', async () => (await kube.request<{ metadata: { resourceVersion: string } }>('GET', `/apis/coordination.k8s.io/v1/namespaces/${NAMESPACE}/leases/tributary-operator`)).body.metadata.resourceVersion !== renewals, 10_000);
    expect(leadership.isLeader()).toBe(true);

    // A backlog on a fresh group (no commits, earliest: KEDA counts the whole log): 30 → ceil(30 / 10) = 3.
    const id = randomUUID().slice(0, 8);
    const topic = `e2e-rbac-${id}.video.ingest`;
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 4, replicationFactor: 1 }] });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: Array.from({ length: 30 }, (_, index) => ({ partition: index % 4, value: `m${index}` })) });
    await producer.disconnect();
    source = new KafkaLagSource(kafka, `e2e-rbac-${id}.transcoder`, topic);
    const autoscaler = new LagAutoscaler({
      source,
      target: new KubeDeploymentScale(asOperator, NAMESPACE, TRANSCODER),
      events: new KubeEventRecorder(asOperator, { namespace: NAMESPACE, name: TRANSCODER }, 'operator-rbac'),
      settings: { lagThreshold: 10, activationLagThreshold: 0, offsetResetPolicy: 'earliest', allowIdleConsumers: false },
      bounds: { minReplicas: 1, maxReplicas: 4 },
      stabilizationWindowMs: 60_000,
      intervalMs: 1_000,
      isLeader: () => leadership.isLeader(),
      logger,
    });
    expect(await autoscaler.evaluateOnce()).toMatchObject({ lag: 30, current: 1, desired: 3, scaled: true });
    expect(await deploymentReplicas(kube, NAMESPACE, TRANSCODER)).toBe(3);
    const events = await eventsOf(kube, NAMESPACE);
    expect(events).toContainEqual(expect.objectContaining({ reason: 'LagScaledUp', type: 'Normal', involvedObject: expect.objectContaining({ kind: 'Deployment', name: TRANSCODER }) }));
  }, 120_000);

  it("lets the controller's LiveStream, status, Secret and Event calls through", async () => {
    const created = await kube.request('POST', `/apis/${LS.group}/${LS.version}/namespaces/${NAMESPACE}/${LS.plural}`, {
      apiVersion: `${LS.group}/${LS.version}`,
      kind: 'LiveStream',
      metadata: { name: 'rbac-cam' },
      spec: { title: 'RBAC camera' },
    });
    expect([created.status, JSON.stringify(created.body).slice(0, 300)]).toEqual([201, expect.any(String)]);
    const custom = asOperator.makeApiClient(CustomObjectsApi);
    const core = asOperator.makeApiClient(CoreV1Api);
    const key = { ...LS, namespace: NAMESPACE, name: 'rbac-cam' };
    expect(await statusOf(custom.listNamespacedCustomObject({ ...LS, namespace: NAMESPACE }))).toBe(200);
    expect(await statusOf(custom.getNamespacedCustomObject(key))).toBe(200);
    expect(await watchStatus(asOperator, `/apis/${LS.group}/${LS.version}/namespaces/${NAMESPACE}/${LS.plural}`)).toBe(200);
    expect(await watchStatus(asOperator, `/api/v1/namespaces/${NAMESPACE}/secrets`)).toBe(200);
    expect(await watchStatus(asOperator, `/api/v1/namespaces/${OTHER_NAMESPACE}/secrets`)).toBe(403);
    const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    expect(await statusOf(custom.patchNamespacedCustomObject({ ...key, body: { metadata: { finalizers: ['streaming.tributary.io/cleanup'] } } }, mergePatch))).toBe(200);
    expect(await statusOf(custom.patchNamespacedCustomObjectStatus({ ...key, body: { status: { observedGeneration: 1 } } }, mergePatch))).toBe(200);
    expect(
      await statusOf(core.createNamespacedSecret({ namespace: NAMESPACE, body: { metadata: { name: 'rbac-cam-stream-key' }, stringData: { streamKey: 'k' } } })),
    ).toBe(200);
    expect(await statusOf(core.readNamespacedSecret({ namespace: NAMESPACE, name: 'rbac-cam-stream-key' }))).toBe(200);
    expect(await statusOf(core.listNamespacedSecret({ namespace: NAMESPACE }))).toBe(200);
    expect(await statusOf(core.deleteNamespacedSecret({ namespace: NAMESPACE, name: 'rbac-cam-stream-key' }))).toBe(200);
    expect(
      await statusOf(
        core.createNamespacedEvent({
          namespace: NAMESPACE,
          body: { metadata: { generateName: 'rbac-cam.' }, involvedObject: { kind: 'LiveStream', name: 'rbac-cam', namespace: NAMESPACE }, reason: 'Ready', message: 'ok', type: 'Normal' },
        }),
      ),
    ).toBe(200);
    // The finalizer is released by the admin (the operator would after its cleanup).
    await kube.request('PATCH', `/apis/${LS.group}/${LS.version}/namespaces/${NAMESPACE}/${LS.plural}/rbac-cam`, { metadata: { finalizers: null } }, { contentType: 'application/merge-patch+json' });
  });

  it('runs the operator process under the ServiceAccount: it leads, reconciles a LiveStream to Ready and scales the transcoder', async () => {
    await elector?.stop(); // hand the Lease over (released)
    const prefix = `e2e-rbac-op-${randomUUID().slice(0, 8)}`;
    const port = await freePort();
    const started = await kube.request('POST', `/apis/${LS.group}/${LS.version}/namespaces/${NAMESPACE}/${LS.plural}`, {
      apiVersion: `${LS.group}/${LS.version}`,
      kind: 'LiveStream',
      metadata: { name: 'rbac-live' },
      spec: { title: 'Under RBAC' },
    });
    expect(started.status).toBe(201);
    const replicasBefore = await deploymentReplicas(kube, NAMESPACE, TRANSCODER);
    expect(replicasBefore).toBeGreaterThan(1); // scaled up by the previous case
    operator = await startService('operator', {
      port,
      env: {
        KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '',
        TOPIC_PREFIX: prefix,
        KAFKA_VIDEO_PARTITIONS: '2',
        KAFKA_EVENT_PARTITIONS: '1',
        KUBECONFIG: asOperatorPath,
        OPERATOR_NAMESPACE: NAMESPACE,
        POD_NAMESPACE: NAMESPACE,
        POD_NAME: 'operator-under-rbac',
        // The chart's lag autoscaler settings for this release; the new group has no lag → back to 1.
        OPERATOR_LAG_AUTOSCALER: 'true',
        OPERATOR_LAG_AUTOSCALER_DEPLOYMENT: TRANSCODER,
        OPERATOR_LAG_AUTOSCALER_POLLING_INTERVAL_MS: '500',
        OPERATOR_LAG_AUTOSCALER_STABILIZATION_SECONDS: '0',
        LOG_LEVEL: 'warn',
      },
    });
    type Ls = { metadata: { generation: number }; status?: { observedGeneration?: number; conditions?: { type: string; status: string }[] } };
    await until(
      'rbac-live to be Ready',
      async () => {
        const response = await kube.request<Ls>('GET', `/apis/${LS.group}/${LS.version}/namespaces/${NAMESPACE}/${LS.plural}/rbac-live`);
        const status = response.body.status;
        return status?.observedGeneration === response.body.metadata.generation && Boolean(status.conditions?.some((entry) => entry.type === 'Ready' && entry.status === 'True'));
      },
      60_000,
    );
    await until('the transcoder to be scaled back to 1', async () => (await deploymentReplicas(kube, NAMESPACE, TRANSCODER)) === 1, 60_000);
    const lease = await kube.request<{ spec: { holderIdentity?: string } }>('GET', `/apis/coordination.k8s.io/v1/namespaces/${NAMESPACE}/leases/tributary-operator`);
    expect(lease.body.spec.holderIdentity).toBe('operator-under-rbac');
    // The Event of the decision is recorded after its scale write.
    await until(
      `a LagScaledDown event ${replicasBefore} → 1`,
      async () => (await eventsOf(kube, NAMESPACE)).some((event) => event.reason === 'LagScaledDown' && event.message?.includes(`${replicasBefore} → 1 replicas`) === true),
      30_000,
    );
    // Nothing it tried was refused.
    expect(operator.output()).not.toMatch(/forbidden|403/i);
    await operator.stop();
    operator = undefined;
  }, 120_000);

  it('forbids what the Role does not grant', async () => {
    const apps = asOperator.makeApiClient(AppsV1Api);
    const core = asOperator.makeApiClient(CoreV1Api);
    const leases = asOperator.makeApiClient(CoordinationV1Api);
    const custom = asOperator.makeApiClient(CustomObjectsApi);
    const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    const forbidden = {
      'delete the transcoder Deployment': apps.deleteNamespacedDeployment({ namespace: NAMESPACE, name: TRANSCODER }),
      'patch the transcoder Deployment (not its scale)': apps.patchNamespacedDeployment({ namespace: NAMESPACE, name: TRANSCODER, body: { spec: { replicas: 5 } } }, mergePatch),
      'read the transcoder Deployment': apps.readNamespacedDeployment({ namespace: NAMESPACE, name: TRANSCODER }),
      'scale another Deployment (ingest)': apps.patchNamespacedDeploymentScale({ namespace: NAMESPACE, name: `${RELEASE}-tributary-ingest`, body: { spec: { replicas: 9 } } }, mergePatch),
      'list Leases': leases.listNamespacedLease({ namespace: NAMESPACE }),
      'delete its Lease': leases.deleteNamespacedLease({ namespace: NAMESPACE, name: 'tributary-operator' }),
      'read Secrets in another namespace': core.listNamespacedSecret({ namespace: OTHER_NAMESPACE }),
      'update a Secret': core.patchNamespacedSecret({ namespace: NAMESPACE, name: 'any', body: { data: {} } }, mergePatch),
      'delete a LiveStream': custom.deleteNamespacedCustomObject({ ...LS, namespace: NAMESPACE, name: 'rbac-cam' }),
      'replace (update) a LiveStream': custom.replaceNamespacedCustomObject({ ...LS, namespace: NAMESPACE, name: 'rbac-cam', body: {} }),
      'create pods': core.createNamespacedPod({ namespace: NAMESPACE, body: { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'x' }] } } }),
    };
    const answers: Record<string, number> = {};
    for (const [what, call] of Object.entries(forbidden)) answers[what] = await statusOf(call);
    expect(answers).toEqual(Object.fromEntries(Object.keys(forbidden).map((what) => [what, 403])));
    expect(await deploymentReplicas(kube, NAMESPACE, `${RELEASE}-tributary-ingest`)).toBe(2);
  });
});

/** Starts a watch with the client's credentials and ends it: 200 when the server accepted it, else the HTTP status. */
async function watchStatus(kubeConfig: KubeConfig, path: string): Promise<number> {
  // client-node's Watch hands a refused request's error (with statusCode) to `done` before it returns.
  let refused: unknown;
  const controller = await new Watch(kubeConfig).watch(path, { timeoutSeconds: 1 }, () => undefined, (error: unknown) => {
    refused ??= error;
  });
  const answer = refused;
  controller.abort(); // (done then sees the abort; the answer was taken before)
  if (answer === undefined || answer === null) return 200;
  const status = (answer as { statusCode?: number }).statusCode;
  if (status === undefined) throw answer instanceof Error ? answer : new Error(`watch failed: ${JSON.stringify(answer)}`);
  return status;
}
