import { createHash, randomBytes } from 'node:crypto';
import type { Logger } from '@tributary/telemetry';
import type { ObserverPort, StreamObservation } from '../kafka/stream-observer';
import type { RegistryPort } from '../kafka/stream-registry.client';
import { ConditionTypes, type ConditionUpdate, initialiseConditions, setCondition } from './conditions';
import { desiredRecord, managedByOf, sameRecord } from './desired-state';
import { ConflictError, type EventType, type LiveStreamPort } from './livestream.api';
import {
  type Condition,
  LIVESTREAM_API_VERSION,
  LIVESTREAM_FINALIZER,
  LIVESTREAM_KIND,
  LIVESTREAM_LABEL,
  type LiveStream,
  type LiveStreamPhase,
  type LiveStreamStatus,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  type ObjectKey,
  parseObjectKey,
  STREAM_KEY_SECRET_KEY,
  type StreamKeySecret,
  streamKeySecretName,
} from './livestream.types';

export interface ReconcilerOptions {
  api: LiveStreamPort;
  registry: RegistryPort;
  observer: ObserverPort;
  /** Public base URLs written into the status. */
  ingestPublicUrl: string;
  viewerPublicUrl: string;
  logger: Logger;
  now?: () => Date;
  /** The stream key of a new Secret (32 random bytes, base64url, like ingest's admin API). */
  generateStreamKey?: () => string;
}

export interface ReconcileResult {
  requeueAfterMs?: number;
}

/** A reconcile that failed after its status said why; the work queue retries it with backoff. */
export class ReconcileError extends Error {
  override readonly name = 'ReconcileError';
}

const CONDITION_TYPES = [ConditionTypes.ready, ConditionTypes.streamKey, ConditionTypes.registered, ConditionTypes.publishing];

const sha256Hex = (value: string): string => createHash('sha256').update(value, 'utf8').digest('hex');
const trimSlash = (url: string): string => url.replace(/\/+$/, '');

/** What the children step found: the conditions it set and, when it failed, why. */
interface ChildrenOutcome {
  conditions: Condition[];
  /** Set when the resource cannot be served as asked (conflict) or a write failed. */
  problem?: { reason: string; message: string; retry: boolean };
}

/**
 * Reconciles one LiveStream, in a fixed order (KEDA's controllers are the model): get → gone? →
 * being deleted? run the finalizer → ensure the finalizer → initialise conditions → children
 * (stream-key Secret, registry entry) → status (through the status subresource) + an Event when
 * something changed. Idempotent: a second run over an unchanged world writes nothing.
 */
export class LiveStreamReconciler {
  private readonly now: () => Date;
  private readonly generateStreamKey: () => string;

  constructor(private readonly options: ReconcilerOptions) {
    this.now = options.now ?? (() => new Date());
    this.generateStreamKey = options.generateStreamKey ?? (() => randomBytes(32).toString('base64url'));
  }

  async reconcile(key: ObjectKey): Promise<ReconcileResult> {
    const { namespace, name } = parseObjectKey(key);
    try {
      // 1. get; 2. gone? Nothing to do: the finalizer has cleaned up before the object went.
      const found = await this.options.api.get(namespace, name);
      if (!found) return {};
      // 3. being deleted?
      if (found.metadata.deletionTimestamp) {
        if (found.metadata.finalizers?.includes(LIVESTREAM_FINALIZER)) await this.finalize(found);
        return {};
      }
      // 4. ensure the finalizer (before any child exists, so no child can outlive the resource).
      const liveStream = found.metadata.finalizers?.includes(LIVESTREAM_FINALIZER)
        ? found
        : await this.options.api.setFinalizers(found, [...(found.metadata.finalizers ?? []), LIVESTREAM_FINALIZER]);
      // 5. initialise conditions.
      const conditions = initialiseConditions(liveStream.status?.conditions, CONDITION_TYPES, this.now(), liveStream.metadata.generation);
      // 6. children.
      const outcome = await this.reconcileChildren(liveStream, conditions);
      // 7. status + Event.
      await this.writeStatus(liveStream, outcome);
      if (outcome.problem?.retry) throw new ReconcileError(`${key}: ${outcome.problem.message}`);
      return {};
    } catch (error) {
      // 409: the object moved on since we read it; read it again at once (not a failure).
      if (error instanceof ConflictError) return { requeueAfterMs: 50 };
      throw error;
    }
  }

  /** Tombstones the registry entry (if it is ours), deletes the Secret (if ours), then releases the resource. */
  private async finalize(liveStream: LiveStream): Promise<void> {
    const { namespace, name, uid } = liveStream.metadata;
    const record = this.registryOrThrow().get(name);
    if (record && record.managed_by === managedByOf(liveStream)) await this.options.registry.remove(name);
    // No garbage collector may be running (a bare API server has none): delete the child ourselves.
    const secret = await this.options.api.getSecret(namespace, streamKeySecretName(name));
    if (secret?.metadata.uid && isOwnedBy(secret, uid)) await this.options.api.deleteSecret(namespace, secret.metadata.name, secret.metadata.uid);
    await this.options.api.setFinalizers(
      liveStream,
      (liveStream.metadata.finalizers ?? []).filter((finalizer) => finalizer !== LIVESTREAM_FINALIZER),
    );
    this.options.logger.info({ namespace, name, streamId: name }, 'LiveStream finalized: registry entry tombstoned, stream-key Secret deleted');
  }

