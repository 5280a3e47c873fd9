import { ApiException, CoordinationV1Api, type KubeConfig, type V1Lease, V1MicroTime } from '@kubernetes/client-node';

/** What the elector reads and writes of a coordination.k8s.io/v1 Lease. */
export interface LeaseRecord {
  /** Empty or undefined = nobody holds it (released). */
  holderIdentity?: string;
  leaseDurationSeconds: number;
  acquireTime?: Date;
  renewTime?: Date;
  leaseTransitions: number;
  /** Optimistic concurrency: an update with a stale version is refused (409). */
  resourceVersion?: string;
}

/** Someone else wrote the Lease since we read it (HTTP 409), or created it first. */
export class LeaseConflictError extends Error {
  override readonly name = 'LeaseConflictError';
}

/** The three Lease calls the elector makes; a fake in unit tests, KubeLeaseApi against a cluster. */
export interface LeaseApi {
  /** The Lease, or undefined when it does not exist. */
  get(): Promise<LeaseRecord | undefined>;
  /** Creates it; LeaseConflictError when it already exists. */
  create(record: LeaseRecord): Promise<LeaseRecord>;
  /** Replaces it at `record.resourceVersion`; LeaseConflictError when that version is stale. */
  update(record: LeaseRecord): Promise<LeaseRecord>;
  /** A human description for logs (`namespace/name`). */
  readonly description: string;
}

function toDate(value: unknown): Date | undefined {
  if (value === undefined || value === null) return undefined;
  // Read back as an ISO string (the generated client leaves V1MicroTime undeserialised) or a Date.
  const date = value instanceof Date ? value : typeof value === 'string' ? new Date(value) : new Date(Number.NaN);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function fromLease(lease: V1Lease): LeaseRecord {
  return {
    holderIdentity: lease.spec?.holderIdentity ?? undefined,
    leaseDurationSeconds: lease.spec?.leaseDurationSeconds ?? 0,
    acquireTime: toDate(lease.spec?.acquireTime),
    renewTime: toDate(lease.spec?.renewTime),
    leaseTransitions: lease.spec?.leaseTransitions ?? 0,
    resourceVersion: lease.metadata?.resourceVersion,
  };
}

const micro = (date: Date | undefined): V1MicroTime | undefined => (date ? new V1MicroTime(date.getTime()) : undefined);

/** The Lease through @kubernetes/client-node (RBAC: get, create, update on leases in the namespace). */
export class KubeLeaseApi implements LeaseApi {
  private readonly api: CoordinationV1Api;
  readonly description: string;

  constructor(
    kubeConfig: KubeConfig,
    private readonly namespace: string,
    private readonly name: string,
  ) {
    this.api = kubeConfig.makeApiClient(CoordinationV1Api);
    this.description = `${namespace}/${name}`;
  }

  async get(): Promise<LeaseRecord | undefined> {
    try {
      return fromLease(await this.api.readNamespacedLease({ name: this.name, namespace: this.namespace }));
    } catch (error) {
      if (error instanceof ApiException && error.code === 404) return undefined;
      throw error;
    }
  }

  async create(record: LeaseRecord): Promise<LeaseRecord> {
    try {
      return fromLease(await this.api.createNamespacedLease({ namespace: this.namespace, body: this.toLease(record) }));
    } catch (error) {
      throw this.conflict(error);
    }
  }

  async update(record: LeaseRecord): Promise<LeaseRecord> {
    try {
      return fromLease(await this.api.replaceNamespacedLease({ name: this.name, namespace: this.namespace, body: this.toLease(record) }));
    } catch (error) {
      throw this.conflict(error);
    }
  }

  private conflict(error: unknown): unknown {
    if (error instanceof ApiException && error.code === 409) return new LeaseConflictError(`lease ${this.description} was written by someone else`);
    return error;
  }

  private toLease(record: LeaseRecord): V1Lease {
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.name, namespace: this.namespace, resourceVersion: record.resourceVersion },
      spec: {
        holderIdentity: record.holderIdentity,
        leaseDurationSeconds: record.leaseDurationSeconds,
        acquireTime: micro(record.acquireTime),
        renewTime: micro(record.renewTime),
        leaseTransitions: record.leaseTransitions,
      },
    };
  }
}
