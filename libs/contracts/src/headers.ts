/**
 * Kafka header names. W3C trace context travels as `traceparent`/`tracestate`, exactly as over
 * HTTP, so any OpenTelemetry-aware consumer continues the trace.
 */
export const Headers = {
  traceparent: 'traceparent',
  tracestate: 'tracestate',
  /** `<message type>/<version>` of the value, e.g. `playback-event/1`. */
  schema: 'tributary-schema',
  contentType: 'content-type',
  /** Why a message was dead-lettered, and where it came from. */
  deadLetterReason: 'tributary-dlq-reason',
  deadLetterTopic: 'tributary-dlq-topic',
  deadLetterPartition: 'tributary-dlq-partition',
  deadLetterOffset: 'tributary-dlq-offset',
  deadLetterConsumerGroup: 'tributary-dlq-group',
} as const;

export type HeaderName = (typeof Headers)[keyof typeof Headers];
