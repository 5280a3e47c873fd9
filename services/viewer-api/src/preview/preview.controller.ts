import { Controller, Get, NotFoundException, Param, Req, Res, UseGuards } from '@nestjs/common';
import type { Request, Response } from 'express';
import { allowAnyOrigin } from '../hls/http';
import { StreamCatalogService } from '../streams/stream-catalog.service';
import { parseStreamId } from '../streams/stream-id';
import { MJPEG_BOUNDARY } from './frame-hub';
import { FramesService } from './frames.service';
import { PlaybackAuthGuard } from '../playback-auth/playback-auth.guard';

/** `/live/:id/preview.mjpeg` (multipart/x-mixed-replace) and `/live/:id/thumbnail.jpg`. */
@Controller('live')
@UseGuards(PlaybackAuthGuard)
export class PreviewController {
  constructor(
    private readonly catalog: StreamCatalogService,
    private readonly frames: FramesService,
  ) {}

  @Get(':id/thumbnail.jpg')
  thumbnail(@Param('id') rawId: string, @Res() response: Response): void {
    const id = parseStreamId(rawId);
    const frame = this.frames.hub.latestFrame(id);
    if (!frame) throw new NotFoundException(`no frame for stream ${id} yet`);
    allowAnyOrigin(response);
    response.setHeader('Content-Type', 'image/jpeg');
    response.setHeader('Cache-Control', 'no-cache');
    response.setHeader('Last-Modified', new Date(frame.timeMs).toUTCString());
    response.status(200).end(frame.bytes);
  }

  @Get(':id/preview.mjpeg')
  preview(@Param('id') rawId: string, @Req() request: Request, @Res() response: Response): void {
    const id = parseStreamId(rawId);
    if (!this.catalog.get(id) && !this.frames.hub.latestFrame(id)) throw new NotFoundException(`stream ${id} is not known`);
    allowAnyOrigin(response);
    response.status(200);
    response.setHeader('Content-Type', `multipart/x-mixed-replace; boundary=${MJPEG_BOUNDARY}`);
    response.setHeader('Cache-Control', 'no-cache, no-store');
    response.setHeader('Connection', 'close');
    response.flushHeaders();
    const unsubscribe = this.frames.hub.subscribe(id, response);
    const close = () => unsubscribe();
    request.once('close', close);
    response.once('error', close);
  }
}
