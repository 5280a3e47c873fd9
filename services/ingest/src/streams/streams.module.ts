import { type MiddlewareConsumer, Module, type NestModule } from '@nestjs/common';
import { json } from 'express';
import { PublishClaimsService } from '../claims/publish-claims.service';
import { LivePublishers } from './live-publishers';
import { StreamRegistryService } from './stream-registry.service';
import { StreamsController } from './streams.controller';
import { StreamsService } from './streams.service';

/** The stream registry (`stream.registry`), its admin API and the cluster-wide publish claims (`stream.claims`). */
@Module({
  controllers: [StreamsController],
  providers: [StreamRegistryService, StreamsService, LivePublishers, PublishClaimsService],
  exports: [StreamRegistryService, LivePublishers, PublishClaimsService],
})
export class StreamsModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    // JSON only on the admin API: /live/* bodies are raw video and must reach the handler unread.
    consumer.apply(json({ limit: '64kb' })).forRoutes(StreamsController);
  }
}
