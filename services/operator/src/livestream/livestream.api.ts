import {
  CoreV1Api,
  CustomObjectsApi,
  type Informer,
  type KubeConfig,
  type KubernetesObject,
  type KubernetesListObject,
  makeInformer,
  type ObjectCache,
  PatchStrategy,
  setHeaderOptions,
  type V1Secret,
} from '@kubernetes/client-node';
import {
  LIVESTREAM_API_VERSION,
  LIVESTREAM_GROUP,
  LIVESTREAM_KIND,
  LIVESTREAM_PLURAL,
  LIVESTREAM_VERSION,
  type LiveStream,
  type LiveStreamStatus,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  OPERATOR_COMPONENT,
  type StreamKeySecret,
} from './livestream.types';

/** The API server answered 409: the object changed since we read it (or already exists). */
export class ConflictError extends Error {
  override readonly name = 'ConflictError';
}

export type EventType = 'Normal' | 'Warning';

/**
 * Every Kubernetes call the operator makes, in one small class, so the reconcile logic is tested
 * against a fake of this interface and the RBAC rules in the chart can be read off this file:
 * livestreams get/list/watch/patch, livestreams/status patch, secrets get/list/watch/create/delete,
 * events create.
 */
export interface LiveStreamPort {
  get(namespace: string, name: string): Promise<LiveStream | undefined>;
  /** Replaces metadata.finalizers, conditional on the resourceVersion read (409 → ConflictError). */
  setFinalizers(liveStream: LiveStream, finalizers: string[]): Promise<LiveStream>;
  /** Merge patch through the status subresource (null removes a field). */
  patchStatus(liveStream: LiveStream, status: { [K in keyof LiveStreamStatus]: LiveStreamStatus[K] | null }): Promise<void>;
  getSecret(namespace: string, name: string): Promise<StreamKeySecret | undefined>;
  /** 409 → ConflictError (it exists already). */
  createSecret(secret: StreamKeySecret & { stringData?: Record<string, string> }): Promise<StreamKeySecret>;
  /** Deletes the Secret with this uid (a Secret of that name created since is left alone); gone already is fine. */
  deleteSecret(namespace: string, name: string, uid: string): Promise<void>;
  recordEvent(liveStream: LiveStream, type: EventType, reason: string, message: string): Promise<void>;
}

const statusOf = (error: unknown): number | undefined => {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
};

const isNotFound = (error: unknown): boolean => statusOf(error) === 404;

function rethrow(error: unknown, what: string): never {
  if (statusOf(error) === 409) throw new ConflictError(`${what}: conflict (409)`);
  throw error;
}

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** LiveStreamPort on @kubernetes/client-node, plus the informers the controller watches with. */
export class LiveStreamApi implements LiveStreamPort {
  private readonly custom: CustomObjectsApi;
  private readonly core: CoreV1Api;

  constructor(
    private readonly kubeConfig: KubeConfig,
    /** Reported in Events (`reportingInstance`): the pod name. */
    private readonly instance: string,
  ) {
    this.custom = kubeConfig.makeApiClient(CustomObjectsApi);
    this.core = kubeConfig.makeApiClient(CoreV1Api);
  }

