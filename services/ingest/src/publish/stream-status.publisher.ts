import { Injectable } from '@nestjs/common';
import { Topics } from '@tributary/contracts';
import { KafkaProducer, StreamStatusProducer, type StreamStatusReport } from '@tributary/kafka';
import { TopicNames } from '@tributary/nest-kafka';

/** Writes ingest's `stream.status` reports (live when a publisher connects, ended when it leaves). */
@Injectable()
export class StreamStatusPublisher {
  private readonly status: StreamStatusProducer;

  constructor(producer: KafkaProducer, topics: TopicNames) {
    this.status = new StreamStatusProducer(producer, topics.resolve(Topics.streamStatus), 'ingest');
  }

  report(status: StreamStatusReport): Promise<void> {
    return this.status.report(status);
  }
}
