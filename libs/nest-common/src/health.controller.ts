import { BeforeApplicationShutdown, Controller, Get, HttpCode, Res } from '@nestjs/common';
import type { Response } from 'express';
import { ReadinessRegistry } from './readiness';

@Controller()
export class HealthController implements BeforeApplicationShutdown {
  constructor(private readonly readiness: ReadinessRegistry) {}

  /** Liveness: the process answers. */
  @Get('healthz')
  @HttpCode(200)
  healthz(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Readiness: Kafka reachable, consumers joined, not draining. */
  @Get('readyz')
  async readyz(@Res({ passthrough: true }) response: Response): Promise<{ status: string; checks: Record<string, boolean> }> {
    const { ready, checks } = await this.readiness.evaluate();
    response.status(ready ? 200 : 503);
    return { status: ready ? 'ready' : 'not-ready', checks };
  }

  beforeApplicationShutdown(): void {
    // Load balancers stop sending traffic while in-flight requests finish.
    this.readiness.markShuttingDown();
  }
}
