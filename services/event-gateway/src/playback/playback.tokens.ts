/** The consumer group of this replica (`event-gateway.<instance id>`), for dead-letter headers. */
export const PLAYBACK_CONSUMER_GROUP = Symbol('PLAYBACK_CONSUMER_GROUP');

/** Each replica consumes every event for its own browsers: a group per instance. */
export function playbackConsumerGroup(instanceId: string): string {
  return `event-gateway.${instanceId}`;
}
