import { Module } from '@nestjs/common';
import { StreamCatalogService } from './stream-catalog.service';
import { StreamsController } from './streams.controller';
import { StatsModule } from '../stats/stats.module';
import { StatsReaderService } from '../stats/stats-reader.service';
import { VIEWER_COUNTS } from './viewer-count';

/** The stream catalogue (`stream.registry` + `stream.status`) and `GET /v1/streams`. */
@Module({
  imports: [StatsModule],
  controllers: [StreamsController],
  // Live viewer counts from playback.stats (null for a stream without recent statistics).
  providers: [StreamCatalogService, { provide: VIEWER_COUNTS, useExisting: StatsReaderService }],
  exports: [StreamCatalogService],
})
export class StreamsModule {}
