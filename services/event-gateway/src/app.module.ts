import { type DynamicModule, Module } from '@nestjs/common';
import { CommonModule } from '@tributary/nest-common';
import { KafkaModule } from '@tributary/nest-kafka';
import { MetricsModule } from '@tributary/nest-telemetry';
import type { Logger } from '@tributary/telemetry';
import type { EventGatewayConfig } from './config';
import { LivePageModule } from './live-page/live-page.module';
import { PlaybackModule } from './playback/playback.module';
import { playbackConsumerGroup } from './playback/playback.tokens';
import { StatsModule } from './stats/stats.module';
import { DashboardModule } from './dashboard/dashboard.module';

/** Streams playback events and live statistics from Kafka to browsers over Socket.IO. */
@Module({})
export class AppModule {
  static register(config: EventGatewayConfig, logger: Logger): DynamicModule {
    const playback = PlaybackModule.register({ consumerGroup: playbackConsumerGroup(config.instanceId) });
    return {
      module: AppModule,
      imports: [
        CommonModule.forRoot(logger),
        KafkaModule.forRoot({ clientId: 'event-gateway', config: config.kafka, ensureTopics: true }),
        MetricsModule.forRoot({ service: 'event-gateway' }),
        playback,
        LivePageModule,
        StatsModule.register(config.stats),
        DashboardModule.register(config.dashboard, playback),
      ],
    };
  }
}
