import type { Kafka, Message } from 'kafkajs';
import { Headers, PLAYBACK_EVENT_SCHEMA_ID, type PlaybackEvent, topicName, Topics, topicSpecs } from '@tributary/contracts';

/**
 * A steady heartbeat-like playback event, number `index` of a run (ids unique per run, spread
 * over `streams` streams); `ts` is now, which the latency benches use as the send time.
 */
export function benchEvent(runId: string, index: number, streams: number, source: PlaybackEvent['source']): PlaybackEvent {
  return {
    event_id: `${runId}-${index}`,
    session_id: `bench-session-${index % 500}`,
    user_id: `bench-user-${index % 2_000}`,
    stream_id: `bench-${runId}-${index % streams}`,
    event_type: 'position',
    position_seconds: (index % 7_200) + 0.25,
    bitrate_kbps: 4_500,
    device: 'web',
    ts: new Date().toISOString(),
    source,
    buffer_length_ms: 12_000,
    throughput_kbps: 18_000,
    playback_rate: 1,
  };
}

/** The Kafka message viewer-api writes for an event (same key, value and headers). */
export function playbackEventMessage(event: PlaybackEvent): Message {
  return {
    key: event.stream_id,
    value: JSON.stringify(event),
    headers: { [Headers.schema]: PLAYBACK_EVENT_SCHEMA_ID, [Headers.contentType]: 'application/json' },
  };
}

/** `<prefix>.playback.events` with the contract's configs and the bench's partition count. */
export async function createEventsTopic(kafka: Kafka, prefix: string, partitions: number): Promise<string> {
  const topic = topicName(Topics.playbackEvents, prefix);
  const spec = topicSpecs('').find((candidate) => candidate.name === Topics.playbackEvents);
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        {
          topic,
          numPartitions: partitions,
          replicationFactor: -1,
          configEntries: Object.entries(spec?.configs ?? {}).map(([name, value]) => ({ name, value })),
        },
      ],
    });
  } finally {
    await admin.disconnect();
  }
  return topic;
}
