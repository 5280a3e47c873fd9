import { Controller, HttpCode, Param, Post, Req } from '@nestjs/common';
import type { Request } from 'express';
import { type FrameAccepted, FramesService } from './frames.service';

/** `POST /live/:streamKey/frames` with one `image/jpeg` body (camera / OpenCV style). */
@Controller('live')
export class FramesController {
  constructor(private readonly frames: FramesService) {}

  @Post(':streamKey/frames')
  @HttpCode(202)
  post(@Param('streamKey') streamKey: string, @Req() request: Request): Promise<FrameAccepted> {
    return this.frames.accept(streamKey, request);
  }
}