  private registryOrThrow(): RegistryPort {
    // Until the registry has been read to its end, "no entry" is not an answer.
    if (!this.options.registry.ready) throw new ReconcileError('the stream registry is still loading');
    return this.options.registry;
  }

  private async reconcileChildren(liveStream: LiveStream, initial: Condition[]): Promise<ChildrenOutcome> {
    const { namespace, name, uid, generation } = liveStream.metadata;
    const set = (conditions: Condition[], update: ConditionUpdate) => setCondition(conditions, update, this.now(), generation);
    let conditions = initial;

    // The Secret with the stream key: generated once; deleting the Secret rotates the key.
    const secretName = streamKeySecretName(name);
    let secret = await this.options.api.getSecret(namespace, secretName);
    let streamKey: string | undefined;
    if (!secret) {
      streamKey = this.generateStreamKey();
      secret = await this.options.api.createSecret({
        metadata: {
          name: secretName,
          namespace,
          labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [LIVESTREAM_LABEL]: name },
          ownerReferences: [{ apiVersion: LIVESTREAM_API_VERSION, kind: LIVESTREAM_KIND, name, uid, controller: true }],
        },
        stringData: { [STREAM_KEY_SECRET_KEY]: streamKey },
      });
      await this.event(liveStream, 'Normal', 'StreamKeyCreated', `generated a stream key in Secret ${secretName}`);
    } else if (!isOwnedBy(secret, uid)) {
      const message = `Secret ${secretName} exists and is not owned by this LiveStream; delete or rename it`;
      conditions = set(conditions, { type: ConditionTypes.streamKey, status: 'False', reason: 'SecretConflict', message });
      return { conditions, problem: { reason: 'SecretConflict', message, retry: false } };
    } else {
      const encoded = secret.data?.[STREAM_KEY_SECRET_KEY];
      streamKey = encoded ? Buffer.from(encoded, 'base64').toString('utf8') : undefined;
      if (!streamKey) {
        const message = `Secret ${secretName} has no ${STREAM_KEY_SECRET_KEY}; delete it and a new key is generated`;
        conditions = set(conditions, { type: ConditionTypes.streamKey, status: 'False', reason: 'SecretInvalid', message });
        return { conditions, problem: { reason: 'SecretInvalid', message, retry: false } };
      }
    }
    conditions = set(conditions, { type: ConditionTypes.streamKey, status: 'True', reason: 'SecretReady', message: `stream key in Secret ${secretName}` });

    // The registry entry (only its key's hash; the key never leaves the Secret).
    const registry = this.registryOrThrow();
    const existing = registry.get(name);
    const ours = managedByOf(liveStream);
    if (existing && existing.managed_by !== ours) {
      const owner = existing.managed_by ? existing.managed_by.replace(/^livestream\//, 'LiveStream ') : 'the ingest admin API';
      const message = `stream id ${name} is already registered by ${owner}; the first writer keeps it (docs/operator.md)`;
      conditions = set(conditions, { type: ConditionTypes.registered, status: 'False', reason: 'StreamIdTaken', message });
      return { conditions, problem: { reason: 'StreamIdTaken', message, retry: false } };
    }
    const desired = desiredRecord(liveStream, sha256Hex(streamKey), existing?.created_at ?? liveStream.metadata.creationTimestamp ?? this.now().toISOString());
    if (!existing || !sameRecord(existing, desired)) {
      try {
        await registry.put(desired);
      } catch (error) {
        const message = `writing the registry entry failed: ${(error as Error).message}`;
        conditions = set(conditions, { type: ConditionTypes.registered, status: 'False', reason: 'RegistryWriteFailed', message });
        return { conditions, problem: { reason: 'RegistryWriteFailed', message, retry: true } };
      }
      await this.event(liveStream, 'Normal', existing ? 'RegistryUpdated' : 'Registered', `stream ${name} ${existing ? 'updated in' : 'written to'} stream.registry`);
    }
    conditions = set(conditions, {
      type: ConditionTypes.registered,
      status: 'True',
      reason: 'RegistryEntryWritten',
      message: `stream.registry entry ${name} matches generation ${generation ?? 0}`,
    });
    return { conditions };
  }

