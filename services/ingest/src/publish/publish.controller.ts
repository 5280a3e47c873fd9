import { Controller, HttpException, Param, Post, Put, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { PublishService } from './publish.service';

/**
 * `POST|PUT /live/:streamKey` with a (chunked) MPEG-TS body: what
 * `ffmpeg -re -i in -c copy -f mpegts http://host:8081/live/KEY` sends (ffmpeg's http protocol
 * POSTs with `Transfer-Encoding: chunked` by default; `-method PUT` works too). No body parser
 * touches these routes: the handler reads the raw request stream.
 */
@Controller('live')
export class PublishController {
  constructor(private readonly publishing: PublishService) {}

  @Post(':streamKey')
  async post(@Param('streamKey') streamKey: string, @Req() request: Request, @Res() response: Response): Promise<void> {
    await this.handle(streamKey, request, response);
  }

  @Put(':streamKey')
  async put(@Param('streamKey') streamKey: string, @Req() request: Request, @Res() response: Response): Promise<void> {
    await this.handle(streamKey, request, response);
  }

  private async handle(streamKey: string, request: Request, response: Response): Promise<void> {
    let streamId: string;
    try {
      streamId = this.publishing.authorize(streamKey);
      const result = await this.publishing.publish(streamId, request);
      if (!response.headersSent && !response.destroyed) response.status(200).json(result);
    } catch (error) {
      if (error instanceof HttpException) {
        // Refused before reading the body: answer and close, so the publisher stops sending.
        response.setHeader('Connection', 'close');
        response.once('finish', () => request.socket.destroy());
      }
      throw error;
    }
  }
}
