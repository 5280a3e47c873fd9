import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { ROOT_LOGGER } from '@tributary/nest-common';
import type { Logger } from '@tributary/telemetry';
import { OPERATOR_CONFIG, type OperatorConfig } from '../config';
import { StreamObserver } from '../kafka/stream-observer';
import { StreamRegistryClient } from '../kafka/stream-registry.client';
import { KUBE_CONFIG } from '../kube/kube-config';
import type { Leadership } from '../leader-election/leader-elector';
import { LEADERSHIP } from '../leader-election/leader-election.module';
import { observeReconcile, operatorMetrics } from '../metrics/operator-metrics';
import { LiveStreamApi } from './livestream.api';
import { LiveStreamReconciler } from './livestream.reconciler';
import { LIVESTREAM_KIND, type ObjectKey, objectKey } from './livestream.types';
import { WorkQueue } from './work-queue';

/** Something that lists and watches, and stops on an error (a client-node informer). */
interface Watcher {
  start(): Promise<void>;
  stop(): Promise<void>;
  on(verb: 'add' | 'update' | 'delete', callback: (object: KubernetesObject) => void): void;
  on(verb: 'error', callback: (error: unknown) => void): void;
}

const INFORMER_RESTART_MIN_MS = 500;
const INFORMER_RESTART_MAX_MS = 30_000;

/**
 * The controller: informers (list+watch) on LiveStreams and on the Secrets the operator made feed
 * a work queue of `namespace/name` keys, which LiveStreamReconciler works off. Only the leader
 * runs it: started when this replica starts leading, stopped (informers, queue, timers) the moment
 * it stops. Every OPERATOR_STATUS_INTERVAL_MS each known LiveStream is reconciled again (the
 * resync: status follows Kafka, and a missed watch event is healed), and a stream.status change
 * reconciles that stream at once.
 */
