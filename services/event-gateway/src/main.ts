import './telemetry';
import { processEnv } from '@tributary/config';
import { bootstrapService, exitOnStartupFailure } from '@tributary/nest-common';
import { createLogger } from '@tributary/telemetry';
import { AppModule } from './app.module';
import { loadEventGatewayConfig } from './config';

const logger = createLogger('event-gateway', processEnv());

async function main(): Promise<void> {
  const config = loadEventGatewayConfig(processEnv());
  logger.info({ component: 'bootstrap', roles: config.roles }, 'event-gateway roles');
  await bootstrapService({
    module: AppModule.register(config, logger),
    port: config.port,
    logger,
  });
}

main().catch(exitOnStartupFailure(logger));
