import {
  type DynamicModule,
  Global,
  Inject,
  type MiddlewareConsumer,
  Module,
  type NestModule,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { ROOT_LOGGER } from '@tributary/nest-common';
import { consumerLag, initMetrics, type Logger, shutdownTelemetry, telemetryState } from '@tributary/telemetry';
import { HttpMetricsMiddleware, HttpRouteInterceptor } from './http-metrics';
import { MetricsController } from './metrics.controller';
import { MetricsServer } from './metrics-server';

export interface MetricsModuleOptions {
  /** The `service` label on every series. */
  service: string;
  /**
   * METRICS_PORT: serve `/metrics` only on this port (a separate small HTTP server), not on the
   * service's HTTP port. Undefined = on the HTTP port, as before.
   */
  port?: number;
}

const METRICS_OPTIONS = Symbol('METRICS_OPTIONS');

/**
 * Observability for a Nest service in one import: `GET /metrics` (prom-client registry with the
 * default process metrics, HTTP, Kafka and the service's own series), the HTTP duration
 * histogram and route-named server spans, a start-up line saying how tracing is configured, and
 * on shutdown the consumer-lag sampler stops and the last spans are flushed.
 */
@Global()
@Module({})
export class MetricsModule implements NestModule, OnModuleInit, OnApplicationShutdown {
  static forRoot(options: MetricsModuleOptions): DynamicModule {
    initMetrics(options.service);
    return {
      module: MetricsModule,
      controllers: options.port === undefined ? [MetricsController] : [],
      providers: [
        { provide: METRICS_OPTIONS, useValue: options },
        { provide: APP_INTERCEPTOR, useClass: HttpRouteInterceptor },
      ],
    };
  }

  private readonly server?: MetricsServer;

  constructor(
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
    @Inject(METRICS_OPTIONS) options: MetricsModuleOptions,
  ) {
    if (options.port !== undefined) this.server = new MetricsServer(options.port);
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(HttpMetricsMiddleware).forRoutes('{*path}');
  }

  async onModuleInit(): Promise<void> {
    if (this.server) {
      const port = await this.server.start();
      this.logger.info({ component: 'telemetry', metricsPort: port }, 'metrics served on their own port (METRICS_PORT), not on the HTTP port');
    }
    const state = telemetryState();
    const logger = this.logger.child({ component: 'telemetry' });
    if (!state) {
      logger.warn({}, 'tracing was not started: import ./telemetry first in main.ts');
      return;
    }
    logger.info({ tracing: state.enabled, exporter: state.exporter, traceService: state.serviceName }, 'telemetry configured');
    if (state.loadedTooEarly.length > 0) {
      logger.warn(
        { modules: state.loadedTooEarly },
        'modules were loaded before tracing started and are not instrumented: make ./telemetry the first import of main.ts',
      );
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.server?.stop();
    await consumerLag().close();
    await shutdownTelemetry();
  }
}
