/**
 * Renders helm/tributary with the real helm binary and parses the manifests, for the chart tests.
 * Pure helpers: no assertions here.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT } from '@tributary/devkit';

const run = promisify(execFile);

export const CHART_DIR = join(REPO_ROOT, 'helm', 'tributary');
/** Upstream Strimzi 1.2 and KEDA 2.20 CRDs (outside the repository; see ../shared/crds/SOURCES.md). */
export const SHARED_CRDS_DIR = join(REPO_ROOT, '..', 'shared', 'crds');

/** The CRD APIs a cluster with Strimzi, KEDA and the Prometheus Operator serves. */
export const STRIMZI_API = 'kafka.strimzi.io/v1';
export const KEDA_API = 'keda.sh/v1alpha1';
export const PROMETHEUS_OPERATOR_API = 'monitoring.coreos.com/v1';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  [key: string]: unknown;
}

export interface RenderOptions {
  valuesFiles?: readonly string[];
  /** `--set` arguments (`a.b=c`). */
  set?: readonly string[];
  apiVersions?: readonly string[];
  namespace?: string;
  release?: string;
}

export interface RenderResult {
  ok: boolean;
  stdout: string;
  stderr: string;
  objects: K8sObject[];
}

export function ciValuesFiles(): string[] {
  const dir = join(CHART_DIR, 'ci');
  return existsSync(dir)
    ? readdirSync(dir)
        .filter((file) => file.endsWith('-values.yaml'))
        .sort()
        .map((file) => join(dir, file))
    : [];
}

export async function helmRun(helm: string, args: readonly string[]): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(helm, [...args], { cwd: REPO_ROOT, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 });
    return { ok: true, stdout, stderr };
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string; message: string };
    return { ok: false, stdout: failed.stdout ?? '', stderr: failed.stderr ?? failed.message };
  }
}

export function parseManifests(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((document) => document.toJS() as K8sObject | null)
    .filter((object): object is K8sObject => object !== null && typeof object === 'object');
}

/** `helm template` with the given values; objects parsed when it succeeds. */
export async function renderChart(helm: string, options: RenderOptions = {}): Promise<RenderResult> {
  const args = ['template', options.release ?? 'tv', CHART_DIR, '--namespace', options.namespace ?? 'media'];
  for (const file of options.valuesFiles ?? []) args.push('-f', file);
  for (const value of options.set ?? []) args.push('--set', value);
  for (const api of options.apiVersions ?? []) args.push('--api-versions', api);
  const result = await helmRun(helm, args);
  return { ...result, objects: result.ok ? parseManifests(result.stdout) : [] };
}

export function ofKind<T extends K8sObject = K8sObject>(objects: readonly K8sObject[], kind: string): T[] {
  return objects.filter((object) => object.kind === kind) as T[];
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string }; secretKeyRef?: { name: string; key: string } };
}

export interface Probe {
  httpGet: { path: string; port: string | number };
  periodSeconds: number;
  failureThreshold: number;
}

export interface Container {
  name: string;
  securityContext?: Record<string, unknown>;
  ports?: { name: string; containerPort: number; protocol: string }[];
  env: EnvVar[];
  livenessProbe: Probe;
  readinessProbe: Probe;
  startupProbe: Probe;
  resources: { limits?: Record<string, string | number>; requests?: Record<string, string | number> };
  volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
}

export interface PodSpec {
  securityContext?: Record<string, unknown>;
  containers: Container[];
  volumes?: { name: string; emptyDir?: unknown; secret?: { secretName: string } }[];
  topologySpreadConstraints?: unknown[];
  serviceAccountName?: string;
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

export interface NetworkPolicyRule {
  from?: unknown[];
  ports: { port: number; protocol: string }[];
}

export interface AclRule {
  resource: { type: string; name: string; patternType: string };
  operations: string[];
}

/** The parts of each kind's spec the tests read. */
export interface Specs {
  Deployment: { replicas?: number; template: { metadata: { labels: Record<string, string> }; spec: PodSpec } };
  Service: { selector: Record<string, string>; type?: string };
  PodDisruptionBudget: { selector: LabelSelector };
  NetworkPolicy: { podSelector: LabelSelector; ingress?: NetworkPolicyRule[]; egress?: NetworkPolicyRule[] };
  KafkaTopic: { topicName: string; partitions: number | string; replicas: number; config: Record<string, string> };
  KafkaUser: { authentication: { type: string }; authorization: { acls: AclRule[] } };
  KafkaNodePool: { roles: string[] };
  ScaledObject: {
    scaleTargetRef: { name: string };
    minReplicaCount: number;
    maxReplicaCount: number;
    pollingInterval: number;
    cooldownPeriod: number;
    triggers: { type: string; metadata: Record<string, string>; authenticationRef?: { name: string } }[];
  };
  TriggerAuthentication: { secretTargetRef: { parameter: string; name: string; key: string }[] };
  HorizontalPodAutoscaler: { scaleTargetRef: { name: string }; metrics: { resource: unknown }[] };
  Ingress: { ingressClassName?: string; rules: { host: string }[]; tls?: { secretName: string }[] };
}

/** The spec of an object of a known kind (throws on another kind). */
export function specOf<K extends keyof Specs>(object: K8sObject, kind: K): Specs[K] {
  if (object.kind !== kind) throw new Error(`expected a ${kind}, got ${object.kind}/${object.metadata.name}`);
  return object.spec as unknown as Specs[K];
}

export interface PodTemplateOwner {
  name: string;
  labels: Record<string, string>;
  pod: PodSpec;
}

export function podTemplates(objects: readonly K8sObject[]): PodTemplateOwner[] {
  return ofKind(objects, 'Deployment').map((deployment) => {
    const { template } = specOf(deployment, 'Deployment');
    return { name: deployment.metadata.name, labels: template.metadata.labels, pod: template.spec };
  });
}

/** The component label (which workload an object belongs to). */
export function componentOf(object: K8sObject): string | undefined {
  return object.metadata.labels?.['app.kubernetes.io/component'];
}

export function envOf(container: Container, name: string): EnvVar | undefined {
  return container.env.find((entry) => entry.name === name);
}

/** Kubernetes label-selector semantics (matchLabels and matchExpressions). */
export function selects(selector: LabelSelector, labels: Record<string, string>): boolean {
  const byLabels = Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels[key] === value);
  const byExpressions = (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
    switch (operator) {
      case 'In':
        return key in labels && values.includes(labels[key]);
      case 'NotIn':
        return !(key in labels) || !values.includes(labels[key]);
      case 'Exists':
        return key in labels;
      case 'DoesNotExist':
        return !(key in labels);
      default:
        throw new Error(`unknown selector operator ${operator}`);
    }
  });
  return byLabels && byExpressions;
}
