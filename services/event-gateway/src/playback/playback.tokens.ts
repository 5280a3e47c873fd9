import { ConsumerGroups } from '@tributary/contracts';
import { consumerGroupId } from '@tributary/kafka';

/** The consumer group of this replica, for dead-letter headers. */
export const PLAYBACK_CONSUMER_GROUP = Symbol('PLAYBACK_CONSUMER_GROUP');

/**
 * Each replica consumes every event for its own browsers: a group per instance,
 * `<prefix>.event-gateway.fanout.<instance id>`.
 */
export function playbackConsumerGroup(config: { instanceId: string; kafka: { topicPrefix?: string } }): string {
  return consumerGroupId(ConsumerGroups.eventGatewayFanout, config.kafka.topicPrefix, config.instanceId);
}
