import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import type { Observable } from 'rxjs';
import { httpRequestDuration, setHttpRoute, statusClass } from '@tributary/telemetry';

/** Where the interceptor leaves the matched route template for the middleware. */
const ROUTE = Symbol('tributary.route');
type RoutedRequest = Request & { [ROUTE]?: string };

function routeTemplate(request: Request): string | undefined {
  const path = (request.route as { path?: unknown } | undefined)?.path;
  return typeof path === 'string' ? `${request.baseUrl ?? ''}${path}` : undefined;
}

/**
 * Runs once a route has matched (Nest interceptors run after routing): records the route template
 * for the duration histogram and names the HTTP server span `METHOD /route/:param`.
 */
@Injectable()
export class HttpRouteInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() === 'http') {
      const request = context.switchToHttp().getRequest<RoutedRequest>();
      const route = routeTemplate(request);
      if (route) {
        request[ROUTE] = route;
        setHttpRoute(route);
      }
    }
    return next.handle();
  }
}

/**
 * `tributary_http_request_duration_seconds{method, route, status_class}` for every request,
 * including the ones that never reach a handler (404 → route `unmatched`, so scanners cannot
 * create one series per path they try; static files → `other`).
 */
@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware {
  use(request: RoutedRequest, response: Response, next: NextFunction): void {
    const started = process.hrtime.bigint();
    response.once('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      // Only the interceptor knows the handler's template (req.route here is this middleware's own
      // wildcard). No handler: 404 → `unmatched`, anything else (static files…) → `other`.
      const route = request[ROUTE] ?? (response.statusCode === 404 ? 'unmatched' : 'other');
      httpRequestDuration().observe(
        { method: request.method, route, status_class: statusClass(response.statusCode) },
        seconds,
      );
    });
    next();
  }
}
