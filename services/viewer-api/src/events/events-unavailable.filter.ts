import { type ArgumentsHost, Catch, type ExceptionFilter, HttpStatus, Inject } from '@nestjs/common';
import { type ErrorBody, ROOT_LOGGER } from '@tributary/nest-common';
import type { Logger } from '@tributary/telemetry';
import type { Response } from 'express';
import { EventsUnavailableError } from './events.errors';

/** Seconds a client should wait before retrying a batch that got 503. */
export const RETRY_AFTER_SECONDS = 1;

/**
 * 503 with a message the client can act on. The catch-all filter hides every 5xx message; this
 * one is a known condition (Kafka unreachable or slow), not an internal error.
 */
@Catch(EventsUnavailableError)
export class EventsUnavailableFilter implements ExceptionFilter<EventsUnavailableError> {
  private readonly logger: Logger;

  constructor(@Inject(ROOT_LOGGER) rootLogger: Logger) {
    this.logger = rootLogger.child({ component: 'events' });
  }

  catch(error: EventsUnavailableError, host: ArgumentsHost): void {
    this.logger.warn({ err: error.cause ?? error }, `${error.message}: answered 503, the client will retry`);
    const response = host.switchToHttp().getResponse<Response>();
    const body: ErrorBody = { statusCode: HttpStatus.SERVICE_UNAVAILABLE, error: 'Service Unavailable', message: error.message };
    response.status(HttpStatus.SERVICE_UNAVAILABLE).setHeader('Retry-After', String(RETRY_AFTER_SECONDS)).json(body);
  }
}
