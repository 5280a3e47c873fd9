import './telemetry';
import { processEnv } from '@tributary/config';
import { bootstrapService, exitOnStartupFailure } from '@tributary/nest-common';
import { createLogger } from '@tributary/telemetry';
import { AppModule } from './app.module';
import { loadIngestConfig } from './config';
import { isPublishRequest } from './publish/publish-route';

const logger = createLogger('ingest', processEnv());

async function main(): Promise<void> {
  const config = loadIngestConfig(processEnv());
  if (!config.adminToken) {
    logger.warn({ component: 'bootstrap', adminAuth: config.adminAuth }, 'ADMIN_TOKEN is not set: the /v1/streams admin API is open to anyone who can reach it');
  }
  await bootstrapService({ module: AppModule.register(config, logger), port: config.port, logger, isStreamingRequest: isPublishRequest });
}

main().catch(exitOnStartupFailure(logger));
