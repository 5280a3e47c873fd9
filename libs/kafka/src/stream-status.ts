import { Headers, STREAM_STATUS_SCHEMA_ID, type StreamStatus } from '@tributary/contracts';
import type { KafkaProducer } from './producer';
import { injectTraceContext } from './trace-context';

/** A stream.status report without the fields the reporter fills in. */
export type StreamStatusReport = Omit<StreamStatus, 'reporter' | 'ts'>;

/**
 * The one way services write `stream.status`: keyed by stream id, JSON with the schema id and the
 * current trace in headers, stamped with the reporter and the time, acknowledged by all in-sync
 * replicas (the shared idempotent producer).
 */
export class StreamStatusProducer {
  constructor(
    private readonly producer: KafkaProducer,
    private readonly topic: string,
    private readonly reporter: StreamStatus['reporter'],
  ) {}

  async report(status: StreamStatusReport): Promise<void> {
    const value: StreamStatus = { ...status, reporter: this.reporter, ts: new Date().toISOString() };
    await this.producer.send(this.topic, [
      {
        key: status.stream_id,
        value: JSON.stringify(value),
        headers: injectTraceContext({ [Headers.schema]: STREAM_STATUS_SCHEMA_ID, [Headers.contentType]: 'application/json' }),
      },
    ]);
  }
}
