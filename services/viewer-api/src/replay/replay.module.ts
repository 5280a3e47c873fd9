import { type DynamicModule, Module } from '@nestjs/common';
import type { ViewerApiConfig } from '../config';
import { VIEWER_CONFIG } from '../hls/tokens';
import { StreamsModule } from '../streams/streams.module';
import { ReplayPlaylists } from './replay-playlists';
import { ReplayService } from './replay.service';
import { VodController } from './vod.controller';

/** Replay of any stream within `video.segments` retention, straight from Kafka. */
@Module({})
export class ReplayModule {
  static register(config: ViewerApiConfig): DynamicModule {
    return {
      module: ReplayModule,
      imports: [StreamsModule],
      controllers: [VodController],
      providers: [{ provide: VIEWER_CONFIG, useValue: config }, ReplayService, ReplayPlaylists],
      exports: [ReplayPlaylists],
    };
  }
}
