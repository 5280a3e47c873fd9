import type { Kafka, Producer, ProducerRecord, RecordMetadata } from 'kafkajs';
import { KafkaProducer } from './producer';

/** A kafkajs producer stand-in: records sends and fails them on demand. */
class FakeProducer {
  readonly sent: ProducerRecord[] = [];
  failNext: Error | undefined;
  failConnect: Error | undefined;
  connects = 0;
  disconnects = 0;

  constructor(readonly id: number) {}

  connect(): Promise<void> {
    this.connects += 1;
    return this.failConnect ? Promise.reject(this.failConnect) : Promise.resolve();
  }

  disconnect(): Promise<void> {
    this.disconnects += 1;
    return Promise.resolve();
  }

  send(record: ProducerRecord): Promise<RecordMetadata[]> {
    if (this.failNext) {
      const error = this.failNext;
      this.failNext = undefined;
      return Promise.reject(error);
    }
    this.sent.push(record);
    return Promise.resolve([]);
  }
}

function fakeKafka(): { kafka: Kafka; producers: FakeProducer[] } {
  const producers: FakeProducer[] = [];
  const kafka = {
    producer: () => {
      const producer = new FakeProducer(producers.length);
      producers.push(producer);
      return producer as unknown as Producer;
    },
  } as unknown as Kafka;
  return { kafka, producers };
}

describe(KafkaProducer.name, () => {
  it('sends through one producer while sends succeed', async () => {
    const { kafka, producers } = fakeKafka();
    const producer = new KafkaProducer(kafka, { compression: 'none' });
    await producer.connect();
    await producer.send('t', [{ value: 'a' }]);
    await producer.send('t', [{ value: 'b' }]);
    expect(producers).toHaveLength(1);
    expect(producers[0]?.sent.map((record) => record.messages[0]?.value)).toEqual(['a', 'b']);
  });

  it('sends after a failed send on a new producer (a new producer id, so no sequence is reused)', async () => {
    const { kafka, producers } = fakeKafka();
    const producer = new KafkaProducer(kafka, { compression: 'none' });
    await producer.connect();
    const first = producers[0];
    if (!first) throw new Error('no producer');
    first.failNext = new Error('Connection closed');
    await expect(producer.send('t', [{ value: 'a' }])).rejects.toThrow('Connection closed');
    await producer.send('t', [{ value: 'b' }]);
    expect(producers).toHaveLength(2);
    expect(first.disconnects).toBe(1);
    expect(producers[1]?.connects).toBe(1);
    expect(producers[1]?.sent.map((record) => record.messages[0]?.value)).toEqual(['b']);
  });

  it('fails the next send while the replacement cannot connect, then connects it again', async () => {
    const { kafka, producers } = fakeKafka();
    const producer = new KafkaProducer(kafka, { compression: 'none' });
    await producer.connect();
    producers[0].failNext = new Error('Connection closed');
    // The replacement is created inside the failed send; make its connect fail before it runs.
    const originalProducer = kafka.producer.bind(kafka);
    (kafka as unknown as { producer: () => Producer }).producer = () => {
      const created = originalProducer() as unknown as FakeProducer;
      created.failConnect = new Error('broker down');
      return created as unknown as Producer;
    };
    await expect(producer.send('t', [{ value: 'a' }])).rejects.toThrow('Connection closed');
    await expect(producer.send('t', [{ value: 'b' }])).rejects.toThrow('broker down');
    const replacement = producers[1];
    replacement.failConnect = undefined;
    await producer.send('t', [{ value: 'c' }]);
    expect(producers).toHaveLength(2);
    // Once when the first send failed (the second send saw that fail), once by the third send.
    expect(replacement.connects).toBe(2);
    expect(replacement.sent.map((record) => record.messages[0]?.value)).toEqual(['c']);
  });

  it('replaces a producer once however many of its concurrent sends fail', async () => {
    const { kafka, producers } = fakeKafka();
    const producer = new KafkaProducer(kafka, { compression: 'none' });
    await producer.connect();
    const first = producers[0];
    let rejectAll: (error: Error) => void = () => undefined;
    const pending = new Promise<RecordMetadata[]>((_resolve, reject) => {
      rejectAll = reject;
    });
    first.send = () => pending;
    const sends = [producer.send('t', [{ value: 'a' }]), producer.send('t', [{ value: 'b' }])];
    rejectAll(new Error('Connection closed'));
    await Promise.allSettled(sends);
    expect(producers).toHaveLength(2);
  });
});
