import { Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { CMCD_QUERY_PARAM } from '@tributary/contracts';
import { CmcdService } from './cmcd.service';
import { hlsStreamId } from './cmcd-events';

/**
 * Reads CMCD on HLS playlist and segment requests, by path (`/live/:id/…`, `/vod/:id/…`), so it
 * needs nothing from the HLS controllers. It runs before them and only queues: the response is
 * never delayed by Kafka and never fails because of CMCD.
 */
@Injectable()
export class CmcdMiddleware implements NestMiddleware {
  constructor(private readonly cmcd: CmcdService) {}

  use(request: Request, _response: Response, next: NextFunction): void {
    try {
      const path = request.originalUrl.split('?')[0] ?? '';
      const streamId = hlsStreamId(path);
      if (streamId !== undefined) {
        const search = request.originalUrl.includes('?') ? request.originalUrl.slice(request.originalUrl.indexOf('?')) : '';
        const values = new URLSearchParams(search).getAll(CMCD_QUERY_PARAM);
        this.cmcd.record({
          streamId,
          query: values.length === 0 ? undefined : values.length === 1 ? values[0] : values,
          headers: request.headers,
          userAgent: request.headers['user-agent'],
        });
      }
    } catch {
      // CMCD is best effort: nothing here may fail the request (record() does not throw; belt and braces).
    }
    next();
  }
}
