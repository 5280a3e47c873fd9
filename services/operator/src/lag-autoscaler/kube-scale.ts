import { AppsV1Api, CoreV1Api, type KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { ScaleEvents, ScaleTarget } from './lag-autoscaler';

/** A Deployment's `scale` subresource (RBAC: get and patch on deployments/scale — nothing on the Deployment itself). */
export class KubeDeploymentScale implements ScaleTarget {
  private readonly api: AppsV1Api;
  readonly description: string;

  constructor(
    kubeConfig: KubeConfig,
    readonly namespace: string,
    readonly name: string,
  ) {
    this.api = kubeConfig.makeApiClient(AppsV1Api);
    this.description = `${namespace}/${name}`;
  }

  async getReplicas(): Promise<number> {
    const scale = await this.api.readNamespacedDeploymentScale({ name: this.name, namespace: this.namespace });
    return scale.spec?.replicas ?? 0;
  }

  async setReplicas(replicas: number): Promise<void> {
    await this.api.patchNamespacedDeploymentScale(
      { name: this.name, namespace: this.namespace, body: { spec: { replicas } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }
}

/** core/v1 Events about the scaled Deployment (RBAC: create on events). */
export class KubeEventRecorder implements ScaleEvents {
  private readonly api: CoreV1Api;

  constructor(
    kubeConfig: KubeConfig,
    private readonly involved: { namespace: string; name: string },
    private readonly reportingInstance: string,
  ) {
    this.api = kubeConfig.makeApiClient(CoreV1Api);
  }

  async record(type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const now = new Date();
    await this.api.createNamespacedEvent({
      namespace: this.involved.namespace,
      body: {
        metadata: { generateName: `${this.involved.name}.`, namespace: this.involved.namespace },
        involvedObject: { apiVersion: 'apps/v1', kind: 'Deployment', name: this.involved.name, namespace: this.involved.namespace },
        type,
        reason,
        message,
        count: 1,
        firstTimestamp: now,
        lastTimestamp: now,
        source: { component: 'tributary-operator' },
        reportingComponent: 'tributary-operator',
        reportingInstance: this.reportingInstance,
      },
    });
  }
}
