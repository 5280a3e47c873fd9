import { type DynamicModule, Inject, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Kafka } from 'kafkajs';
import { ROOT_LOGGER } from '@tributary/nest-common';
import { KAFKA_CLIENT } from '@tributary/nest-kafka';
import type { Logger } from '@tributary/telemetry';
import { OPERATOR_CONFIG, type OperatorConfig } from '../config';
import { KUBE_CONFIG } from '../kube/kube-config';
import { LEADERSHIP } from '../leader-election/leader-election.module';
import type { Leadership } from '../leader-election/leader-elector';
import { operatorNamespace } from '../leader-election/leader-election.config';
import { KafkaLagSource } from './kafka-lag-source';
import { KubeDeploymentScale, KubeEventRecorder } from './kube-scale';
import { LagAutoscaler } from './lag-autoscaler';
import { lagAutoscalerTarget } from './lag-autoscaler.config';

const LAG_AUTOSCALER = Symbol('LAG_AUTOSCALER');

interface Running {
  autoscaler: LagAutoscaler;
  source: KafkaLagSource;
}

function createAutoscaler(config: OperatorConfig, kubeConfig: KubeConfig, kafka: Kafka, leadership: Leadership, logger: Logger): Running {
  const target = lagAutoscalerTarget(config, config.kafka.topicPrefix, operatorNamespace(config, kubeConfig));
  const source = new KafkaLagSource(kafka, target.group, target.topic);
  const autoscaler = new LagAutoscaler({
    source,
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
  return { autoscaler, source };
}

class LagAutoscalerLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(@Inject(LAG_AUTOSCALER) private readonly running: Running) {}

  onApplicationBootstrap(): void {
    this.running.autoscaler.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.running.autoscaler.stop();
    await this.running.source.close();
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
        { provide: LAG_AUTOSCALER, inject: [OPERATOR_CONFIG, KUBE_CONFIG, KAFKA_CLIENT, LEADERSHIP, ROOT_LOGGER], useFactory: createAutoscaler },
        LagAutoscalerLifecycle,
      ],
    };
  }
}
