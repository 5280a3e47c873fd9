import './telemetry';
import { processEnv } from '@tributary/config';
import { bootstrapService, exitOnStartupFailure } from '@tributary/nest-common';
import { createLogger } from '@tributary/telemetry';
import { AppModule } from './app.module';
import { hasRole, loadEventGatewayConfig } from './config';
import { connectPlaybackConsumer } from './playback/playback-consumer.bootstrap';

const logger = createLogger('event-gateway', processEnv());

async function main(): Promise<void> {
  const config = loadEventGatewayConfig(processEnv());
  logger.info({ component: 'bootstrap', roles: config.roles }, 'event-gateway roles');
  await bootstrapService({
    module: AppModule.register(config, logger),
    port: config.port,
    logger,
    // The Nest Kafka transport feeds the Socket.IO fan-out only; the stats processor runs its own consumer.
    configure: hasRole(config, 'fanout') ? (app) => connectPlaybackConsumer(app, config, logger) : undefined,
  });
}

main().catch(exitOnStartupFailure(logger));
