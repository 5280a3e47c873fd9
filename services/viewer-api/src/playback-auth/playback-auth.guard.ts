import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { PlaybackAuthService } from './playback-auth.service';
import { PLAYBACK_TOKEN_LOCAL, playbackTokenOf } from './playback-token';

/**
 * On every media route with an `:id` (live and VOD playlists and segments, MJPEG, thumbnails):
 * a signed stream needs its playback token. The accepted token is left in `response.locals` so
 * the playlists written for this request carry it into their URIs.
 */
@Injectable()
export class PlaybackAuthGuard implements CanActivate {
  constructor(private readonly auth: PlaybackAuthService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<Request>();
    const id = request.params['id'];
    if (typeof id !== 'string') return true;
    const access = await this.auth.authorize(id, playbackTokenOf(request));
    if (access.signed) {
      const response = http.getResponse<Response>();
      (response.locals as Record<string, unknown>)[PLAYBACK_TOKEN_LOCAL] = access.token;
      // Never cache a private stream's answers in shared caches.
      response.setHeader('Vary', 'Authorization');
    }
    return true;
  }
}