@Injectable()
export class LiveStreamController implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger: Logger;
  private readonly api: LiveStreamApi;
  private readonly reconciler: LiveStreamReconciler;
  private queue?: WorkQueue;
  private watchers: Watcher[] = [];
  private readonly known = new Set<ObjectKey>();
  private refreshTimer?: NodeJS.Timeout;
  private running = false;
  private bootstrapped = false;

  constructor(
    @Inject(OPERATOR_CONFIG) private readonly config: OperatorConfig,
    @Inject(KUBE_CONFIG) kubeConfig: KubeConfig,
    @Inject(LEADERSHIP) private readonly leadership: Leadership,
    private readonly registry: StreamRegistryClient,
    private readonly observer: StreamObserver,
    @Inject(ROOT_LOGGER) rootLogger: Logger,
  ) {
    this.logger = rootLogger.child({ component: 'livestream-controller' });
    this.api = new LiveStreamApi(kubeConfig, leadership.identity);
    this.reconciler = new LiveStreamReconciler({
      api: this.api,
      registry,
      observer,
      ingestPublicUrl: config.ingestPublicUrl,
      viewerPublicUrl: config.viewerPublicUrl,
      logger: this.logger,
    });
    // Registered here, before any bootstrap hook runs, so the first onStartedLeading is not missed.
    leadership.onStartedLeading(() => {
      if (this.bootstrapped) void this.start();
    });
    leadership.onStoppedLeading((reason) => void this.stop(`stopped leading: ${reason}`));
    observer.onStateChange((streamId) => {
      for (const key of this.known) if (key.endsWith(`/${streamId}`)) this.queue?.add(key);
    });
    operatorMetrics.queueDepth(() => this.queue?.depth ?? 0);
  }

  onApplicationBootstrap(): void {
    this.bootstrapped = true;
    if (this.leadership.isLeader()) void this.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stop('shutting down');
  }

  private async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    // Reconciling before stream.registry and stream.status have been read to their end would only
    // fail (an unknown id is not a free id) or report a phase that is not known yet.
    while (this.running && !(this.registry.ready && this.observer.ready)) await new Promise((resolve) => setTimeout(resolve, 100));
    if (!this.running) return;
    const namespace = this.config.namespace;
    this.logger.info({ namespace: namespace ?? '(all)' }, 'LiveStream controller started');
    const queue = new WorkQueue({
      concurrency: 2,
      retryBaseMs: this.config.retryBaseMs,
      retryMaxMs: this.config.retryMaxMs,
      handle: (key) =>
        observeReconcile(async () => {
          // A replica that has just lost the Lease does no more writes.
          if (!this.leadership.isLeader()) return {};
          return this.reconciler.reconcile(key);
        }),
      onError: (key, error, attempt, retryInMs) =>
        this.logger.warn({ key, attempt, retryInMs, err: error }, `reconcile of LiveStream ${key} failed; retrying in ${retryInMs} ms`),
    });
    this.queue = queue;

    const liveStreams = this.api.liveStreamInformer(namespace) as unknown as Watcher;
    // What an update must change to be worth a reconcile: the spec (generation), deletion or
    // finalizers. Our own status writes come back as updates too; they are skipped (like
    // controller-runtime's GenerationChangedPredicate), so a failing key keeps its backoff.
    const seen = new Map<ObjectKey, string>();
    const signature = (object: KubernetesObject) =>
      `${object.metadata?.generation ?? 0}|${object.metadata?.deletionTimestamp ? 'deleting' : ''}|${(object.metadata?.finalizers ?? []).join(',')}`;
    const enqueue = (object: KubernetesObject) => {
      const key = objectKey(object.metadata?.namespace ?? '', object.metadata?.name ?? '');
      this.known.add(key);
      const current = signature(object);
      if (seen.get(key) === current) return;
      seen.set(key, current);
      queue.add(key);
    };
    liveStreams.on('add', enqueue);
    liveStreams.on('update', enqueue);
    liveStreams.on('delete', (object) => {
      const key = objectKey(object.metadata?.namespace ?? '', object.metadata?.name ?? '');
      this.known.delete(key);
      seen.delete(key);
      queue.forget(key);
    });

    const secrets = this.api.secretInformer(namespace) as unknown as Watcher;
    const enqueueOwner = (object: KubernetesObject) => {
      const owner = object.metadata?.ownerReferences?.find((reference) => reference.kind === LIVESTREAM_KIND);
      if (owner) queue.add(objectKey(object.metadata?.namespace ?? '', owner.name));
    };
    secrets.on('update', enqueueOwner);
    secrets.on('delete', enqueueOwner);

    this.watchers = [liveStreams, secrets];
    this.superviseWatcher('livestreams', liveStreams);
    this.superviseWatcher('secrets', secrets);

    const refresh = () => {
      for (const key of this.known) queue.refresh(key);
      this.refreshTimer = setTimeout(refresh, this.config.statusIntervalMs);
      this.refreshTimer.unref();
    };
    this.refreshTimer = setTimeout(refresh, this.config.statusIntervalMs);
    this.refreshTimer.unref();
  }

  /** Starts a watcher and restarts it (list+watch again) with backoff whenever it stops on an error. */
  private superviseWatcher(what: string, watcher: Watcher): void {
    let failures = 0;
    const restart = (error: unknown) => {
      if (!this.running || !this.watchers.includes(watcher)) return;
      failures += 1;
      const delay = Math.min(INFORMER_RESTART_MIN_MS * 2 ** Math.min(failures - 1, 10), INFORMER_RESTART_MAX_MS);
      this.logger.warn({ watch: what, err: error, retryInMs: delay }, `the ${what} watch stopped; listing and watching again in ${delay} ms`);
      setTimeout(() => {
        if (!this.running || !this.watchers.includes(watcher)) return;
        watcher.start().then(
          () => {
            failures = 0;
          },
          restart,
        );
      }, delay).unref();
    };
    watcher.on('error', restart);
    watcher.start().catch(restart);
  }

  private async stop(reason: string): Promise<void> {
    if (!this.running) return;
    this.running = false;
    clearTimeout(this.refreshTimer);
    const watchers = this.watchers;
    this.watchers = [];
    await Promise.all(watchers.map((watcher) => watcher.stop().catch(() => undefined)));
    await this.queue?.stop();
    this.queue = undefined;
    this.known.clear();
    this.logger.info({ reason }, 'LiveStream controller stopped');
  }
}
