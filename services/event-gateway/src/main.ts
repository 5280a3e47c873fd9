import './telemetry';
import { processEnv } from '@tributary/config';
import { bootstrapService, exitOnStartupFailure } from '@tributary/nest-common';
import { createLogger } from '@tributary/telemetry';
import { AppModule } from './app.module';
import { loadEventGatewayConfig } from './config';
import { LeanIoAdapter } from './socket-io/lean-io.adapter';

const logger = createLogger('event-gateway', processEnv());

async function main(): Promise<void> {
  const config = loadEventGatewayConfig(processEnv());
  logger.info({ component: 'bootstrap', roles: config.roles }, 'event-gateway roles');
  await bootstrapService({
    module: AppModule.register(config, logger),
    port: config.port,
    logger,
    // Less state per Socket.IO connection than Nest's default adapter (see LeanIoAdapter).
    configure: (app) => {
      app.useWebSocketAdapter(new LeanIoAdapter(app));
    },
  });
}

main().catch(exitOnStartupFailure(logger));
