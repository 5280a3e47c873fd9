import { Module } from '@nestjs/common';
import { FramesController } from '../frames/frames.controller';
import { FramesService } from '../frames/frames.service';
import { StreamsModule } from '../streams/streams.module';
import { PublishController } from './publish.controller';
import { PublishService } from './publish.service';
import { StreamStatusPublisher } from './stream-status.publisher';

/** Live publishing (`/live/:key`, MPEG-TS → video.ingest) and posted frames (`/live/:key/frames` → video.frames). */
@Module({
  imports: [StreamsModule],
  controllers: [FramesController, PublishController],
  providers: [PublishService, StreamStatusPublisher, FramesService],
  exports: [PublishService],
})
export class PublishModule {}
