import { type DynamicModule, Module } from '@nestjs/common';
import { registry } from '@tributary/telemetry';
import { StatsProcessor } from './stats-processor';
import type { StatsConfig } from './stats.config';
import { STATS_CONFIG, STATS_METRICS_REGISTRY } from './stats.tokens';

/** Live statistics: playback.events → windowed aggregation → playback.stats + Prometheus. */
@Module({})
export class StatsModule {
  static register(config: StatsConfig): DynamicModule {
    return {
      module: StatsModule,
      providers: [
        { provide: STATS_CONFIG, useValue: config },
        { provide: STATS_METRICS_REGISTRY, useValue: registry },
        StatsProcessor,
      ],
      exports: [StatsProcessor],
    };
  }
}
