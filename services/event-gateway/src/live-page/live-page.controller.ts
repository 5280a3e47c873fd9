import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Controller, Get, Header } from '@nestjs/common';

/**
 * The page ships beside the build, not inside src/: `services/event-gateway/public/`. From
 * `src/live-page` (tests) and `dist/live-page` (built) alike it is two folders up.
 */
export const LIVE_PAGE_FILE = join(__dirname, '..', '..', 'public', 'live.html');

/** `GET /live`: a plain live view of the playback events (Socket.IO client served by the gateway itself). */
@Controller()
export class LivePageController {
  /** Read once at start-up: a missing file fails the start, not the first visitor. */
  private readonly html = readFileSync(LIVE_PAGE_FILE, 'utf8');

  @Get('live')
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'no-cache')
  @Header('Content-Security-Policy', "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; connect-src 'self' ws: wss:")
  page(): string {
    return this.html;
  }
}
