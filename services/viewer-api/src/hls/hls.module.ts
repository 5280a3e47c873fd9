import { type DynamicModule, type MiddlewareConsumer, Module, type NestModule } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import type { ViewerApiConfig } from '../config';
import { ReplayModule } from '../replay/replay.module';
import { StreamsModule } from '../streams/streams.module';
import { HlsController } from './hls.controller';
import { LiveWindowService } from './live-window.service';
import { LowLatencyHlsService } from './low-latency.service';
import { FirstMediaService } from './first-media';
import { VIEWER_CONFIG } from './tokens';
import { allowAnyOrigin } from './http';

/** CORS on every /live and /vod answer, errors included, so a cross-origin player can read a 404's body. */
function corsForPlayers(_request: Request, response: Response, next: NextFunction): void {
  allowAnyOrigin(response);
  next();
}

/** Live HLS: the in-memory segment window fed from `video.segments`, and its playlists. */
@Module({})
export class HlsModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(corsForPlayers).forRoutes('live/*path', 'vod/*path');
  }

  static register(config: ViewerApiConfig): DynamicModule {
    return {
      module: HlsModule,
      imports: [StreamsModule, ReplayModule.register(config)],
      controllers: [HlsController],
      providers: [{ provide: VIEWER_CONFIG, useValue: config }, LiveWindowService, LowLatencyHlsService, FirstMediaService],
    };
  }
}
