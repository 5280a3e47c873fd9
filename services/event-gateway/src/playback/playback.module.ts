import { type DynamicModule, Module } from '@nestjs/common';
import { PlaybackEventsConsumer } from './playback-events.consumer';
import { PlaybackGateway } from './playback.gateway';
import { PLAYBACK_CONSUMER_GROUP } from './playback.tokens';

/** Live playback events: Kafka `playback.events` → Socket.IO `/playback`. */
@Module({})
export class PlaybackModule {
  static register(options: { consumerGroup: string }): DynamicModule {
    return {
      module: PlaybackModule,
      controllers: [PlaybackEventsConsumer],
      providers: [{ provide: PLAYBACK_CONSUMER_GROUP, useValue: options.consumerGroup }, PlaybackGateway],
      exports: [PlaybackGateway],
    };
  }
}
