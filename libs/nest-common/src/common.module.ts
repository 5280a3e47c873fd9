import { type DynamicModule, Global, type MiddlewareConsumer, Module, type NestModule, ValidationPipe } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import { type Logger, redactUrl, routeTemplateOf } from '@tributary/telemetry';
import { ConnectionDrainMiddleware } from './connection-drain.middleware';
import { AllExceptionsFilter } from './exception.filter';
import { HealthController } from './health.controller';
import { ReadinessRegistry } from './readiness';
import { ROOT_LOGGER } from './tokens';

/**
 * What every service has: health/readiness endpoints, the uniform error filter, the global
 * validation pipe, and pino as Nest's logger (HTTP access lines only for errors, to keep the
 * event path quiet at thousands of requests per second).
 */
@Global()
@Module({})
export class CommonModule implements NestModule {
  static forRoot(logger: Logger): DynamicModule {
    return {
      module: CommonModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: {
            logger,
            customLogLevel: (_request, response, error) =>
              error || response.statusCode >= 500 ? 'error' : response.statusCode >= 400 ? 'warn' : 'silent',
            customProps: () => ({ component: 'http' }),
            customSuccessObject: (request, _response, value: Record<string, unknown>) => ({ ...value, route: routeTemplateOf(request) }),
            customErrorObject: (request, _response, _error, value: Record<string, unknown>) => ({ ...value, route: routeTemplateOf(request) }),
            // Method and route only: no headers (Authorization), no raw path (stream keys in
            // /live/<key>), no credential query parameters.
            // (The request is serialized when it starts, before routing: the route template is
            // added when the line is written.)
            serializers: {
              req: (request: { method?: string; url?: string }) => ({ method: request.method, url: redactUrl(request.url) }),
              res: (response: { statusCode?: number }) => ({ statusCode: response.statusCode }),
            },
          },
        }),
      ],
      controllers: [HealthController],
      providers: [
        { provide: ROOT_LOGGER, useValue: logger },
        ReadinessRegistry,
        { provide: APP_FILTER, useClass: AllExceptionsFilter },
        {
          provide: APP_PIPE,
          useValue: new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }),
        },
      ],
      exports: [ROOT_LOGGER, ReadinessRegistry],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(ConnectionDrainMiddleware).forRoutes('{*splat}');
  }
}
