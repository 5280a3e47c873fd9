import { Body, Controller, Delete, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { AdminTokenGuard } from './admin-token.guard';
import { type CreatedStream, StreamsService, type StreamView } from './streams.service';

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

  @Delete(':id')
  @HttpCode(204)
  async remove(@Param('id') id: string): Promise<void> {
    await this.streams.remove(id);
  }
}
