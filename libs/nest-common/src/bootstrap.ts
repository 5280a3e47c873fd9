import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Logger as PinoNestLogger } from 'nestjs-pino';
import { int, parseEnv, processEnv } from '@tributary/config';
import type { Logger } from '@tributary/telemetry';
import { applyHttpServerLimits, httpServerEnvSpec, requestDeadline, type StreamingRequestPredicate } from './http-limits';
import { installProcessGuards } from './process-guards';

/** Read by every service at start-up (HTTP timeouts: see http-limits.ts). */
const bootstrapEnvSpec = {
  ...httpServerEnvSpec,
  /** SIGTERM/SIGINT → exit within this, even when Kafka is unreachable. */
  shutdownTimeoutMs: int('SHUTDOWN_TIMEOUT_MS', { default: 15_000, min: 1_000, max: 600_000 }),
};

export interface ServiceBootstrapOptions {
  module: unknown;
  port: number;
  logger: Logger;
  /** Body parsers, CORS, microservices… applied before listen. */
  configure?: (app: NestExpressApplication) => void | Promise<void>;
  /** Requests whose body is a long-lived stream: exempt from HTTP_REQUEST_TIMEOUT_MS (never from the header timeout). */
  isStreamingRequest?: StreamingRequestPredicate;
}

/**
 * Creates and starts a service: pino as the Nest logger, graceful shutdown on SIGTERM/SIGINT
 * (stop accepting, finish in-flight work, flush producers, leave consumer groups), then listen.
 */
export async function bootstrapService(options: ServiceBootstrapOptions): Promise<INestApplication> {
  const limits = parseEnv(bootstrapEnvSpec, processEnv());
  installProcessGuards({ logger: options.logger, shutdownTimeoutMs: limits.shutdownTimeoutMs });
  const app = await NestFactory.create<NestExpressApplication>(options.module as never, {
    bufferLogs: true,
    // Each service installs the body parsers it needs (limits and content types differ).
    bodyParser: false,
  });
  app.useLogger(app.get(PinoNestLogger));
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  app.disable('x-powered-by');
  applyHttpServerLimits(app.getHttpServer(), limits);
  app.use(requestDeadline(limits.requestTimeoutMs, options.isStreamingRequest));
  await options.configure?.(app);
  await app.startAllMicroservices();
  await app.listen(options.port, '0.0.0.0');
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  options.logger.info({ component: 'bootstrap', port }, 'service listening');
  return app;
}

/** Exits with a readable message (not a stack) when start-up fails, e.g. on bad configuration. */
export function exitOnStartupFailure(logger: Logger): (error: unknown) => never {
  return (error) => {
    logger.fatal({ component: 'bootstrap', err: error }, `start-up failed: ${(error as Error).message ?? String(error)}`);
    logger.flush?.();
    process.exit(1);
  };
}
