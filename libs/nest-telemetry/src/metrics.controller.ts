import { Controller, Get, Header, Res } from '@nestjs/common';
import type { Response } from 'express';
import { metricsText } from '@tributary/telemetry';

/** Prometheus scrape endpoint on the service's HTTP port, unless METRICS_PORT moves it to a port of its own (MetricsServer). */
@Controller()
export class MetricsController {
  @Get('metrics')
  @Header('Cache-Control', 'no-store')
  async metrics(@Res() response: Response): Promise<void> {
    const { contentType, body } = await metricsText();
    response.status(200).type(contentType).send(body);
  }
}
