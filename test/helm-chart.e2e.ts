/**
 * The Helm chart helm/tributary, rendered by the real helm binary and created (server-side dry run)
 * on a real kube-apiserver with the upstream Strimzi 1.2 and KEDA 2.20 CRDs installed.
 *
 * Expectations come from libs/contracts (topicSpecs, kafkaAclsOf, ScaledConsumerGroups), which
 * test/kafka-access.e2e.ts holds to the services' code, never from the chart itself.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import {
  groupName,
  kafkaAclsOf,
  KafkaServices,
  ScaledConsumerGroups,
  ServiceKafkaAccess,
  topicName,
  topicSpecs,
} from '@tributary/contracts';
import { ensureKubeTools, type KubeApiServer, startKubeApiServer } from '@tributary/devkit';
import {
  CHART_DIR,
  ciValuesFiles,
  componentOf,
  envOf,
  helmRun,
  KEDA_API,
  type K8sObject,
  ofKind,
  podTemplates,
  PROMETHEUS_OPERATOR_API,
  renderChart,
  type RenderOptions,
  selects,
  SHARED_CRDS_DIR,
  specOf,
  STRIMZI_API,
} from './support/helm-chart';

const ALL_APIS = [STRIMZI_API, KEDA_API, PROMETHEUS_OPERATOR_API];
const log = (line: string) => process.stdout.write(`[helm-chart] ${line}\n`);

let helm: string;

beforeAll(async () => {
  helm = (await ensureKubeTools({ tools: ['helm'], log })).helm;
}, 40 * 60_000);

interface KedaScaling {
  minReplicaCount: number;
  maxReplicaCount: number;
  lagThreshold: number;
  activationLagThreshold: number;
  pollingInterval: number;
  cooldownPeriod: number;
}

interface IngressHost {
  host: string;
  tlsSecret: string;
  annotations: Record<string, string>;
}

/** The chart values the assertions compare with. */
interface ChartValues {
  topicPrefix: string;
  kafka: { create: boolean; replicationFactor: number; topics: { eventPartitions: number; videoPartitions: number } };
  keda: { enabled: boolean };
  transcoder: { autoscaling: KedaScaling };
  viewerApi: { startupProbe: { periodSeconds: number; failureThreshold: number } };
  eventGateway: { stats: { autoscaling: KedaScaling }; fanout: { autoscaling: { targetCPUUtilizationPercentage: number } } };
  ingress: { enabled: boolean; className: string; viewer: IngressHost; events: IngressHost; ingest: IngressHost };
  networkPolicy: { enabled: boolean; kafkaPorts: number[]; otlpPorts: number[] };
  otel: { endpoint: string; sampler: string };
  metrics: { port: number; podMonitor: { enabled: boolean } };
  adminAuth: 'token' | 'none';
  adminToken: SecretRef;
  playback: { signingKey: SecretRef };
  firehose: { token: SecretRef };
  operator: { enabled: boolean };
}

interface SecretRef {
  value: string;
  existingSecret: string;
  existingSecretKey: string;
}

/** The chart refuses to render without an admin token (or adminAuth=none): the defaults scenario sets one. */
const ADMIN_SET = ['adminToken.value=test-admin-token'];

type Tree = Record<string, unknown>;

function overlay(base: unknown, top: unknown): unknown {
  if (top === null || typeof top !== 'object' || Array.isArray(top)) return top;
  const out: Tree = { ...((base ?? {}) as Tree) };
  for (const [key, value] of Object.entries(top as Tree)) out[key] = overlay(out[key], value);
  return out;
}

