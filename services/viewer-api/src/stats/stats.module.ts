import { Module } from '@nestjs/common';
import { StatsController } from './stats.controller';
import { StatsReaderService } from './stats-reader.service';

/** `GET /v1/streams/:id/stats`: the latest `playback.stats` snapshot per stream. */
@Module({
  controllers: [StatsController],
  providers: [StatsReaderService],
  exports: [StatsReaderService],
})
export class StatsModule {}
