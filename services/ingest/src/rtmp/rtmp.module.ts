import { Module } from '@nestjs/common';
import { PublishModule } from '../publish/publish.module';
import { RtmpIngestService } from './rtmp-ingest.service';

/** RTMP/RTMPS publishing (OBS: rtmp://host/live + stream key), through the same PublishService as HTTP push. */
@Module({
  imports: [PublishModule],
  providers: [RtmpIngestService],
})
export class RtmpModule {}
