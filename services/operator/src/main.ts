import './telemetry';
import { processEnv } from '@tributary/config';
import { bootstrapService, exitOnStartupFailure } from '@tributary/nest-common';
import { createLogger } from '@tributary/telemetry';
import { AppModule } from './app.module';
import { loadOperatorConfig } from './config';
import { loadKubeConfig } from './kube/kube-config';

const logger = createLogger('operator', processEnv());

async function main(): Promise<void> {
  const config = loadOperatorConfig(processEnv());
  const kubeConfig = loadKubeConfig(config);
  await bootstrapService({ module: AppModule.register(config, kubeConfig, logger), port: config.port, logger });
}

main().catch(exitOnStartupFailure(logger));
