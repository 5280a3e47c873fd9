import { Controller, Param, Post, Put, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { PublishSummary } from './publish-session';
import { PublisherCapacityException, PublishService } from './publish.service';

/** The answer when ingest itself ended a publish (the publisher may still be sending). */
const STOPPED_STATUS: Partial<Record<PublishSummary['outcome'], { status: number; error: string }>> = {
  idle: { status: 408, error: 'Request Timeout' },
  'bitrate-exceeded': { status: 429, error: 'Too Many Requests' },
  'not-mpegts': { status: 400, error: 'Bad Request' },
};

/**
 * `POST|PUT /live/:streamKey` with a (chunked) MPEG-TS body: what
 * `ffmpeg -re -i in -c copy -f mpegts http://host:8081/live/KEY` sends (ffmpeg's http protocol
 * POSTs with `Transfer-Encoding: chunked` by default; `-method PUT` works too). No body parser
 * touches these routes: the handler reads the raw request stream. No overall request timeout
 * applies (see publish-route.ts); the idle timeout, the bitrate cap and a body that is not
 * MPEG-TS end a publish early with 408 / 429 / 400 (when the publisher still reads the answer).
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
      if (response.headersSent || response.destroyed) return;
      const stopped = STOPPED_STATUS[result.outcome];
      if (stopped) {
        closeAfterAnswer(request, response);
        response.status(stopped.status).json({ statusCode: stopped.status, error: stopped.error, message: result.reason, ...result });
      } else {
        response.status(200).json(result);
      }
    } catch (error) {
      // Refused or failed before (or while) reading the body: answer and close, so the publisher
      // stops sending (Node would otherwise read and discard a live body forever).
      closeAfterAnswer(request, response);
      if (error instanceof PublisherCapacityException) response.setHeader('Retry-After', String(error.retryAfterSeconds));
      throw error;
    }
  }
}

function closeAfterAnswer(request: Request, response: Response): void {
  if (!response.headersSent) response.setHeader('Connection', 'close');
  response.once('finish', () => request.socket.destroy());
  response.once('close', () => request.socket.destroy());
}