  async get(namespace: string, name: string): Promise<LiveStream | undefined> {
    try {
      return (await this.custom.getNamespacedCustomObject({ group: LIVESTREAM_GROUP, version: LIVESTREAM_VERSION, namespace, plural: LIVESTREAM_PLURAL, name })) as LiveStream;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async setFinalizers(liveStream: LiveStream, finalizers: string[]): Promise<LiveStream> {
    const { namespace, name, resourceVersion } = liveStream.metadata;
    try {
      return (await this.custom.patchNamespacedCustomObject(
        {
          group: LIVESTREAM_GROUP,
          version: LIVESTREAM_VERSION,
          namespace,
          plural: LIVESTREAM_PLURAL,
          name,
          // resourceVersion in a merge patch makes it conditional: 409 when the object moved on.
          body: { metadata: { finalizers, resourceVersion } },
        },
        mergePatch,
      )) as LiveStream;
    } catch (error) {
      rethrow(error, `finalizers of ${namespace}/${name}`);
    }
  }

  async patchStatus(liveStream: LiveStream, status: Record<string, unknown>): Promise<void> {
    const { namespace, name } = liveStream.metadata;
    try {
      await this.custom.patchNamespacedCustomObjectStatus(
        { group: LIVESTREAM_GROUP, version: LIVESTREAM_VERSION, namespace, plural: LIVESTREAM_PLURAL, name, body: { status } },
        mergePatch,
      );
    } catch (error) {
      rethrow(error, `status of ${namespace}/${name}`);
    }
  }

  async getSecret(namespace: string, name: string): Promise<StreamKeySecret | undefined> {
    try {
      return toSecret(await this.core.readNamespacedSecret({ namespace, name }));
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async createSecret(secret: StreamKeySecret & { stringData?: Record<string, string> }): Promise<StreamKeySecret> {
    try {
      return toSecret(
        await this.core.createNamespacedSecret({
          namespace: secret.metadata.namespace,
          body: { apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: secret.metadata, ...(secret.stringData ? { stringData: secret.stringData } : {}) },
        }),
      );
    } catch (error) {
      rethrow(error, `secret ${secret.metadata.namespace}/${secret.metadata.name}`);
    }
  }

  async deleteSecret(namespace: string, name: string, uid: string): Promise<void> {
    try {
      await this.core.deleteNamespacedSecret({ namespace, name, body: { preconditions: { uid } } });
    } catch (error) {
      // 404: gone already; 409: the uid precondition failed (a different Secret of that name).
      if (isNotFound(error) || statusOf(error) === 409) return;
      throw error;
    }
  }

  async recordEvent(liveStream: LiveStream, type: EventType, reason: string, message: string): Promise<void> {
    const { namespace, name, uid, resourceVersion } = liveStream.metadata;
    const now = new Date();
    await this.core.createNamespacedEvent({
      namespace,
      body: {
        metadata: { generateName: `${name}.`, namespace },
        involvedObject: { apiVersion: LIVESTREAM_API_VERSION, kind: LIVESTREAM_KIND, name, namespace, uid, resourceVersion },
        type,
        reason,
        message: message.slice(0, 1024),
        source: { component: OPERATOR_COMPONENT },
        reportingComponent: OPERATOR_COMPONENT,
        reportingInstance: this.instance,
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      },
    });
  }

  /** List+watch of LiveStreams in `namespace` (undefined = all). Not started. */
  liveStreamInformer(namespace: string | undefined): Informer<LiveStream & KubernetesObject> & ObjectCache<LiveStream & KubernetesObject> {
    const base = `/apis/${LIVESTREAM_GROUP}/${LIVESTREAM_VERSION}`;
    const path = namespace ? `${base}/namespaces/${namespace}/${LIVESTREAM_PLURAL}` : `${base}/${LIVESTREAM_PLURAL}`;
    const list = async (): Promise<KubernetesListObject<LiveStream & KubernetesObject>> =>
      (namespace
        ? await this.custom.listNamespacedCustomObject({ group: LIVESTREAM_GROUP, version: LIVESTREAM_VERSION, namespace, plural: LIVESTREAM_PLURAL })
        : await this.custom.listClusterCustomObject({ group: LIVESTREAM_GROUP, version: LIVESTREAM_VERSION, plural: LIVESTREAM_PLURAL })) as KubernetesListObject<
        LiveStream & KubernetesObject
      >;
    return makeInformer(this.kubeConfig, path, list);
  }

  /** List+watch of the Secrets this operator made (by label) in `namespace` (undefined = all). Not started. */
  secretInformer(namespace: string | undefined): Informer<V1Secret> & ObjectCache<V1Secret> {
    const labelSelector = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`;
    const path = namespace ? `/api/v1/namespaces/${namespace}/secrets` : '/api/v1/secrets';
    const list = () => (namespace ? this.core.listNamespacedSecret({ namespace, labelSelector }) : this.core.listSecretForAllNamespaces({ labelSelector }));
    return makeInformer(this.kubeConfig, path, list, labelSelector);
  }
}

function toSecret(secret: V1Secret): StreamKeySecret {
  const metadata = secret.metadata ?? {};
  return {
    metadata: {
      name: metadata.name ?? '',
      namespace: metadata.namespace ?? '',
      ...(metadata.uid ? { uid: metadata.uid } : {}),
      ...(metadata.labels ? { labels: metadata.labels } : {}),
      ...(metadata.ownerReferences ? { ownerReferences: metadata.ownerReferences } : {}),
    },
    ...(secret.data ? { data: secret.data } : {}),
  };
}
