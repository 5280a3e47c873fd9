import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Controller, Get, Param, Res } from '@nestjs/common';
import type { Response } from 'express';
import { parseStreamId } from '../streams/stream-id';

/** services/viewer-api/public, from dist/player/ or src/player/. */
const PUBLIC_DIR = join(__dirname, '..', '..', 'public');

function load(path: string): Buffer {
  return readFileSync(path);
}

/**
 * The web player: `/watch/:id` (a static page that reads the id from its URL) and its assets.
 * hls.js is served from node_modules (no CDN: pages work offline and the version is the one we test).
 */
@Controller()
export class PlayerController {
  private readonly page = load(join(PUBLIC_DIR, 'watch.html'));
  private readonly script = load(join(PUBLIC_DIR, 'player.js'));
  private readonly hls = load(require.resolve('hls.js/dist/hls.min.js'));

  @Get('watch/:id')
  watch(@Param('id') rawId: string, @Res() response: Response): void {
    parseStreamId(rawId);
    response.setHeader('Content-Type', 'text/html; charset=utf-8');
    response.setHeader('Cache-Control', 'no-cache');
    response.setHeader('X-Content-Type-Options', 'nosniff');
    response.status(200).end(this.page);
  }

  @Get('assets/player.js')
  playerScript(@Res() response: Response): void {
    response.setHeader('Content-Type', 'text/javascript; charset=utf-8');
    response.setHeader('Cache-Control', 'no-cache');
    response.status(200).end(this.script);
  }

  @Get('assets/hls.min.js')
  hlsScript(@Res() response: Response): void {
    response.setHeader('Content-Type', 'text/javascript; charset=utf-8');
    response.setHeader('Cache-Control', 'public, max-age=3600');
    response.status(200).end(this.hls);
  }
}
