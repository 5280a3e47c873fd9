import { createHash } from 'node:crypto';
import type { StreamRecord } from '@tributary/contracts';
import type { Logger } from '@tributary/telemetry';
import type { ObserverPort, StreamObservation } from '../kafka/stream-observer';
import type { RegistryPort } from '../kafka/stream-registry.client';
import { ConflictError, type LiveStreamPort } from './livestream.api';
import { LiveStreamReconciler } from './livestream.reconciler';
import { LIVESTREAM_FINALIZER, type LiveStream, type StreamKeySecret } from './livestream.types';

const KEY = 'k'.repeat(43);
const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

/** An in-memory API server for one namespace: merge-patch semantics for status, resourceVersion checks for finalizers. */
class FakeApi implements LiveStreamPort {
  objects = new Map<string, LiveStream>();
  secrets = new Map<string, StreamKeySecret>();
  events: string[] = [];
  calls: string[] = [];
  conflictOnFinalizers = false;
  private version = 1;

  put(liveStream: LiveStream): void {
    this.objects.set(liveStream.metadata.name, { ...liveStream, metadata: { ...liveStream.metadata, resourceVersion: String(this.version++) } });
  }

  async get(_namespace: string, name: string) {
    const found = this.objects.get(name);
    return found ? structuredClone<LiveStream>(found) : undefined;
  }

  async setFinalizers(liveStream: LiveStream, finalizers: string[]) {
    this.calls.push(`finalizers ${finalizers.join(',')}`);
    const current = this.objects.get(liveStream.metadata.name);
    if (this.conflictOnFinalizers || !current || current.metadata.resourceVersion !== liveStream.metadata.resourceVersion) throw new ConflictError('409');
    if (current.metadata.deletionTimestamp && finalizers.length === 0) {
      this.objects.delete(liveStream.metadata.name);
      return { ...current, metadata: { ...current.metadata, finalizers } };
    }
    this.put({ ...current, metadata: { ...current.metadata, finalizers } });
    return structuredClone(this.objects.get(liveStream.metadata.name)) as LiveStream;
  }

  async patchStatus(liveStream: LiveStream, status: Record<string, unknown>) {
    this.calls.push('status');
    const current = this.objects.get(liveStream.metadata.name) as LiveStream;
    const merged: Record<string, unknown> = { ...(current.status ?? {}) };
    for (const [key, value] of Object.entries(status)) {
      if (value === null) delete merged[key];
      else merged[key] = value;
    }
    this.put({ ...current, status: merged });
  }

  async getSecret(_namespace: string, name: string) {
    return this.secrets.get(name);
  }

  async createSecret(secret: StreamKeySecret & { stringData?: Record<string, string> }) {
    this.calls.push(`create secret ${secret.metadata.name}`);
    const stored: StreamKeySecret = {
      metadata: { ...secret.metadata, uid: `secret-uid-${this.version++}` },
      data: Object.fromEntries(Object.entries(secret.stringData ?? {}).map(([key, value]) => [key, Buffer.from(value).toString('base64')])),
    };
    this.secrets.set(secret.metadata.name, stored);
    return stored;
  }

  async deleteSecret(_namespace: string, name: string, uid: string) {
    this.calls.push(`delete secret ${name}`);
    if (this.secrets.get(name)?.metadata.uid === uid) this.secrets.delete(name);
  }

  async recordEvent(_liveStream: LiveStream, type: string, reason: string) {
    this.events.push(`${type} ${reason}`);
  }
}

class FakeRegistry implements RegistryPort {
  ready = true;
  records = new Map<string, StreamRecord>();
  writes: (StreamRecord | string)[] = [];
  failWith: Error | undefined;

  get(id: string) {
    return this.records.get(id);
  }

  async put(record: StreamRecord) {
    if (this.failWith) throw this.failWith;
    this.writes.push(record);
    this.records.set(record.id, record);
  }

  async remove(id: string) {
    if (this.failWith) throw this.failWith;
    this.writes.push(`tombstone ${id}`);
    this.records.delete(id);
  }
}

class FakeObserver implements ObserverPort {
  ready = true;
  observations = new Map<string, StreamObservation>();
  observe(streamId: string) {
    return this.observations.get(streamId) ?? {};
  }
}

const logged: unknown[] = [];
const logger = {
  info: (...args: unknown[]) => logged.push(args),
  warn: (...args: unknown[]) => logged.push(args),
  child: () => logger,
} as unknown as Logger;

function liveStream(spec: LiveStream['spec'] = { title: 'Town hall' }, generation = 1): LiveStream {
  return {
    apiVersion: 'streaming.tributary.io/v1alpha1',
    kind: 'LiveStream',
    metadata: { name: 'town-hall', namespace: 'media', uid: 'ls-uid-1', generation, creationTimestamp: '2026-12-02T07:00:00Z' },
    spec,
  };
}

