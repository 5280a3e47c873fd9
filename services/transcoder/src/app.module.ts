import { type DynamicModule, Module } from '@nestjs/common';
import { CommonModule } from '@tributary/nest-common';
import { KafkaModule } from '@tributary/nest-kafka';
import { MetricsModule } from '@tributary/nest-telemetry';
import type { Logger } from '@tributary/telemetry';
import { TRANSCODER_CONFIG, type TranscoderConfig } from './config';
import { TranscodeModule } from './transcode/transcode.module';

/** Holds the parsed config for injection (TRANSCODER_CONFIG). */
@Module({})
class TranscoderConfigModule {}

/** Consumes raw video per stream and runs ffmpeg into an ABR HLS ladder; health/metrics only over HTTP. */
@Module({})
export class AppModule {
  static register(config: TranscoderConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        CommonModule.forRoot(logger),
        KafkaModule.forRoot({ clientId: 'transcoder', config: config.kafka, ensureTopics: true }),
        MetricsModule.forRoot({ service: 'transcoder', port: config.metricsPort }),
        {
          module: TranscoderConfigModule,
          global: true,
          providers: [{ provide: TRANSCODER_CONFIG, useValue: config }],
          exports: [TRANSCODER_CONFIG],
        },
        TranscodeModule,
      ],
    };
  }
}
