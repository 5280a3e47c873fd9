import './telemetry';
import { processEnv } from '@tributary/config';
import { bootstrapService, exitOnStartupFailure } from '@tributary/nest-common';
import { createLogger } from '@tributary/telemetry';
import { AppModule } from './app.module';
import { loadEventGatewayConfig } from './config';
import { connectPlaybackConsumer } from './playback/playback-consumer.bootstrap';

const logger = createLogger('event-gateway', processEnv());

async function main(): Promise<void> {
  const config = loadEventGatewayConfig(processEnv());
  await bootstrapService({
    module: AppModule.register(config, logger),
    port: config.port,
    logger,
    configure: (app) => connectPlaybackConsumer(app, config, logger),
  });
}

main().catch(exitOnStartupFailure(logger));
