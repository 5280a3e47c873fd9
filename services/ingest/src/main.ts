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
  await bootstrapService({ module: AppModule.register(config, logger), port: config.port, logger, isStreamingRequest: isPublishRequest });
}

main().catch(exitOnStartupFailure(logger));
