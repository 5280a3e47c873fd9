import { type DynamicModule, Module } from '@nestjs/common';
import { CommonModule } from '@tributary/nest-common';
import { KafkaModule } from '@tributary/nest-kafka';
import { MetricsModule } from '@tributary/nest-telemetry';
import type { Logger } from '@tributary/telemetry';
import type { ViewerApiConfig } from './config';
import { EventsModule } from './events/events.module';
import { HlsModule } from './hls/hls.module';
import { PlaybackAuthModule } from './playback-auth/playback-auth.module';
import { PlayerModule } from './player/player.module';
import { PreviewModule } from './preview/preview.module';
import { StreamsModule } from './streams/streams.module';
import { CmcdModule } from './cmcd/cmcd.module';
import { SchemaModule } from './schema/schema.module';
import { StatsModule } from './stats/stats.module';

/** What viewers hit: HLS playlists and segments, the web player, MJPEG preview, stream listing, playback events. */
@Module({})
export class AppModule {
  static register(config: ViewerApiConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        CommonModule.forRoot(logger),
        KafkaModule.forRoot({ clientId: 'viewer-api', config: config.kafka, ensureTopics: true }),
        MetricsModule.forRoot({ service: 'viewer-api', port: config.metricsPort }),
        EventsModule.register({
          maxBatch: config.eventsMaxBatch,
          maxBodyBytes: config.eventsMaxBodyBytes,
          produceTimeoutMs: config.eventsProduceTimeoutMs,
          lingerMs: config.eventsLingerMs,
          maxInFlightSends: config.eventsMaxInFlight,
          maxInFlightBytes: config.eventsMaxInFlightBytes,
        }),
        StreamsModule,
        PlaybackAuthModule.register({ signingKey: config.playbackSigningKey }),
        HlsModule.register(config),
        PreviewModule,
        PlayerModule,
        CmcdModule,
        SchemaModule,
        StatsModule,
      ],
    };
  }
}
