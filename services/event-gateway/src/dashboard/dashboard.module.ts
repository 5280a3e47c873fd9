import { type DynamicModule, Module } from '@nestjs/common';
import { DashboardController } from './dashboard.controller';
import { DASHBOARD_OPTIONS, type DashboardOptions } from './dashboard.options';
import { LiveFeedService } from './live-feed.service';
import { StatsFeedService } from './stats-feed.service';

/** The live dashboard on `GET /` and its Socket.IO features (history, resume, slow clients, stats). */
@Module({})
export class DashboardModule {
  static register(options: DashboardOptions, playbackModule: DynamicModule): DynamicModule {
    return {
      module: DashboardModule,
      imports: [playbackModule],
      controllers: [DashboardController],
      providers: [{ provide: DASHBOARD_OPTIONS, useValue: options }, LiveFeedService, StatsFeedService],
    };
  }
}
