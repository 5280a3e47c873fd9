import { Module } from '@nestjs/common';
import { StreamCatalogService } from './stream-catalog.service';
import { StreamsController } from './streams.controller';
import { unknownViewerCounts, VIEWER_COUNTS } from './viewer-count';

/** The stream catalogue (`stream.registry` + `stream.status`) and `GET /v1/streams`. */
@Module({
  controllers: [StreamsController],
  providers: [StreamCatalogService, { provide: VIEWER_COUNTS, useValue: unknownViewerCounts }],
  exports: [StreamCatalogService],
})
export class StreamsModule {}
