import { type MiddlewareConsumer, Module, type NestModule } from '@nestjs/common';
import { json } from 'express';
import { LivePublishers } from './live-publishers';
import { StreamRegistryService } from './stream-registry.service';
import { StreamsController } from './streams.controller';
import { StreamsService } from './streams.service';

/** The stream registry (`stream.registry`) and its admin API. */
@Module({
  controllers: [StreamsController],
  providers: [StreamRegistryService, StreamsService, LivePublishers],
  exports: [StreamRegistryService, LivePublishers],
})
export class StreamsModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    // JSON only on the admin API: /live/* bodies are raw video and must reach the handler unread.
    consumer.apply(json({ limit: '64kb' })).forRoutes(StreamsController);
  }
}
