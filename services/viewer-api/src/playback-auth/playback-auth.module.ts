import { type DynamicModule, Global, Module } from '@nestjs/common';
import { StreamsModule } from '../streams/streams.module';
import { PlaybackAuthGuard } from './playback-auth.guard';
import { PLAYBACK_AUTH_OPTIONS, type PlaybackAuthOptions, PlaybackAuthService } from './playback-auth.service';

/** Signed playback for private streams: the guard the media controllers use. */
@Global()
@Module({})
export class PlaybackAuthModule {
  static register(options: PlaybackAuthOptions): DynamicModule {
    return {
      module: PlaybackAuthModule,
      imports: [StreamsModule],
      providers: [{ provide: PLAYBACK_AUTH_OPTIONS, useValue: options }, PlaybackAuthService, PlaybackAuthGuard],
      exports: [PlaybackAuthService, PlaybackAuthGuard],
    };
  }
}
