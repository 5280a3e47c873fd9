import { type DynamicModule, Module } from '@nestjs/common';
import { FANOUT_OPTIONS, type FanoutOptions } from './fanout.options';
import { PlaybackEventsConsumer } from './playback-events.consumer';
import { PlaybackGateway } from './playback.gateway';
import { PLAYBACK_CONSUMER_GROUP } from './playback.tokens';
import { STREAM_ACCESS_OPTIONS, type StreamAccessOptions, StreamAccessService } from './stream-access.service';

/** Live playback events: Kafka `playback.events` → Socket.IO `/playback`. */
@Module({})
export class PlaybackModule {
  static register(options: { consumerGroup: string; access: StreamAccessOptions; fanout: FanoutOptions }): DynamicModule {
    return {
      module: PlaybackModule,
      providers: [
        { provide: PLAYBACK_CONSUMER_GROUP, useValue: options.consumerGroup },
        { provide: FANOUT_OPTIONS, useValue: options.fanout },
        PlaybackEventsConsumer,
        { provide: STREAM_ACCESS_OPTIONS, useValue: options.access },
        StreamAccessService,
        PlaybackGateway,
      ],
      exports: [PlaybackGateway],
    };
  }
}
