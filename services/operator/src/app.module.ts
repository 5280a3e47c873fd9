import { type DynamicModule, Module } from '@nestjs/common';
import type { KubeConfig } from '@kubernetes/client-node';
import { CommonModule } from '@tributary/nest-common';
import { KafkaModule } from '@tributary/nest-kafka';
import { MetricsModule } from '@tributary/nest-telemetry';
import type { Logger } from '@tributary/telemetry';
import { OPERATOR_CONFIG, type OperatorConfig } from './config';
import { LagSourcesModule } from './kafka/lag-sources';
import { KUBE_CONFIG } from './kube/kube-config';
import { LagAutoscalerModule } from './lag-autoscaler/lag-autoscaler.module';
import { LeaderElectionModule } from './leader-election/leader-election.module';
import { LiveStreamModule } from './livestream/livestream.module';

/** Holds the parsed config and the cluster connection for injection (OPERATOR_CONFIG, KUBE_CONFIG). */
@Module({})
class OperatorConfigModule {}

/**
 * Reconciles LiveStream custom resources into streams: a stream-key Secret, the stream's entry in
 * stream.registry, and a status that follows what Kafka shows. Health/metrics only over HTTP.
 */
@Module({})
export class AppModule {
  static register(config: OperatorConfig, kubeConfig: KubeConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        CommonModule.forRoot(logger),
        KafkaModule.forRoot({ clientId: 'operator', config: config.kafka, ensureTopics: true }),
        MetricsModule.forRoot({ service: 'operator', port: config.metricsPort }),
        {
          module: OperatorConfigModule,
          global: true,
          providers: [
            { provide: OPERATOR_CONFIG, useValue: config },
            { provide: KUBE_CONFIG, useValue: kubeConfig },
          ],
          exports: [OPERATOR_CONFIG, KUBE_CONFIG],
        },
        LeaderElectionModule,
        LagSourcesModule,
        LagAutoscalerModule.register(config.lagAutoscaler),
        LiveStreamModule,
      ],
    };
  }
}
