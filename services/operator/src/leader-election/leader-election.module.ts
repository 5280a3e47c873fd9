import { Global, Inject, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { KubeConfig } from '@kubernetes/client-node';
import { ROOT_LOGGER } from '@tributary/nest-common';
import { type Logger, operatorMetrics } from '@tributary/telemetry';
import { OPERATOR_CONFIG, type OperatorConfig } from '../config';
import { KUBE_CONFIG } from '../kube/kube-config';
import { type Leadership, LeaderElector } from './leader-elector';
import { leaseSettings } from './leader-election.config';
import { KubeLeaseApi } from './lease-api';
import { AlwaysLeader } from './always-leader';

/** Injection token of this replica's Leadership (a LeaderElector, or AlwaysLeader with OPERATOR_LEADER_ELECTION=false). */
export const LEADERSHIP = Symbol('LEADERSHIP');

function createLeadership(config: OperatorConfig, kubeConfig: KubeConfig, logger: Logger): Leadership {
  if (!config.leaderElection) {
    logger.warn({ component: 'leader-election' }, 'leader election is off (OPERATOR_LEADER_ELECTION=false): run one replica only');
    return new AlwaysLeader((error) => logger.error({ component: 'leader-election', error: (error as Error).message }, 'a leader-election callback threw'));
  }
  const lease = leaseSettings(config, kubeConfig);
  return new LeaderElector({ ...lease, api: new KubeLeaseApi(kubeConfig, lease.namespace, lease.name), logger });
}

/** Starts the election once the application is up and stops it (stop acting, release the Lease) on shutdown. */
class LeaderElectionLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(@Inject(LEADERSHIP) private readonly leadership: Leadership) {}

  onApplicationBootstrap(): void {
    operatorMetrics.leader(() => this.leadership.isLeader());
    this.leadership.onStartedLeading(() => operatorMetrics.leadershipChanges().inc({ change: 'started' }));
    this.leadership.onStoppedLeading(() => operatorMetrics.leadershipChanges().inc({ change: 'stopped' }));
    this.leadership.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.leadership.stop();
  }
}

/**
 * Provides LEADERSHIP: gate every write to the cluster on `isLeader()` (or run it under the
 * AbortSignal that onStartedLeading hands over). See docs/operator.md, "Leader election".
 */
@Global()
@Module({
  providers: [
    { provide: LEADERSHIP, inject: [OPERATOR_CONFIG, KUBE_CONFIG, ROOT_LOGGER], useFactory: createLeadership },
    LeaderElectionLifecycle,
  ],
  exports: [LEADERSHIP],
})
export class LeaderElectionModule {}
