import { BadRequestException, Controller, Get, Header, NotFoundException, Param } from '@nestjs/common';
import { isStreamId, type PlaybackStats } from '@tributary/contracts';
import { StatsReaderService } from './stats-reader.service';

@Controller('v1/streams')
export class StatsController {
  constructor(private readonly reader: StatsReaderService) {}

  /** The latest live statistics of a stream (schema `playback-stats/1`), as last written to `playback.stats`. */
  @Get(':id/stats')
  @Header('Cache-Control', 'no-store')
  stats(@Param('id') id: string): PlaybackStats {
    if (!isStreamId(id)) {
      throw new BadRequestException({ message: 'invalid stream id', issues: [{ field: '/id', message: 'must be a DNS label (a-z, 0-9, -)' }] });
    }
    const stats = this.reader.store.get(id);
    if (!stats) throw new NotFoundException(`no statistics for stream "${id}" yet (no playback events in the last minutes)`);
    return stats;
  }
}
