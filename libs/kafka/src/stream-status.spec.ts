import type { Message } from 'kafkajs';
import { Headers, STREAM_STATUS_SCHEMA_ID, streamStatusValidator } from '@tributary/contracts';
import type { KafkaProducer } from './producer';
import { StreamStatusProducer } from './stream-status';

describe(StreamStatusProducer.name, () => {
  it('writes a valid, stamped report keyed by stream id with its schema in headers', async () => {
    const sent: { topic: string; messages: Message[] }[] = [];
    const producer = {
      send: (topic: string, messages: Message[]) => {
        sent.push({ topic, messages });
        return Promise.resolve([]);
      },
    } as unknown as KafkaProducer;
    await new StreamStatusProducer(producer, 'p.stream.status', 'transcoder').report({ stream_id: 'cam', state: 'ended', publish_session_id: 's1' });
    expect(sent).toHaveLength(1);
    const [message] = sent[0].messages;
    expect(sent[0].topic).toBe('p.stream.status');
    expect(message.key).toBe('cam');
    expect(message.headers?.[Headers.schema]).toBe(STREAM_STATUS_SCHEMA_ID);
    const parsed = streamStatusValidator.validate(JSON.parse(String(message.value)));
    expect(parsed.ok && parsed.value).toMatchObject({ stream_id: 'cam', state: 'ended', reporter: 'transcoder', publish_session_id: 's1' });
  });
});
