import { Controller, Get, NotFoundException, Options, Param, Query, Res, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import { allowAnyOrigin, parseArchiveSegmentFile, parseFrom, sendPlaylist, sendSegment } from '../hls/http';
import { StreamCatalogService } from '../streams/stream-catalog.service';
import type { StreamView } from '../streams/stream-catalog';
import { parseRendition, parseStreamId } from '../streams/stream-id';
import { ReplayPlaylists, withinRetention } from './replay-playlists';
import { ReplayService } from './replay.service';
import { PlaybackAuthGuard } from '../playback-auth/playback-auth.guard';

/** Replay from Kafka: `/vod/:id/master.m3u8[?from=start|ISO]`, media playlists and segments. */
@Controller('vod')
@UseGuards(PlaybackAuthGuard)
export class VodController {
  constructor(
    private readonly catalog: StreamCatalogService,
    private readonly playlists: ReplayPlaylists,
    private readonly replay: ReplayService,
  ) {}

  @Options('*path')
  preflight(@Res() response: Response): void {
    allowAnyOrigin(response);
    response.setHeader('Access-Control-Allow-Methods', 'GET, HEAD, OPTIONS');
    // `*` does not cover Authorization (Fetch spec): name it for players that send a playback token as a bearer.
    response.setHeader('Access-Control-Allow-Headers', '*, Authorization');
    response.status(204).end();
  }

  @Get(':id/master.m3u8')
  async master(@Param('id') rawId: string, @Query('from') rawFrom: unknown, @Res() response: Response): Promise<void> {
    const stream = this.stream(rawId);
    sendPlaylist(response, await this.playlists.master(stream, parseFrom(rawFrom)), 0);
  }

  @Get(':id/:rendition/index.m3u8')
  async media(
    @Param('id') rawId: string,
    @Param('rendition') rawRendition: string,
    @Query('from') rawFrom: unknown,
    @Res() response: Response,
  ): Promise<void> {
    const stream = this.stream(rawId);
    const { body, complete } = await this.playlists.media(stream, parseRendition(rawRendition), parseFrom(rawFrom));
    sendPlaylist(response, body, complete ? 60 : 0);
  }

  @Get(':id/:rendition/:file')
  async segment(
    @Param('id') rawId: string,
    @Param('rendition') rawRendition: string,
    @Param('file') rawFile: string,
    @Res() response: Response,
  ): Promise<void> {
    const stream = this.stream(rawId);
    const id = stream.id;
    const rendition = parseRendition(rawRendition);
    const { partition, offset } = parseArchiveSegmentFile(rawFile);
    const segment = await this.replay.segment(id, rendition, partition, offset);
    if (!segment) throw new NotFoundException(`no segment of ${id}/${rendition} at ${partition}-${offset} (outside retention?)`);
    if (!withinRetention(segment.meta, stream)) {
      throw new NotFoundException(`segment ${partition}-${offset} of ${id} is older than the stream's retention (${stream.retention_seconds} s)`);
    }
    sendSegment(response, segment.bytes, segment.meta.contentType);
  }

  private stream(rawId: string): StreamView {
    const id = parseStreamId(rawId);
    const stream = this.catalog.get(id);
    if (!stream) throw new NotFoundException(`stream ${id} is not known`);
    return stream;
  }
}
