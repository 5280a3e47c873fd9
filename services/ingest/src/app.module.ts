import { type DynamicModule, Module } from '@nestjs/common';
import { CommonModule } from '@tributary/nest-common';
import { KafkaModule } from '@tributary/nest-kafka';
import { MetricsModule } from '@tributary/nest-telemetry';
import type { Logger } from '@tributary/telemetry';
import type { IngestConfig } from './config';

/** Publishers push live video (MPEG-TS over HTTP) and JPEG frames; chunks go to Kafka. */
@Module({})
export class AppModule {
  static register(config: IngestConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        CommonModule.forRoot(logger),
        KafkaModule.forRoot({ clientId: 'ingest', config: config.kafka, ensureTopics: true }),
        MetricsModule.forRoot({ service: 'ingest' }),
      ],
    };
  }
}
