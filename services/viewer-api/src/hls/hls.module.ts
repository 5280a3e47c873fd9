import { type DynamicModule, Module } from '@nestjs/common';
import type { ViewerApiConfig } from '../config';
import { ReplayModule } from '../replay/replay.module';
import { StreamsModule } from '../streams/streams.module';
import { HlsController } from './hls.controller';
import { LiveWindowService } from './live-window.service';
import { VIEWER_CONFIG } from './tokens';

/** Live HLS: the in-memory segment window fed from `video.segments`, and its playlists. */
@Module({})
export class HlsModule {
  static register(config: ViewerApiConfig): DynamicModule {
    return {
      module: HlsModule,
      imports: [StreamsModule, ReplayModule.register(config)],
      controllers: [HlsController],
      providers: [{ provide: VIEWER_CONFIG, useValue: config }, LiveWindowService],
    };
  }
}
