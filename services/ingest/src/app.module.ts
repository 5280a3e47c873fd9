import { type DynamicModule, Module } from '@nestjs/common';
import { CommonModule } from '@tributary/nest-common';
import { KafkaModule } from '@tributary/nest-kafka';
import { MetricsModule } from '@tributary/nest-telemetry';
import type { Logger } from '@tributary/telemetry';
import { INGEST_CONFIG, type IngestConfig } from './config';
import { PublishModule } from './publish/publish.module';
import { RtmpModule } from './rtmp/rtmp.module';
import { StreamsModule } from './streams/streams.module';

/** Holds the parsed config for injection (INGEST_CONFIG). */
@Module({})
class IngestConfigModule {}

/** Publishers push live video (MPEG-TS over HTTP) and JPEG frames; chunks go to Kafka. */
@Module({})
export class AppModule {
  static register(config: IngestConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        CommonModule.forRoot(logger),
        KafkaModule.forRoot({ clientId: 'ingest', config: config.kafka, ensureTopics: true }),
        MetricsModule.forRoot({ service: 'ingest', port: config.metricsPort }),
        { module: IngestConfigModule, global: true, providers: [{ provide: INGEST_CONFIG, useValue: config }], exports: [INGEST_CONFIG] },
        StreamsModule,
        PublishModule,
        RtmpModule,
      ],
    };
  }
}
