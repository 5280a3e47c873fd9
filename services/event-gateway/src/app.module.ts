import { type DynamicModule, Module } from '@nestjs/common';
import { CommonModule } from '@tributary/nest-common';
import { KafkaModule } from '@tributary/nest-kafka';
import { MetricsModule } from '@tributary/nest-telemetry';
import type { Logger } from '@tributary/telemetry';
import { type EventGatewayConfig, hasRole } from './config';
import { LivePageModule } from './live-page/live-page.module';
import { PlaybackModule } from './playback/playback.module';
import { playbackConsumerGroup } from './playback/playback.tokens';
import { StatsModule } from './stats/stats.module';
import { DashboardModule } from './dashboard/dashboard.module';

type ModuleImport = NonNullable<DynamicModule['imports']>[number];

/**
 * Streams playback events and live statistics from Kafka to browsers over Socket.IO. EVENT_GATEWAY_ROLES
 * chooses the parts: `fanout` (Socket.IO `/playback`, dashboard, live page) and/or `stats` (the stats
 * processor); health, readiness, metrics and Kafka (topics, producer, dead letters) are always there.
 */
@Module({})
export class AppModule {
  static register(config: EventGatewayConfig, logger: Logger): DynamicModule {
    const imports: ModuleImport[] = [
      CommonModule.forRoot(logger),
      KafkaModule.forRoot({ clientId: 'event-gateway', config: config.kafka, ensureTopics: true }),
      MetricsModule.forRoot({ service: 'event-gateway', port: config.metricsPort }),
    ];
    if (hasRole(config, 'fanout')) {
      const playback = PlaybackModule.register({
        consumerGroup: playbackConsumerGroup(config),
        access: { signingKey: config.playbackSigningKey, firehoseToken: config.firehoseToken },
        fanout: config.fanout,
      });
      imports.push(playback, LivePageModule, DashboardModule.register(config.dashboard, playback));
    }
    if (hasRole(config, 'stats')) imports.push(StatsModule.register(config.stats));
    return { module: AppModule, imports };
  }
}
