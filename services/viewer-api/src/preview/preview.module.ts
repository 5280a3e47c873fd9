import { Module } from '@nestjs/common';
import { StreamsModule } from '../streams/streams.module';
import { FramesService } from './frames.service';
import { PreviewController } from './preview.controller';

/** MJPEG preview and thumbnails from `video.frames`. */
@Module({
  imports: [StreamsModule],
  controllers: [PreviewController],
  providers: [FramesService],
})
export class PreviewModule {}
