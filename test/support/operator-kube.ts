import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { KubeApiServer, KubeObject } from '@tributary/devkit';
export { until } from './until';

/** Helpers for the operator's end-to-end tests on the real API server fixture. */

export function adminKubeConfig(kube: KubeApiServer): KubeConfig {
  const config = new KubeConfig();
  config.loadFromFile(kube.kubeconfigPath);
  return config;
}

/**
 * A Deployment object to scale. A bare API server runs no controllers: nothing creates pods, and
 * `spec.replicas` (what the scale subresource writes) is the whole observable outcome.
 */
export async function createDeployment(kube: KubeApiServer, namespace: string, name: string, replicas = 1): Promise<void> {
  const labels = { 'app.kubernetes.io/name': name };
  const created = await kube.createObject({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: { replicas, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name, image: `tributary/${name}:test` }] } } },
  });
  if (created.status !== 201) throw new Error(`creating deployment ${namespace}/${name} failed (${created.status}): ${JSON.stringify(created.body)}`);
}

export async function deploymentReplicas(kube: KubeApiServer, namespace: string, name: string): Promise<number> {
  const response = await kube.request<{ spec?: { replicas?: number } }>('GET', `/apis/apps/v1/namespaces/${namespace}/deployments/${name}`);
  if (response.status !== 200) throw new Error(`reading deployment ${namespace}/${name} failed (${response.status})`);
  return response.body.spec?.replicas ?? 0;
}

export interface CoreEvent {
  metadata?: { resourceVersion?: string };
  reason?: string;
  message?: string;
  type?: string;
  involvedObject?: { kind?: string; name?: string };
}

export async function eventsOf(kube: KubeApiServer, namespace: string): Promise<CoreEvent[]> {
  const response = await kube.request<{ items?: CoreEvent[] }>('GET', `/api/v1/namespaces/${namespace}/events`);
  // In the order they were recorded: a list comes sorted by name, and event names end in a random
  // suffix (generateName); timestamps have one-second precision. The resource version is etcd's
  // revision of the create, which only grows (fine for a test against one API server).
  return (response.body.items ?? []).sort((a, b) => Number(a.metadata?.resourceVersion ?? 0) - Number(b.metadata?.resourceVersion ?? 0));
}

/**
 * A kubeconfig that authenticates as a ServiceAccount, with a token from the TokenRequest API (the
 * fixture's API server signs service-account tokens), as a pod's projected token would. Its
 * permissions are exactly what RBAC grants that ServiceAccount.
 */
export async function serviceAccountKubeConfig(kube: KubeApiServer, namespace: string, serviceAccount: string): Promise<{ kubeConfig: KubeConfig; path: string }> {
  const response = await kube.request<{ status?: { token?: string } }>(
    'POST',
    `/api/v1/namespaces/${namespace}/serviceaccounts/${serviceAccount}/token`,
    { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } },
  );
  const token = response.body.status?.token;
  if (response.status !== 201 || !token) throw new Error(`TokenRequest for ${namespace}/${serviceAccount} failed (${response.status}): ${JSON.stringify(response.body)}`);
  const admin = adminKubeConfig(kube);
  const cluster = admin.getCurrentCluster();
  if (!cluster) throw new Error('the fixture kubeconfig has no cluster');
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'test', server: cluster.server, caData: cluster.caData, skipTLSVerify: false }],
    users: [{ name: serviceAccount, token }],
    contexts: [{ name: 'test', cluster: 'test', user: serviceAccount, namespace }],
    currentContext: 'test',
  });
  const path = join(kube.dir, `kubeconfig-${namespace}-${serviceAccount}`);
  await writeFile(path, kubeConfig.exportConfig(), { mode: 0o600 });
  return { kubeConfig, path };
}

/** Creates every object (as the admin), failing with the API server's answer. */
export async function applyObjects(kube: KubeApiServer, objects: readonly KubeObject[]): Promise<void> {
  for (const object of objects) {
    const created = await kube.createObject(object);
    if (created.status !== 201 && created.status !== 409) {
      throw new Error(`creating ${object.kind} ${object.metadata?.name} failed (${created.status}): ${JSON.stringify(created.body).slice(0, 1000)}`);
    }
  }
}