function setup() {
  const api = new FakeApi();
  const registry = new FakeRegistry();
  const observer = new FakeObserver();
  const reconciler = new LiveStreamReconciler({
    api,
    registry,
    observer,
    ingestPublicUrl: 'https://ingest.example/',
    viewerPublicUrl: 'https://watch.example',
    logger,
    now: () => new Date('2026-12-02T08:00:00Z'),
    generateStreamKey: () => KEY,
  });
  return { api, registry, observer, reconciler, status: () => api.objects.get('town-hall')?.status };
}

const condition = (status: LiveStream['status'], type: string) => status?.conditions?.find((entry) => entry.type === type);

describe(LiveStreamReconciler.name, () => {
  it('creates the finalizer, the stream-key Secret and the registry entry, then reports Ready with observedGeneration', async () => {
    const { api, registry, reconciler, status } = setup();
    api.put(liveStream({ title: 'Town hall', ladder: [{ name: '480p', height: 480, videoBitrateKbps: 1400, audioBitrateKbps: 96 }], viewers: { public: false }, retention: '1h30m' }));
    await expect(reconciler.reconcile('media/town-hall')).resolves.toEqual({});

    expect(api.objects.get('town-hall')?.metadata.finalizers).toEqual([LIVESTREAM_FINALIZER]);
    const secret = api.secrets.get('town-hall-stream-key');
    expect(secret?.metadata.ownerReferences).toEqual([{ apiVersion: 'streaming.tributary.io/v1alpha1', kind: 'LiveStream', name: 'town-hall', uid: 'ls-uid-1', controller: true }]);
    expect(Buffer.from(secret?.data?.streamKey ?? '', 'base64').toString()).toBe(KEY);
    expect(registry.records.get('town-hall')).toEqual({
      id: 'town-hall',
      title: 'Town hall',
      ladder: [{ name: '480p', width: 854, height: 480, video_bitrate_kbps: 1400, audio_bitrate_kbps: 96 }],
      segment_duration_seconds: 2,
      stream_key_sha256: sha256(KEY),
      created_at: '2026-12-02T07:00:00Z',
      playback: 'signed',
      latency_mode: 'standard',
      retention_seconds: 5400,
      publishing_enabled: true,
      managed_by: 'livestream/media/town-hall',
    });
    expect(status()).toMatchObject({
      phase: 'Idle',
      observedGeneration: 1,
      streamId: 'town-hall',
      ingestUrl: 'https://ingest.example/live',
      playbackUrl: 'https://watch.example/watch/town-hall',
      streamKeySecretRef: { name: 'town-hall-stream-key', key: 'streamKey' },
    });
    expect(condition(status(), 'Ready')).toMatchObject({ status: 'True', reason: 'Reconciled', observedGeneration: 1, lastTransitionTime: '2026-12-02T08:00:00.000Z' });
    expect(condition(status(), 'Registered')?.status).toBe('True');
    expect(condition(status(), 'StreamKey')?.status).toBe('True');
    expect(api.events).toEqual(['Normal StreamKeyCreated', 'Normal Registered', 'Normal Idle']);
    // The key itself is never logged.
    expect(JSON.stringify(logged)).not.toContain(KEY);
  });

  it('is idempotent: a second run over an unchanged world writes nothing', async () => {
    const { api, registry, reconciler } = setup();
    api.put(liveStream());
    await reconciler.reconcile('media/town-hall');
    const calls = api.calls.length;
    const writes = registry.writes.length;
    await reconciler.reconcile('media/town-hall');
    expect(api.calls.slice(calls)).toEqual([]);
    expect(registry.writes.length).toBe(writes);
    expect(api.events.length).toBe(3);
  });

  it('rewrites the registry entry when the ladder changes, keeping the key and created_at, and observes the new generation', async () => {
    const { api, registry, reconciler, status } = setup();
    api.put(liveStream());
    await reconciler.reconcile('media/town-hall');
    const current = api.objects.get('town-hall') as LiveStream;
    api.put({ ...current, metadata: { ...current.metadata, generation: 2 }, spec: { title: 'Town hall', ladder: [{ name: '240p', height: 240, videoBitrateKbps: 400, audioBitrateKbps: 64 }] } });
    await reconciler.reconcile('media/town-hall');
    const record = registry.records.get('town-hall');
    expect(record?.ladder).toEqual([{ name: '240p', width: 426, height: 240, video_bitrate_kbps: 400, audio_bitrate_kbps: 64 }]);
    expect(record?.stream_key_sha256).toBe(sha256(KEY));
    expect(record?.created_at).toBe('2026-12-02T07:00:00Z');
    expect(status()?.observedGeneration).toBe(2);
    expect(api.events).toContain('Normal RegistryUpdated');
  });

  it('on deletion tombstones its registry entry, deletes its Secret and releases the finalizer', async () => {
    const { api, registry, reconciler } = setup();
    api.put(liveStream());
    await reconciler.reconcile('media/town-hall');
    const current = api.objects.get('town-hall') as LiveStream;
    api.put({ ...current, metadata: { ...current.metadata, deletionTimestamp: '2026-12-02T09:00:00Z' } });
    await reconciler.reconcile('media/town-hall');
    expect(registry.writes.at(-1)).toBe('tombstone town-hall');
    expect(api.secrets.size).toBe(0);
    expect(api.objects.has('town-hall')).toBe(false);
    // Gone: nothing more to do.
    await expect(reconciler.reconcile('media/town-hall')).resolves.toEqual({});
  });

  it('never takes over a stream id registered through the ingest API (or by another namespace): Registered=False, phase Error, no write', async () => {
    const { api, registry, reconciler, status } = setup();
    registry.records.set('town-hall', {
      id: 'town-hall',
      title: 'From the API',
      ladder: [{ name: '720p', width: 1280, height: 720, video_bitrate_kbps: 2800, audio_bitrate_kbps: 128 }],
      segment_duration_seconds: 2,
      stream_key_sha256: 'a'.repeat(64),
      created_at: '2026-12-01T00:00:00Z',
    });
    api.put(liveStream());
    await expect(reconciler.reconcile('media/town-hall')).resolves.toEqual({});
    expect(registry.writes).toEqual([]);
    expect(status()?.phase).toBe('Error');
    expect(condition(status(), 'Registered')).toMatchObject({ status: 'False', reason: 'StreamIdTaken' });
    expect(condition(status(), 'Ready')).toMatchObject({ status: 'False', reason: 'StreamIdTaken' });
    expect(status()?.message).toMatch(/already registered by the ingest admin API/);

    // Deleting it leaves the other writer's entry alone.
    const current = api.objects.get('town-hall') as LiveStream;
    api.put({ ...current, metadata: { ...current.metadata, deletionTimestamp: '2026-12-02T09:00:00Z' } });
    await reconciler.reconcile('media/town-hall');
    expect(registry.records.get('town-hall')?.title).toBe('From the API');
  });

  it('reports a failed registry write in the Registered condition and throws so the queue retries with backoff', async () => {
    const { api, registry, reconciler, status } = setup();
    registry.failWith = new Error('Connection error: connect ECONNREFUSED');
    api.put(liveStream());
    await expect(reconciler.reconcile('media/town-hall')).rejects.toThrow(/ECONNREFUSED/);
    expect(condition(status(), 'Registered')).toMatchObject({ status: 'False', reason: 'RegistryWriteFailed' });
    expect(condition(status(), 'Ready')?.status).toBe('False');
    expect(status()?.phase).toBe('Error');
    registry.failWith = undefined;
    await reconciler.reconcile('media/town-hall');
    expect(condition(status(), 'Ready')?.status).toBe('True');
    expect(status()?.message).toBeUndefined();
  });

  it('fails (to be retried) while the registry is still loading, before writing anything to it', async () => {
    const { api, registry, reconciler } = setup();
    registry.ready = false;
    api.put(liveStream());
    await expect(reconciler.reconcile('media/town-hall')).rejects.toThrow(/still loading/);
    expect(registry.writes).toEqual([]);
  });

  it('answers a 409 with a quick requeue instead of a failure', async () => {
    const { api, reconciler } = setup();
    api.put(liveStream());
    api.conflictOnFinalizers = true;
    await expect(reconciler.reconcile('media/town-hall')).resolves.toEqual({ requeueAfterMs: 50 });
  });

  it.each([
    [{ state: 'live' as const, viewers: 12, lag: 3 }, 'Live', 'True', 'Live'],
    [{ state: 'ended' as const }, 'Ended', 'False', 'Ended'],
    [{ state: 'error' as const, reason: 'the input is not H.264' }, 'Error', 'False', 'TranscoderError'],
    [{}, 'Idle', 'False', 'NotPublishing'],
  ])('follows Kafka: %j → phase %s', async (observation, phase, publishing, reason) => {
    const { api, observer, reconciler, status } = setup();
    observer.observations.set('town-hall', observation);
    api.put(liveStream());
    await reconciler.reconcile('media/town-hall');
    expect(status()?.phase).toBe(phase);
    expect(condition(status(), 'Publishing')).toMatchObject({ status: publishing, reason });
    if ('viewers' in observation) expect(status()).toMatchObject({ viewers: 12, lag: 3 });
    if ('reason' in observation) expect(status()?.message).toBe('the input is not H.264');
  });

  it('refuses to adopt a Secret of that name that it does not own', async () => {
    const { api, registry, reconciler, status } = setup();
    api.secrets.set('town-hall-stream-key', { metadata: { name: 'town-hall-stream-key', namespace: 'media', uid: 'other' }, data: { streamKey: 'eA==' } });
    api.put(liveStream());
    await reconciler.reconcile('media/town-hall');
    expect(condition(status(), 'StreamKey')).toMatchObject({ status: 'False', reason: 'SecretConflict' });
    expect(registry.writes).toEqual([]);
  });
});
