import { Injectable } from '@nestjs/common';
import { Headers, STREAM_STATUS_SCHEMA_ID, type StreamStatus, Topics } from '@tributary/contracts';
import { injectTraceContext, KafkaProducer } from '@tributary/kafka';
import { TopicNames } from '@tributary/nest-kafka';

/** Writes ingest's `stream.status` reports (live when a publisher connects, ended when it leaves). */
@Injectable()
export class StreamStatusPublisher {
  private readonly topic: string;

  constructor(
    private readonly producer: KafkaProducer,
    topics: TopicNames,
  ) {
    this.topic = topics.resolve(Topics.streamStatus);
  }

  async report(status: Omit<StreamStatus, 'reporter' | 'ts'>): Promise<void> {
    const value: StreamStatus = { ...status, reporter: 'ingest', ts: new Date().toISOString() };
    await this.producer.send(this.topic, [
      {
        key: status.stream_id,
        value: JSON.stringify(value),
        headers: injectTraceContext({ [Headers.schema]: STREAM_STATUS_SCHEMA_ID, [Headers.contentType]: 'application/json' }),
      },
    ]);
  }
}
