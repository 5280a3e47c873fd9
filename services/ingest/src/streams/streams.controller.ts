import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, UseGuards } from '@nestjs/common';
import { AdminTokenGuard } from './admin-token.guard';
import { type CreatedStream, type PlaybackTokenView, StreamsService, type StreamView } from './streams.service';

/** The stream registry's admin API. */
@Controller('v1/streams')
@UseGuards(AdminTokenGuard)
export class StreamsController {
  constructor(private readonly streams: StreamsService) {}

  @Post()
  @HttpCode(201)
  create(@Body() body: unknown): Promise<CreatedStream> {
    return this.streams.create(body);
  }

  @Get(':id')
  get(@Param('id') id: string): StreamView {
    return this.streams.get(id);
  }

  @Patch(':id')
  update(@Param('id') id: string, @Body() body: unknown): Promise<StreamView> {
    return this.streams.update(id, body);
  }

  @Post(':id/playback-tokens')
  @HttpCode(201)
  mintPlaybackToken(@Param('id') id: string, @Body() body: unknown): Promise<PlaybackTokenView> {
    return this.streams.mintPlaybackToken(id, body);
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@Param('id') id: string): Promise<void> {
    await this.streams.remove(id);
  }
}