/** Values of a scenario: the chart defaults overlaid with its values file (as helm does). */
function valuesOf(file?: string, set: readonly string[] = []): ChartValues {
  const defaults: unknown = parse(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8'));
  let values = file ? overlay(defaults, parse(readFileSync(file, 'utf8'))) : defaults;
  for (const entry of set) {
    const [path, value] = entry.split('=') as [string, string];
    values = overlay(values, path.split('.').reduceRight<unknown>((inner, key) => ({ [key]: inner }), value));
  }
  return values as ChartValues;
}

interface Scenario {
  name: string;
  file?: string;
  set?: string[];
  apiVersions: string[];
}

const SCENARIOS: Scenario[] = [
  { name: 'defaults (Strimzi + KEDA)', set: ADMIN_SET, apiVersions: [STRIMZI_API, KEDA_API] },
  ...ciValuesFiles().map((file) => ({ name: file.slice(CHART_DIR.length + 1), file, apiVersions: ALL_APIS })),
];

function render(scenario: Scenario, extra: Partial<RenderOptions> = {}) {
  return renderChart(helm, { valuesFiles: scenario.file ? [scenario.file] : [], set: scenario.set ?? [], apiVersions: scenario.apiVersions, ...extra });
}

describe('helm/tributary', () => {
  it('passes helm lint --strict with the defaults and every ci values file', async () => {
    const runs = [['--set', ADMIN_SET[0]], ...ciValuesFiles().map((file) => ['-f', file])];
    for (const args of runs) {
      const result = await helmRun(helm, ['lint', '--strict', CHART_DIR, ...args]);
      expect({ args, ok: result.ok, output: result.ok ? '' : result.stdout + result.stderr }).toEqual({ args, ok: true, output: '' });
    }
    expect(runs.length).toBeGreaterThanOrEqual(5);
  });

  it('the ci folder covers an existing Kafka, no KEDA, no ingress and everything on', () => {
    const names = ciValuesFiles().map((file) => file.split('/').pop());
    expect(names).toEqual(expect.arrayContaining(['existing-kafka-values.yaml', 'no-keda-values.yaml', 'no-ingress-values.yaml', 'everything-values.yaml']));
  });

  describe.each(SCENARIOS)('rendered with $name', (scenario) => {
    let objects: K8sObject[];
    let values: ChartValues;

    beforeAll(async () => {
      const result = await render(scenario);
      if (!result.ok) throw new Error(`helm template failed: ${result.stderr}`);
      objects = result.objects;
      values = valuesOf(scenario.file, scenario.set);
    });

    it('wires the admin token, the playback signing key, the firehose token and METRICS_PORT from values', () => {
      const secretEnv = (ref: SecretRef, created: string, key: string) =>
        ref.existingSecret ? { secretKeyRef: { name: ref.existingSecret, key: ref.existingSecretKey } } : ref.value ? { secretKeyRef: { name: `tv-tributary-${created}`, key } } : undefined;
      const signing = secretEnv(values.playback.signingKey, 'playback-signing-key', 'playback-signing-key');
      const firehose = secretEnv(values.firehose.token, 'firehose-token', 'firehose-token');
      const admin = secretEnv(values.adminToken, 'admin-token', 'admin-token');
      expect(admin ?? values.adminAuth).toBeTruthy();
      for (const { name, labels, pod } of podTemplates(objects)) {
        const component = labels['app.kubernetes.io/component'];
        const container = pod.containers[0];
        const metricsPort = container.ports?.find((port) => port.name === 'metrics')?.containerPort;
        expect({ name, metricsPort, env: envOf(container, 'METRICS_PORT')?.value }).toEqual({
          name,
          metricsPort: values.metrics.port || undefined,
          env: values.metrics.port ? String(values.metrics.port) : undefined,
        });
        const verifies = ['ingest', 'viewer-api', 'event-gateway-fanout'].includes(component ?? '');
        expect({ name, signing: envOf(container, 'PLAYBACK_SIGNING_KEY')?.valueFrom }).toEqual({ name, signing: verifies ? signing : undefined });
        expect({ name, firehose: envOf(container, 'FIREHOSE_TOKEN')?.valueFrom }).toEqual({ name, firehose: component === 'event-gateway-fanout' ? firehose : undefined });
        if (component === 'ingest') {
          expect(envOf(container, 'ADMIN_AUTH')?.value).toBe(values.adminAuth);
          expect(envOf(container, 'ADMIN_TOKEN')?.valueFrom).toEqual(admin);
        }
      }
      const secrets = ofKind(objects, 'Secret').map((secret) => secret.metadata.name);
      expect(secrets.includes('tv-tributary-playback-signing-key')).toBe(Boolean(values.playback.signingKey.value && !values.playback.signingKey.existingSecret));
      expect(secrets.includes('tv-tributary-firehose-token')).toBe(Boolean(values.firehose.token.value && !values.firehose.token.existingSecret));
      // Prometheus is let in on the metrics port only (the HTTP port when metrics.port is 0).
      if (values.networkPolicy.enabled) {
        for (const policy of ofKind(objects, 'NetworkPolicy').filter((object) => object.metadata.name !== 'tv-tributary-default-deny')) {
          const rules = specOf(policy, 'NetworkPolicy').ingress ?? [];
          const prometheus = rules[0];
          if (values.metrics.port) expect({ policy: policy.metadata.name, ports: prometheus?.ports }).toEqual({ policy: policy.metadata.name, ports: [{ port: values.metrics.port, protocol: 'TCP' }] });
          else expect(prometheus?.ports[0]?.port).not.toBe(9464);
        }
      }
      for (const monitor of ofKind(objects, 'PodMonitor')) {
        expect((monitor.spec as { podMetricsEndpoints: { port: string }[] }).podMetricsEndpoints[0]?.port).toBe(values.metrics.port ? 'metrics' : 'http');
      }
    });

    it('runs every container non-root, read-only, without capabilities or privilege escalation, seccomp RuntimeDefault, with probes and limits', () => {
      const pods = podTemplates(objects);
      expect(pods.map((pod) => pod.labels['app.kubernetes.io/component']).sort()).toEqual(
        ['event-gateway-fanout', 'event-gateway-stats', 'ingest', 'operator', 'transcoder', 'viewer-api'].filter((component) => component !== 'operator' || values.operator.enabled),
      );
      for (const { name, pod } of pods) {
        expect({ name, pod: pod.securityContext }).toMatchObject({ name, pod: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } } });
        expect(pod.volumes?.find((volume) => volume.name === 'tmp')?.emptyDir).toBeDefined();
        for (const container of pod.containers) {
          expect({ name, security: container.securityContext }).toEqual({
            name,
            security: expect.objectContaining({
              runAsNonRoot: true,
              readOnlyRootFilesystem: true,
              allowPrivilegeEscalation: false,
              capabilities: { drop: ['ALL'] },
              seccompProfile: { type: 'RuntimeDefault' },
            }),
          });
          expect(container.livenessProbe.httpGet.path).toBe('/healthz');
          expect(container.readinessProbe.httpGet.path).toBe('/readyz');
          expect(container.startupProbe.httpGet.path).toBe('/healthz');
          expect(container.resources.limits).toEqual(expect.objectContaining({ cpu: expect.anything(), memory: expect.anything() }));
          expect(container.resources.requests).toEqual(expect.objectContaining({ cpu: expect.anything(), memory: expect.anything() }));
          expect(container.volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
        }
      }
      const container = (component: string) => pods.find((pod) => pod.labels['app.kubernetes.io/component'] === component)?.pod.containers[0];
      const transcoder = container('transcoder');
      expect(transcoder?.volumeMounts).toContainEqual({ name: 'work', mountPath: transcoder && envOf(transcoder, 'TRANSCODER_WORK_DIR')?.value });
      const startup = container('viewer-api')?.startupProbe;
      const configured = values.viewerApi.startupProbe;
      expect(startup && startup.periodSeconds * startup.failureThreshold).toBe(configured.periodSeconds * configured.failureThreshold);
    });

    it('labels every object with the app.kubernetes.io labels and gives each Deployment a Service, ServiceAccount and PodDisruptionBudget', () => {
      for (const object of objects) {
        expect({ kind: object.kind, name: object.metadata.name, labels: object.metadata.labels }).toMatchObject({
          labels: { 'app.kubernetes.io/name': 'tributary', 'app.kubernetes.io/instance': 'tv', 'app.kubernetes.io/managed-by': 'Helm' },
        });
      }
      const services = ofKind(objects, 'Service').map((service) => specOf(service, 'Service'));
      const pdbs = ofKind(objects, 'PodDisruptionBudget').map((pdb) => specOf(pdb, 'PodDisruptionBudget'));
      const accounts = new Set(ofKind(objects, 'ServiceAccount').map((account) => account.metadata.name));
      for (const { name, labels, pod } of podTemplates(objects)) {
        expect({ name, service: services.some((service) => selects({ matchLabels: service.selector }, labels)) }).toEqual({ name, service: true });
        expect({ name, pdb: pdbs.some((pdb) => selects(pdb.selector, labels)) }).toEqual({ name, pdb: true });
        expect(accounts).toContain(pod.serviceAccountName);
        expect(pod.topologySpreadConstraints?.length).toBeGreaterThan(0);
      }
    });

    it('selects every pod with a NetworkPolicy that denies by default, and opens DNS and Kafka egress', () => {
      const policies = ofKind(objects, 'NetworkPolicy').map((policy) => specOf(policy, 'NetworkPolicy'));
      if (!values.networkPolicy.enabled) {
        expect(policies).toEqual([]);
        return;
      }
      const kafkaPorts = values.kafka.create ? [9093] : values.networkPolicy.kafkaPorts;
      for (const { name, labels } of podTemplates(objects)) {
        const selecting = policies.filter((policy) => selects(policy.podSelector, labels));
        expect({ name, denyAll: selecting.some((policy) => !policy.ingress && !policy.egress) }).toEqual({ name, denyAll: true });
        const egress = selecting.flatMap((policy) => policy.egress ?? []);
        const opens = (ports: number[], protocol = 'TCP') => egress.some((rule) => rule.ports.some((port) => ports.includes(port.port) && port.protocol === protocol));
        expect({ name, dns: opens([53], 'UDP'), kafka: opens(kafkaPorts), otlp: opens(values.networkPolicy.otlpPorts) }).toEqual({
          name,
          dns: true,
          kafka: true,
          otlp: Boolean(values.otel.endpoint),
        });
      }
    });

    it('has one KafkaTopic per libs/contracts topic with its partitions and configs, and one KafkaUser per service with exactly its ACLs', () => {
      const topics = ofKind(objects, 'KafkaTopic').map((topic) => specOf(topic, 'KafkaTopic'));
      const users = ofKind(objects, 'KafkaUser');
      if (!values.kafka.create) {
        expect([...topics, ...users, ...ofKind(objects, 'Kafka')]).toEqual([]);
        return;
      }
      const prefix = values.topicPrefix;
      const byName = <T extends { name: string }>(list: T[]) => [...list].sort((a, b) => a.name.localeCompare(b.name));
      expect(byName(topics.map((topic) => ({ name: topic.topicName, partitions: topic.partitions, configs: topic.config })))).toEqual(
        byName(topicSpecs(prefix, values.kafka.topics).map((spec) => ({ name: spec.name, partitions: spec.partitions, configs: spec.configs }))),
      );
      for (const topic of topics) expect(topic.replicas).toBe(values.kafka.replicationFactor);

      const normalise = (rules: readonly { resource: unknown; operations: readonly string[] }[]) =>
        rules.map((rule) => JSON.stringify({ resource: rule.resource, operations: [...rule.operations].sort() })).sort();
      for (const service of KafkaServices) {
        const user = users.find((candidate) => componentOf(candidate) === service);
        if (!user) throw new Error(`no KafkaUser for ${service}`);
        const spec = specOf(user, 'KafkaUser');
        const acls = spec.authorization.acls.map((acl) => ({ resource: acl.resource, operations: acl.operations }));
        expect({ service, acls: normalise(acls) }).toEqual({ service, acls: normalise(kafkaAclsOf(service, prefix)) });
        expect(spec.authentication.type).toBe('scram-sha-512');
      }
      // Each pod authenticates as its service's KafkaUser, with the Secret the User Operator writes.
      const cluster = ofKind(objects, 'Kafka')[0]?.metadata.name;
      for (const { name, pod } of podTemplates(objects)) {
        const container = pod.containers[0];
        const username = envOf(container, 'KAFKA_SASL_USERNAME')?.value;
        expect(users.map((user) => user.metadata.name)).toContain(username);
        expect({ name, secret: envOf(container, 'KAFKA_SASL_PASSWORD')?.valueFrom?.secretKeyRef }).toEqual({ name, secret: { name: username, key: 'password' } });
        expect(envOf(container, 'KAFKA_ENSURE_TOPICS')?.value).toBe('false');
        expect(pod.volumes).toContainEqual(expect.objectContaining({ name: 'kafka-ca', secret: expect.objectContaining({ secretName: `${cluster}-cluster-ca-cert` }) }));
      }
      const pools = ofKind(objects, 'KafkaNodePool');
      expect(pools.every((pool) => pool.metadata.labels?.['strimzi.io/cluster'] === cluster)).toBe(true);
      expect(new Set(pools.flatMap((pool) => specOf(pool, 'KafkaNodePool').roles))).toEqual(new Set(['controller', 'broker']));
    });

    it('scales the transcoder and the stats processor with KEDA on the groups and topics the code uses, thresholds from values', () => {
      const scaled = ofKind(objects, 'ScaledObject');
      if (!values.keda.enabled) {
        expect([...scaled, ...ofKind(objects, 'TriggerAuthentication')]).toEqual([]);
        return;
      }
      const prefix = values.topicPrefix;
      const scaledGroup = (service: 'transcoder' | 'event-gateway', name: string) => {
        const group = ServiceKafkaAccess[service].groups.find((candidate) => candidate.name === name);
        if (!group) throw new Error(`${name} is not a declared group of ${service}`);
        return groupName(group, prefix);
      };
      const cases = [
        { component: 'transcoder', scaledBy: ScaledConsumerGroups.transcoder, autoscaling: values.transcoder.autoscaling },
        { component: 'event-gateway-stats', scaledBy: ScaledConsumerGroups.stats, autoscaling: values.eventGateway.stats.autoscaling },
      ];
      expect(scaled).toHaveLength(2);
      const auth = ofKind(objects, 'TriggerAuthentication');
      expect(auth).toHaveLength(1);
      for (const { component, scaledBy, autoscaling } of cases) {
        const object = scaled.find((candidate) => componentOf(candidate) === component);
        if (!object) throw new Error(`no ScaledObject for ${component}`);
        const spec = specOf(object, 'ScaledObject');
        expect(spec.scaleTargetRef.name).toBe(`tv-tributary-${component}`);
        expect(spec).toMatchObject({
          minReplicaCount: autoscaling.minReplicaCount,
          maxReplicaCount: autoscaling.maxReplicaCount,
          pollingInterval: autoscaling.pollingInterval,
          cooldownPeriod: autoscaling.cooldownPeriod,
        });
        expect(spec.triggers).toHaveLength(1);
        expect(spec.triggers[0]).toMatchObject({
          type: 'kafka',
          metadata: {
            consumerGroup: scaledGroup(scaledBy.service, scaledBy.group),
            topic: topicName(scaledBy.topic, prefix),
            lagThreshold: String(autoscaling.lagThreshold),
            activationLagThreshold: String(autoscaling.activationLagThreshold),
          },
          authenticationRef: { name: auth[0].metadata.name },
        });
        // The autoscaler owns the replica count.
        const deployment = ofKind(objects, 'Deployment').find((candidate) => candidate.metadata.name === spec.scaleTargetRef.name);
        expect(deployment && specOf(deployment, 'Deployment').replicas).toBeUndefined();
      }
      const parameters = specOf(auth[0], 'TriggerAuthentication').secretTargetRef.map((ref) => ref.parameter);
      expect(parameters).toEqual(expect.arrayContaining(['sasl', 'tls', 'username', 'password']));
      if (values.kafka.create) {
        const keda = ofKind(objects, 'KafkaUser').find((user) => componentOf(user) === 'keda');
        if (!keda) throw new Error('no KafkaUser for KEDA');
        const rules = specOf(keda, 'KafkaUser').authorization.acls.map((acl) => `${acl.resource.type}:${acl.resource.name}:${acl.operations.join('+')}`);
        expect(rules.sort()).toEqual(
          [
            `group:${scaledGroup(ScaledConsumerGroups.transcoder.service, ScaledConsumerGroups.transcoder.group)}:Describe`,
            `group:${scaledGroup(ScaledConsumerGroups.stats.service, ScaledConsumerGroups.stats.group)}:Describe`,
            `topic:${topicName(ScaledConsumerGroups.transcoder.topic, prefix)}:Describe`,
            `topic:${topicName(ScaledConsumerGroups.stats.topic, prefix)}:Describe`,
          ].sort(),
        );
      }
    });

    it('runs the event-gateway roles apart: fan-out on a CPU HPA, stats on its own Deployment', () => {
      const roles = podTemplates(objects)
        .filter((pod) => pod.name.includes('event-gateway'))
        .map((pod) => [pod.labels['app.kubernetes.io/component'], envOf(pod.pod.containers[0], 'EVENT_GATEWAY_ROLES')?.value]);
      expect(Object.fromEntries(roles)).toEqual({ 'event-gateway-fanout': 'fanout', 'event-gateway-stats': 'stats' });
      const hpa = ofKind(objects, 'HorizontalPodAutoscaler').map((object) => specOf(object, 'HorizontalPodAutoscaler'));
      expect(hpa.map((spec) => spec.scaleTargetRef.name)).toEqual(['tv-tributary-event-gateway-fanout']);
      expect(hpa[0].metrics[0].resource).toEqual({
        name: 'cpu',
        target: { type: 'Utilization', averageUtilization: values.eventGateway.fanout.autoscaling.targetCPUUtilizationPercentage },
      });
    });

    it('routes viewer-api, event-gateway and ingest through ingresses from values, or lets publishers in another way', () => {
      const ingresses = ofKind(objects, 'Ingress');
      if (!values.ingress.enabled) {
        expect(ingresses).toEqual([]);
        const ingest = ofKind(objects, 'Service').find((service) => service.metadata.name === 'tv-tributary-ingest');
        expect(ingest && specOf(ingest, 'Service').type).toBe('LoadBalancer');
        return;
      }
      const hosts = [values.ingress.viewer, values.ingress.events, values.ingress.ingest];
      expect(ingresses.map((ingress) => specOf(ingress, 'Ingress').rules[0].host).sort()).toEqual(hosts.map((host) => host.host).sort());
      for (const ingress of ingresses) {
        const spec = specOf(ingress, 'Ingress');
        const host = hosts.find((candidate) => candidate.host === spec.rules[0].host);
        expect(spec.ingressClassName).toBe(values.ingress.className);
        expect(spec.tls?.[0]?.secretName).toBe(host?.tlsSecret || undefined);
        expect(ingress.metadata.annotations ?? {}).toMatchObject(host?.annotations ?? {});
      }
      const ingest = ingresses.find((ingress) => specOf(ingress, 'Ingress').rules[0].host === values.ingress.ingest.host);
      expect(ingest?.metadata.annotations).toMatchObject({ 'nginx.ingress.kubernetes.io/proxy-body-size': '0' });
      const events = ingresses.find((ingress) => specOf(ingress, 'Ingress').rules[0].host === values.ingress.events.host);
      expect(events?.metadata.annotations).toMatchObject({ 'nginx.ingress.kubernetes.io/affinity': 'cookie' });
    });

    it('passes OTEL settings and the downward API to every container, and ships the Grafana dashboard', () => {
      for (const { name, pod } of podTemplates(objects)) {
        const container = pod.containers[0];
        const field = (env: string) => envOf(container, env)?.valueFrom?.fieldRef?.fieldPath;
        expect({ name, pod: field('K8S_POD_NAME'), namespace: field('K8S_NAMESPACE_NAME'), node: field('K8S_NODE_NAME') }).toEqual({
          name,
          pod: 'metadata.name',
          namespace: 'metadata.namespace',
          node: 'spec.nodeName',
        });
        expect(envOf(container, 'OTEL_TRACES_SAMPLER')?.value).toBe(values.otel.sampler);
        expect(envOf(container, 'OTEL_EXPORTER_OTLP_ENDPOINT')?.value).toBe(values.otel.endpoint || undefined);
      }
      const dashboard = ofKind(objects, 'ConfigMap').find((map) => map.metadata.labels?.grafana_dashboard === '1');
      const shipped: unknown = JSON.parse(dashboard?.data?.['tributary.json'] ?? 'null');
      expect(shipped).toEqual(JSON.parse(readFileSync(join(CHART_DIR, 'dashboards', 'tributary.json'), 'utf8')));
      expect(ofKind(objects, 'PodMonitor')).toHaveLength(values.metrics.podMonitor.enabled ? 1 : 0);
    });
  });

  describe('documentation', () => {
    const readme = () => readFileSync(join(CHART_DIR, 'README.md'), 'utf8');

    it('the chart README lists every value of values.yaml', () => {
      const leaves: string[] = [];
      const opaque = /(^|\.)(resources|config|labels|annotations|podAnnotations|nodeSelector|affinity|resourceAttributes|podSecurityContext|containerSecurityContext)$/;
      const walk = (node: unknown, path: string) => {
        if (node && typeof node === 'object' && !Array.isArray(node) && Object.keys(node).length > 0 && !opaque.test(path)) {
          for (const [key, value] of Object.entries(node)) walk(value, path ? `${path}.${key}` : key);
        } else leaves.push(path);
      };
      walk(valuesOf(), '');
      const text = readme();
      expect(leaves.filter((path) => !text.includes(`| \`${path}\` |`))).toEqual([]);
      expect(leaves.length).toBeGreaterThan(150);
    });

    it('the install command of the chart README renders (with the operators APIs served)', async () => {
      const block = /```bash\n(helm install [\s\S]*?)\n```/.exec(readme())?.[1];
      if (!block) throw new Error('no helm install block in the chart README');
      const command = block
        .split('\n')
        .filter((line) => !line.startsWith('helm get'))
        .join('\n');
      const args = command.replace(/\\\s+/g, ' ').replace(/"\$\(openssl rand -hex 24\)"/, 'secret-token').split(/\s+/).filter(Boolean);
      expect(args.slice(0, 2)).toEqual(['helm', 'install']);
      const templateArgs = ['template', ...args.slice(2).filter((arg) => arg !== '--create-namespace'), '--api-versions', STRIMZI_API, '--api-versions', KEDA_API];
      const result = await helmRun(helm, templateArgs.map((arg) => (arg === 'helm/tributary' ? CHART_DIR : arg)));
      expect(result.stderr).toBe('');
      expect(result.ok).toBe(true);
    });

    it('NOTES.txt tells how to create a stream, publish and watch, on the ports and hosts the chart sets', async () => {
      const plain = ciValuesFiles().find((file) => file.endsWith('plain-values.yaml'));
      if (!plain) throw new Error('ci/plain-values.yaml is missing');
      const withIngress = await helmRun(helm, ['install', 'tv', CHART_DIR, '--dry-run=client', '-f', plain, '--set', 'adminToken.value=t0k']);
      expect(withIngress.ok).toBe(true);
      const values = valuesOf(plain);
      const notes = withIngress.stdout.slice(withIngress.stdout.indexOf('NOTES:'));
      expect(notes).toContain(`curl -s -XPOST http://${values.ingress.ingest.host}/v1/streams`);
      expect(notes).toContain('-H "authorization: Bearer $TOKEN"');
      expect(notes).toContain(`ffmpeg -re -i input.mp4 -c copy -f mpegts http://${values.ingress.ingest.host}/live/<streamKey>`);
      expect(notes).toContain(`http://${values.ingress.viewer.host}/watch/mycam`);
      expect(notes).toContain(`http://${values.ingress.events.host}/`);
      const noIngress = await helmRun(helm, ['install', 'tv', CHART_DIR, '--dry-run=client', '-f', plain, '--set', 'ingress.enabled=false']);
      const forwarded = noIngress.stdout.slice(noIngress.stdout.indexOf('NOTES:'));
      expect(forwarded).toContain('kubectl -n default port-forward svc/tv-tributary-ingest 8081:8081');
      expect(forwarded).toContain('kubectl -n default port-forward svc/tv-tributary-viewer-api 8080:8080');
      expect(forwarded).toContain('kubectl -n default port-forward svc/tv-tributary-event-gateway 8082:8082');
      expect(forwarded).toContain('curl -s -XPOST http://localhost:8081/v1/streams');
      expect(forwarded).not.toContain('authorization');
    });
  });

  describe('refuses what it cannot install', () => {
    it.each([
      ['kafka.topics.eventPartitions=0', "at '/kafka/topics/eventPartitions'"],
      ['ingest.service.type=Ingress', "at '/ingest/service/type'"],
      ['kafka.compression=brotli', "at '/kafka/compression'"],
      ['transcoder.autoscaling.lagThreshold=-5', "at '/transcoder/autoscaling/lagThreshold'"],
      ['containerSecurityContext.readOnlyRootFilesystem=false', "at '/containerSecurityContext/readOnlyRootFilesystem'"],
      ['topicPrefix=bad prefix', "at '/topicPrefix'"],
      ['ingest.replicas=3', "at '/ingest'"],
    ])('rejects %s through values.schema.json', async (set, path) => {
      const result = await renderChart(helm, { set: [set], apiVersions: ALL_APIS });
      expect(result.ok).toBe(false);
      expect(result.stderr).toContain("values don't meet the specifications of the schema");
      expect(result.stderr).toContain(path);
    });

    it.each([
      [[KEDA_API], [], 'kafka.create=true (Strimzi Kafka, KafkaNodePool, KafkaTopic, KafkaUser) needs the kafka.strimzi.io/v1 API'],
      [[STRIMZI_API], [], 'keda.enabled=true (ScaledObject, TriggerAuthentication) needs the keda.sh/v1alpha1 API'],
      [[STRIMZI_API, KEDA_API], ['metrics.podMonitor.enabled=true'], 'metrics.podMonitor.enabled=true (Prometheus Operator PodMonitor) needs the monitoring.coreos.com/v1 API'],
    ])('fails with a clear message when a CRD API is missing (served: %j, set: %j)', async (apiVersions, set, message) => {
      const result = await renderChart(helm, { apiVersions, set: [...ADMIN_SET, ...set] });
      expect(result.ok).toBe(false);
      expect(result.stderr).toContain(message);
    });

    it('refuses a maxReplicaCount above the topic partitions unless the value allows it', async () => {
      const refused = await renderChart(helm, { apiVersions: ALL_APIS, set: [...ADMIN_SET, 'transcoder.autoscaling.maxReplicaCount=7', 'kafka.topics.videoPartitions=6'] });
      expect(refused.ok).toBe(false);
      expect(refused.stderr).toContain('transcoder.autoscaling.maxReplicaCount (7) is above the 6 partitions of video.ingest');
      const allowed = await renderChart(helm, {
        apiVersions: ALL_APIS,
        set: [...ADMIN_SET, 'transcoder.autoscaling.maxReplicaCount=7', 'transcoder.autoscaling.allowAbovePartitions=true'],
      });
      expect(allowed.ok).toBe(true);
      const stats = await renderChart(helm, { apiVersions: ALL_APIS, set: [...ADMIN_SET, 'eventGateway.stats.autoscaling.maxReplicaCount=13', 'kafka.topics.eventPartitions=12'] });
      expect(stats.stderr).toContain('eventGateway.stats.autoscaling.maxReplicaCount (13) is above the 12 partitions of playback.events');
    });
  });

  describe("the operator's lag autoscaler (the fallback without KEDA)", () => {
    const SET = [...ADMIN_SET, 'keda.enabled=false', 'operator.lagAutoscaler.enabled=true'];

    it('is refused together with KEDA, by the schema and by the templates', async () => {
      const both = await renderChart(helm, { apiVersions: ALL_APIS, set: [...ADMIN_SET, 'operator.lagAutoscaler.enabled=true'] });
      expect(both.ok).toBe(false);
      expect(both.stderr).toContain("at '/keda/enabled'");
      const skipped = await helmRun(helm, ['template', 'tv', CHART_DIR, '--skip-schema-validation', '--set', 'adminToken.value=t', '--set', 'operator.lagAutoscaler.enabled=true', ...ALL_APIS.flatMap((api) => ['--api-versions', api])]);
      expect(skipped.ok).toBe(false);
      expect(skipped.stderr).toContain('operator.lagAutoscaler.enabled and keda.enabled are both true');
    });

    it("owns the transcoder's replicas with KEDA's knobs and may only get/patch that Deployment's scale", async () => {
      const result = await renderChart(helm, { apiVersions: [STRIMZI_API], set: SET });
      expect(result.ok).toBe(true);
      const values = valuesOf();
      const transcoder = ofKind(result.objects, 'Deployment').find((deployment) => componentOf(deployment) === 'transcoder');
      expect((transcoder?.spec as { replicas?: number }).replicas).toBeUndefined();
      const operator = podTemplates(result.objects).find(({ labels }) => labels['app.kubernetes.io/component'] === 'operator');
      const env = (name: string) => operator && envOf(operator.pod.containers[0], name)?.value;
      const autoscaling = values.transcoder.autoscaling;
      expect([env('OPERATOR_LAG_AUTOSCALER'), env('OPERATOR_LAG_AUTOSCALER_DEPLOYMENT'), env('OPERATOR_LAG_AUTOSCALER_LAG_THRESHOLD')]).toEqual([
        'true',
        transcoder?.metadata.name,
        String(autoscaling.lagThreshold),
      ]);
      expect([env('OPERATOR_LAG_AUTOSCALER_MIN_REPLICAS'), env('OPERATOR_LAG_AUTOSCALER_MAX_REPLICAS')]).toEqual([String(autoscaling.minReplicaCount), String(autoscaling.maxReplicaCount)]);
      const rules = ofKind(result.objects, 'Role').flatMap((role) => (role as unknown as { rules: { resources: string[]; verbs: string[]; resourceNames?: string[] }[] }).rules);
      expect(rules.filter((rule) => rule.resources.includes('deployments/scale'))).toEqual([
        { apiGroups: ['apps'], resources: ['deployments/scale'], resourceNames: [transcoder?.metadata.name], verbs: ['get', 'patch'] },
      ]);
      const without = await renderChart(helm, { apiVersions: ALL_APIS, set: ADMIN_SET });
      const plainRules = ofKind(without.objects, 'Role').flatMap((role) => (role as unknown as { rules: { resources: string[] }[] }).rules);
      expect(plainRules.some((rule) => rule.resources.some((resource) => resource.startsWith('deployments')))).toBe(false);
    });
  });

  describe('secrets and ports', () => {
    const APIS = [STRIMZI_API, KEDA_API];

    it('refuses to render without an admin token unless adminAuth=none (schema, and a clear fail without the schema)', async () => {
      const bare = await renderChart(helm, { apiVersions: APIS });
      expect(bare.ok).toBe(false);
      expect(bare.stderr).toContain("values don't meet the specifications of the schema");
      expect(bare.stderr).toContain("at '/adminToken");
      const skipped = await helmRun(helm, ['template', 'tv', CHART_DIR, '--skip-schema-validation', ...APIS.flatMap((api) => ['--api-versions', api])]);
      expect(skipped.ok).toBe(false);
      expect(skipped.stderr).toContain('adminToken is required: ingest runs with NODE_ENV=production and refuses to start without ADMIN_TOKEN');
      const open = await renderChart(helm, { apiVersions: APIS, set: ['adminAuth=none'] });
      expect(open.ok).toBe(true);
      const ingest = podTemplates(open.objects).find(({ labels }) => labels['app.kubernetes.io/component'] === 'ingest');
      expect(envOf(ingest!.pod.containers[0], 'ADMIN_AUTH')?.value).toBe('none');
      expect(envOf(ingest!.pod.containers[0], 'ADMIN_TOKEN')).toBeUndefined();
      const bySecret = await renderChart(helm, { apiVersions: APIS, set: ['adminToken.existingSecret=ops-admin'] });
      expect(bySecret.ok).toBe(true);
    });

    it.each([
      ['playback.signingKey.value=short', "at '/playback/signingKey/value'"],
      ['firehose.token.value=short', "at '/firehose/token/value'"],
      ['metrics.port=70000', "at '/metrics/port'"],
      ['adminAuth=open', "at '/adminAuth'"],
    ])('rejects %s through values.schema.json', async (set, path) => {
      const result = await renderChart(helm, { apiVersions: APIS, set: [...ADMIN_SET, set] });
      expect(result.ok).toBe(false);
      expect(result.stderr).toContain(path);
    });

    it('publishes RTMPS on Service port 443 while the non-root pod listens on 1936 (ingest.rtmp.rtmps.servicePort)', async () => {
      const rtmps = ['ingest.rtmp.rtmps.enabled=true', 'ingest.rtmp.rtmps.certSecret=rtmps-tls'];
      const result = await renderChart(helm, { apiVersions: APIS, set: [...ADMIN_SET, ...rtmps, 'ingest.rtmp.rtmps.servicePort=443', 'ingest.rtmp.servicePort=80'] });
      expect(result.ok).toBe(true);
      const service = ofKind(result.objects, 'Service').find((object) => componentOf(object) === 'ingest');
      const ports = (service as unknown as { spec: { ports: { name: string; port: number; targetPort: string }[] } }).spec.ports;
      expect(ports.filter((port) => port.name.startsWith('rtmp'))).toEqual([
        expect.objectContaining({ name: 'rtmp', port: 80, targetPort: 'rtmp' }),
        expect.objectContaining({ name: 'rtmps', port: 443, targetPort: 'rtmps' }),
      ]);
      const ingest = podTemplates(result.objects).find(({ labels }) => labels['app.kubernetes.io/component'] === 'ingest');
      const container = ingest!.pod.containers[0] as { ports?: { name?: string; containerPort: number }[] };
      expect(container.ports?.filter((port) => port.name?.startsWith('rtmp'))).toEqual([
        expect.objectContaining({ name: 'rtmp', containerPort: 1935 }),
        expect.objectContaining({ name: 'rtmps', containerPort: 1936 }),
      ]);
      expect(envOf(ingest!.pod.containers[0], 'INGEST_RTMPS_PORT')?.value).toBe('1936');
      expect(envOf(ingest!.pod.containers[0], 'INGEST_RTMP_PUBLIC_URL')?.value).toMatch(/^rtmp:\/\/[^/]+:80\/live$/);
      // Unset, the Service uses the container ports.
      const plain = await renderChart(helm, { apiVersions: APIS, set: [...ADMIN_SET, ...rtmps] });
      const plainPorts = (ofKind(plain.objects, 'Service').find((object) => componentOf(object) === 'ingest') as unknown as { spec: { ports: { name: string; port: number }[] } }).spec.ports;
      expect(plainPorts.filter((port) => port.name.startsWith('rtmp')).map((port) => port.port)).toEqual([1935, 1936]);
    });

    it('refuses a metrics.port that is a service\'s HTTP port', async () => {
      const result = await renderChart(helm, { apiVersions: APIS, set: [...ADMIN_SET, 'metrics.port=8082'] });
      expect(result.ok).toBe(false);
      expect(result.stderr).toContain('metrics.port (8082) is the HTTP port of eventGateway');
    });
  });

  describe('on a real API server with the Strimzi and KEDA CRDs', () => {
    const crdDirs = [join(SHARED_CRDS_DIR, 'strimzi'), join(SHARED_CRDS_DIR, 'keda')];
    const haveCrds = crdDirs.every((dir) => existsSync(dir));
    let api: KubeApiServer | undefined;

    beforeAll(async () => {
      if (!haveCrds) {
        log(`SKIPPED: ${SHARED_CRDS_DIR} (upstream Strimzi and KEDA CRDs) is absent, so rendered objects cannot be created on an API server`);
        return;
      }
      api = await startKubeApiServer({ log });
      const files = crdDirs.flatMap((dir) => readdirSync(dir).filter((file) => file.endsWith('.yaml')).map((file) => join(dir, file)));
      const installed = await api.installCrds(files);
      log(`installed ${installed.length} CRDs`);
    }, 40 * 60_000);

    afterAll(async () => {
      await api?.stop();
    });

    const serverScenarios = SCENARIOS.map((scenario, index) => ({ ...scenario, namespace: `chart-${index}` }));

    it.each(serverScenarios)('creates every object rendered with $name (dryRun=All, strict field validation) without a rejection', async (scenario) => {
      if (!api) {
        log(`skipped "${scenario.name}": no shared CRDs`);
        return;
      }
      const result = await render(scenario, { namespace: scenario.namespace });
      expect(result.ok).toBe(true);
      await api.createNamespace(scenario.namespace);
      // The Prometheus Operator's CRD is not among the shared upstream CRDs: a PodMonitor can only be rendered here.
      const objects = result.objects.filter((object) => object.kind !== 'PodMonitor');
      const rejections: string[] = [];
      for (const object of objects) {
        object.metadata.namespace = scenario.namespace;
        // Strict: an unknown or duplicate field is an error, not silently pruned.
        const response = await api.request('POST', await api.resourcePath(object, { collection: true }), object, {
          query: { dryRun: 'All', fieldValidation: 'Strict' },
        });
        if (response.status !== 201 && response.status !== 200) {
          rejections.push(`${object.kind}/${object.metadata.name}: ${response.status} ${JSON.stringify((response.body as { message?: string }).message ?? response.body)}`);
        }
      }
      expect(rejections).toEqual([]);
      expect(objects.length).toBeGreaterThan(20);
    });

    it('rejects a Strimzi resource with an unknown field or a wrong type (the check is real)', async () => {
      if (!api) return;
      const result = await render(SCENARIOS[0], { namespace: 'chart-0' });
      const topic = ofKind(result.objects, 'KafkaTopic')[0];
      await api.createNamespace('chart-0');
      topic.metadata.namespace = 'chart-0';
      const path = await api.resourcePath(topic, { collection: true });
      const query = { dryRun: 'All', fieldValidation: 'Strict' };
      const unknownField = { ...topic, spec: { ...topic.spec, partitionz: 6 } };
      const strict = await api.request<{ message?: string }>('POST', path, unknownField, { query });
      expect({ status: strict.status, message: strict.body.message }).toEqual({ status: 400, message: expect.stringContaining('unknown field "spec.partitionz"') });
      specOf(topic, 'KafkaTopic').partitions = 'six';
      expect((await api.request('POST', path, topic, { query })).status).toBe(422);
    });
  });
});
