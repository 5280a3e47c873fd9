import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Controller, Get, Header } from '@nestjs/common';

/** `services/event-gateway/public/`, from `src/dashboard` (tests) and `dist/dashboard` (built) alike. */
const PUBLIC_DIR = join(__dirname, '..', '..', 'public');
/** uPlot is served from our own node_modules (no CDN): the page works offline and under a strict CSP. */
const UPLOT_DIR = join(dirname(require.resolve('uplot/package.json')), 'dist');

const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self' ws: wss:; img-src 'self' data:";

/** `GET /`: the live dashboard (events, per-stream statistics and charts). Files are read once at start-up. */
@Controller()
export class DashboardController {
  private readonly html = readFileSync(join(PUBLIC_DIR, 'dashboard.html'), 'utf8');
  private readonly script = readFileSync(join(PUBLIC_DIR, 'dashboard.js'), 'utf8');
  private readonly uplotScript = readFileSync(join(UPLOT_DIR, 'uPlot.iife.min.js'), 'utf8');
  private readonly uplotCss = readFileSync(join(UPLOT_DIR, 'uPlot.min.css'), 'utf8');

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'no-cache')
  @Header('Content-Security-Policy', CSP)
  page(): string {
    return this.html;
  }

  @Get('assets/dashboard.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  @Header('Cache-Control', 'no-cache')
  script_(): string {
    return this.script;
  }

  @Get('assets/uplot.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  @Header('Cache-Control', 'public, max-age=86400')
  uplot(): string {
    return this.uplotScript;
  }

  @Get('assets/uplot.css')
  @Header('Content-Type', 'text/css; charset=utf-8')
  @Header('Cache-Control', 'public, max-age=86400')
  uplotStyles(): string {
    return this.uplotCss;
  }
}
