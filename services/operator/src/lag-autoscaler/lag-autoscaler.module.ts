import { type DynamicModule, Inject, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { KubeConfig } from '@kubernetes/client-node';
import { ROOT_LOGGER } from '@tributary/nest-common';
import type { Logger } from '@tributary/telemetry';
import { OPERATOR_CONFIG, type OperatorConfig } from '../config';
import { KUBE_CONFIG } from '../kube/kube-config';
import { LEADERSHIP } from '../leader-election/leader-election.module';
import type { Leadership } from '../leader-election/leader-elector';
import { operatorNamespace } from '../leader-election/leader-election.config';
import { LagSources } from '../kafka/lag-sources';
import { KubeDeploymentScale, KubeEventRecorder } from './kube-scale';
import { LagAutoscaler } from './lag-autoscaler';
import { lagAutoscalerTarget } from './lag-autoscaler.config';

const LAG_AUTOSCALER = Symbol('LAG_AUTOSCALER');

function createAutoscaler(config: OperatorConfig, kubeConfig: KubeConfig, lagSources: LagSources, leadership: Leadership, logger: Logger): LagAutoscaler {
  const target = lagAutoscalerTarget(config, config.kafka.topicPrefix, operatorNamespace(config, kubeConfig));
  return new LagAutoscaler({
    source: lagSources.for(target.group, target.topic),
    target: new KubeDeploymentScale(kubeConfig, target.namespace, target.deployment),
    events: new KubeEventRecorder(kubeConfig, { namespace: target.namespace, name: target.deployment }, leadership.identity),
    settings: {
      lagThreshold: config.lagThreshold,
      activationLagThreshold: config.activationLagThreshold,
      offsetResetPolicy: config.offsetResetPolicy,
      allowIdleConsumers: config.allowIdleConsumers,
    },
    bounds: { minReplicas: config.minReplicas, maxReplicas: config.maxReplicas },
    stabilizationWindowMs: config.stabilizationSeconds * 1000,
    intervalMs: config.pollingIntervalMs,
    isLeader: () => leadership.isLeader(),
    logger,
  });
}

class LagAutoscalerLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(@Inject(LAG_AUTOSCALER) private readonly autoscaler: LagAutoscaler) {}

  onApplicationBootstrap(): void {
    this.autoscaler.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.autoscaler.stop();
  }
}

/**
 * The KEDA fallback (OPERATOR_LAG_AUTOSCALER=true): scales the transcoder Deployment on its group's
 * lag while this replica leads. `register` returns an empty module when it is off.
 */
@Module({})
export class LagAutoscalerModule {
  static register(enabled: boolean): DynamicModule {
    if (!enabled) return { module: LagAutoscalerModule };
    return {
      module: LagAutoscalerModule,
      providers: [
        { provide: LAG_AUTOSCALER, inject: [OPERATOR_CONFIG, KUBE_CONFIG, LagSources, LEADERSHIP, ROOT_LOGGER], useFactory: createAutoscaler },
        LagAutoscalerLifecycle,
      ],
    };
  }
}
