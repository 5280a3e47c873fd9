import './telemetry';
import { processEnv } from '@tributary/config';
import { bootstrapService, exitOnStartupFailure } from '@tributary/nest-common';
import { createLogger } from '@tributary/telemetry';
import { readFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppModule } from './app.module';
import { loadViewerApiConfig } from './config';
import { startHttp2Front } from './http2/http2-front';

const logger = createLogger('viewer-api', processEnv());

async function main(): Promise<void> {
  const config = loadViewerApiConfig(processEnv());
  const app = await bootstrapService({ module: AppModule.register(config, logger), port: config.port, logger });
  if (config.tlsPort !== undefined) {
    const [cert, key] = await Promise.all([readFile(config.tlsCertFile!), readFile(config.tlsKeyFile!)]);
    const http = app.getHttpServer() as Server;
    const front = await startHttp2Front({ port: config.tlsPort, cert, key, targetPort: (http.address() as AddressInfo).port });
    http.once('close', () => void front.close());
    logger.info({ component: 'bootstrap', port: front.port }, 'TLS + HTTP/2 listening');
  }
}

main().catch(exitOnStartupFailure(logger));