  private async writeStatus(liveStream: LiveStream, outcome: ChildrenOutcome): Promise<void> {
    const { name, generation } = liveStream.metadata;
    const set = (conditions: Condition[], update: ConditionUpdate) => setCondition(conditions, update, this.now(), generation);
    const observation: StreamObservation = outcome.problem ? {} : this.options.observer.observe(name);
    const publishingEnabled = liveStream.spec.publishing?.enabled !== false;
    const { phase, publishing } = phaseOf(outcome, observation, this.options.observer.ready, publishingEnabled);
    let conditions = set(outcome.conditions, publishing);
    conditions = set(
      conditions,
      outcome.problem
        ? { type: ConditionTypes.ready, status: 'False', reason: outcome.problem.reason, message: outcome.problem.message }
        : { type: ConditionTypes.ready, status: 'True', reason: 'Reconciled', message: `stream ${name} is registered; publish with the key from Secret ${streamKeySecretName(name)}` },
    );
    const previous = liveStream.status ?? {};
    const next: LiveStreamStatus = {
      phase,
      observedGeneration: generation ?? 0,
      streamId: name,
      ingestUrl: `${trimSlash(this.options.ingestPublicUrl)}/live`,
      playbackUrl: `${trimSlash(this.options.viewerPublicUrl)}/watch/${name}`,
      streamKeySecretRef: { name: streamKeySecretName(name), key: STREAM_KEY_SECRET_KEY },
      ...(observation.viewers !== undefined ? { viewers: observation.viewers } : {}),
      ...(observation.lag !== undefined ? { lag: observation.lag } : {}),
      ...(outcome.problem ? { message: outcome.problem.message } : observation.state === 'error' && observation.reason ? { message: observation.reason } : {}),
      conditions,
    };
    if (JSON.stringify(normalise(previous)) === JSON.stringify(normalise(next))) return;
    await this.options.api.patchStatus(liveStream, {
      // Merge patch: null removes what is no longer known.
      viewers: null,
      lag: null,
      message: null,
      ...next,
    });
    if (previous.phase !== phase) {
      await this.event(
        liveStream,
        phase === 'Error' ? 'Warning' : 'Normal',
        phase,
        next.message ? `phase ${previous.phase ?? 'none'} → ${phase}: ${next.message}` : `phase ${previous.phase ?? 'none'} → ${phase}`,
      );
    }
  }

  private async event(liveStream: LiveStream, type: EventType, reason: string, message: string): Promise<void> {
    try {
      await this.options.api.recordEvent(liveStream, type, reason, message);
    } catch (error) {
      // An Event is a report, not part of the desired state: never fail a reconcile over it.
      this.options.logger.warn({ namespace: liveStream.metadata.namespace, name: liveStream.metadata.name, reason, err: error }, 'could not record a Kubernetes Event');
    }
  }
}

function isOwnedBy(secret: StreamKeySecret, uid: string): boolean {
  return (secret.metadata.ownerReferences ?? []).some((reference) => reference.kind === LIVESTREAM_KIND && reference.uid === uid);
}

/** The phase and the Publishing condition, from what the children step found and what Kafka shows. */
export function phaseOf(
  outcome: ChildrenOutcome,
  observation: StreamObservation,
  observerReady: boolean,
  publishingEnabled: boolean,
): { phase: LiveStreamPhase; publishing: ConditionUpdate } {
  const publishing = (status: 'True' | 'False' | 'Unknown', reason: string, message: string): ConditionUpdate => ({ type: ConditionTypes.publishing, status, reason, message });
  if (outcome.problem) return { phase: 'Error', publishing: publishing('Unknown', outcome.problem.reason, 'the stream is not registered as specified') };
  switch (observation.state) {
    case 'live':
      return { phase: 'Live', publishing: publishing('True', 'Live', 'a publisher is connected and segments flow') };
    case 'ended':
      return { phase: 'Ended', publishing: publishing('False', 'Ended', observation.reason ? `the last publish ended: ${observation.reason}` : 'the last publish ended') };
    case 'error':
      return { phase: 'Error', publishing: publishing('False', 'TranscoderError', observation.reason ?? 'the transcoder reported an error') };
    case 'idle':
      return { phase: 'Idle', publishing: publishing('False', 'Idle', 'nobody is publishing') };
    default:
      if (!observerReady) return { phase: 'Ready', publishing: publishing('Unknown', 'StatusLoading', 'stream.status is still being read') };
      return publishingEnabled
        ? { phase: 'Idle', publishing: publishing('False', 'NotPublishing', 'registered; nobody has published yet') }
        : { phase: 'Idle', publishing: publishing('False', 'PublishingDisabled', 'spec.publishing.enabled is false: ingest refuses publishers') };
  }
}

/** Status without key-order or absent-vs-undefined differences, for "did anything change?". */
function normalise(status: LiveStreamStatus): unknown {
  const sorted = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(sorted);
    if (value && typeof value === 'object') {
      return Object.fromEntries(
        Object.entries(value as Record<string, unknown>)
          .filter(([, entry]) => entry !== undefined && entry !== null)
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([key, entry]) => [key, sorted(entry)]),
      );
    }
    return value;
  };
  return sorted({ ...status, conditions: [...(status.conditions ?? [])].sort((a, b) => (a.type < b.type ? -1 : 1)) });
}
