import { Module } from '@nestjs/common';
import { StreamObserver } from '../kafka/stream-observer';
import { StreamRegistryClient } from '../kafka/stream-registry.client';
import { LiveStreamController } from './livestream.controller';

/** LiveStream resources → stream-key Secrets, stream.registry entries and a status from Kafka. */
@Module({
  providers: [StreamRegistryClient, StreamObserver, LiveStreamController],
})
export class LiveStreamModule {}
