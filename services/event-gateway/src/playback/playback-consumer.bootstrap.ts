import type { NestExpressApplication } from '@nestjs/platform-express';
import { ReadinessRegistry } from '@tributary/nest-common';
import { TopicNames, TributaryKafkaServer } from '@tributary/nest-kafka';
import type { Logger } from '@tributary/telemetry';
import type { EventGatewayConfig } from '../config';
import { playbackConsumerGroup } from './playback.tokens';

/**
 * Connects the Nest Kafka transport that feeds PlaybackEventsConsumer (bootstrapService's
 * `configure` hook). The app is initialised first so the topics exist (KafkaModule ensures them
 * on init) before the consumer subscribes. Starts from latest: a live view has no use for history.
 */
export async function connectPlaybackConsumer(app: NestExpressApplication, config: EventGatewayConfig, logger: Logger): Promise<void> {
  await app.init();
  const groupId = playbackConsumerGroup(config);
  const server = new TributaryKafkaServer({
    kafka: config.kafka,
    clientId: `event-gateway.${config.instanceId}`,
    groupId,
    topics: app.get(TopicNames),
    logger: logger.child({ component: 'kafka.playback-consumer' }),
    fromBeginning: false,
  });
  app.connectMicroservice({ strategy: server });
  app.get(ReadinessRegistry).register('playback-consumer-joined', () => server.isJoined);
  logger.info({ component: 'playback.consumer', groupId }, 'playback consumer configured');
}
