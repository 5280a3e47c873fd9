import { STATUS_CODES } from 'node:http';
import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Inject } from '@nestjs/common';
import type { Request, Response } from 'express';
import { type Logger, redactUrl, routeTemplateOf } from '@tributary/telemetry';
import { ROOT_LOGGER } from './tokens';

export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  /** Field-level problems, when the request was invalid. */
  issues?: { field: string; message: string }[];
}

/**
 * One error shape for every endpoint. 4xx and 503 keep their message (the client needs it); other
 * 5xx are logged in full and answered with a generic message so internals never leak.
 */
/** The matched route's template (`/live/:streamKey`), never the raw path: paths can carry secrets. */
function routeTemplate(request: Request): string {
  return routeTemplateOf(request) ?? redactUrl(request.path);
}

@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger: Logger;

  constructor(@Inject(ROOT_LOGGER) rootLogger: Logger) {
    this.logger = rootLogger.child({ component: 'http' });
  }

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const http = host.switchToHttp();
    const response = http.getResponse<Response>();
    const request = http.getRequest<Request>();
    const body = this.toBody(exception);
    if (body.statusCode === 503) {
      this.logger.warn({ method: request.method, path: routeTemplate(request), reason: body.message }, 'request refused: service unavailable');
    } else if (body.statusCode >= 500) {
      this.logger.error({ err: exception, method: request.method, path: routeTemplate(request) }, 'request failed');
    }
    if (response.headersSent) {
      response.end();
      return;
    }
    response.status(body.statusCode).json(body);
  }

  private toBody(exception: unknown): ErrorBody {
    if (exception instanceof HttpException) {
      const statusCode = exception.getStatus();
      const payload = exception.getResponse();
      const fields = typeof payload === 'object' && payload !== null ? (payload as Record<string, unknown>) : {};
      const rawMessage = fields.message ?? exception.message;
      const message = Array.isArray(rawMessage)
        ? rawMessage.map(String).join('; ')
        : typeof rawMessage === 'string'
          ? rawMessage
          : exception.message;
      // Nest's 404 says `Cannot GET <path>`: the path may carry a stream key or token.
      const safeMessage = message.replace(/^(Cannot [A-Z]+ )(\S+)$/, (_all, head: string, url: string) => `${head}${redactUrl(url)}`);
      const body: ErrorBody = {
        statusCode,
        error: typeof fields.error === 'string' ? fields.error : (STATUS_CODES[statusCode] ?? 'Error'),
        // 503 is a deliberate, actionable answer (overloaded, retry later): its message is kept.
        message: statusCode >= 500 && statusCode !== 503 ? 'Internal server error' : safeMessage,
      };
      if (Array.isArray(fields.issues)) body.issues = fields.issues as ErrorBody['issues'];
      return body;
    }
    const status = (exception as { status?: unknown; type?: unknown })?.status;
    // body-parser errors (too large, bad JSON) carry an HTTP status of their own.
    if (typeof status === 'number' && status >= 400 && status < 500) {
      const type = (exception as { type?: unknown }).type;
      const message =
        type === 'entity.too.large'
          ? 'request body is too large'
          : type === 'entity.parse.failed'
            ? 'request body is not valid JSON'
            : String((exception as Error).message);
      return { statusCode: status, error: STATUS_CODES[status] ?? 'Error', message };
    }
    return { statusCode: 500, error: 'Internal Server Error', message: 'Internal server error' };
  }
}
