import { HttpException } from '@nestjs/common';
import { Headers, PLAYBACK_EVENT_SCHEMA_ID, type PlaybackEvent } from '@tributary/contracts';
import type { KafkaProducer } from '@tributary/kafka';
import { TopicNames } from '@tributary/nest-kafka';
import type { Message } from 'kafkajs';
import { EventsUnavailableError } from './events.errors';
import { EventsService, toMessageChunks } from './events.service';

const event = (id: string, streamId = 'movie-42'): PlaybackEvent => ({
  event_id: id,
  session_id: 's-1',
  user_id: 'u-1',
  stream_id: streamId,
  event_type: 'position',
  position_seconds: 1,
  bitrate_kbps: 2500,
  device: 'tv',
  ts: '2026-11-22T10:00:00.000Z',
});

function service(send: (topic: string, messages: Message[]) => Promise<unknown>, produceTimeoutMs = 1_000) {
  const sent: { topic: string; messages: Message[] }[] = [];
  const producer = {
    send: async (topic: string, messages: Message[]) => {
      await send(topic, messages);
      sent.push({ topic, messages });
      return [];
    },
  } as unknown as KafkaProducer;
  return { sent, events: new EventsService(producer, new TopicNames('acme'), { maxBatch: 3, maxBodyBytes: 1024, produceTimeoutMs }) };
}

describe(EventsService.name, () => {
  it('writes each event to the prefixed playback.events topic, keyed by stream id, with schema headers', async () => {
    const { sent, events } = service(() => Promise.resolve());
    await expect(events.publish([event('a', 'one'), event('b', 'two')])).resolves.toBe(2);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.topic).toBe('acme.playback.events');
    expect(sent[0]?.messages.map((m) => m.key)).toEqual(['one', 'two']);
    expect(JSON.parse(String(sent[0]?.messages[0]?.value))).toEqual(event('a', 'one'));
    expect(sent[0]?.messages[0]?.headers).toMatchObject({
      [Headers.schema]: PLAYBACK_EVENT_SCHEMA_ID,
      [Headers.contentType]: 'application/json',
    });
  });

  it('turns a Kafka failure into EventsUnavailableError (503), never a success', async () => {
    const { events } = service(() => Promise.reject(new Error('broker down')));
    await expect(events.publish([event('a')])).rejects.toBeInstanceOf(EventsUnavailableError);
  });

  it('gives up waiting for Kafka after the produce timeout', async () => {
    const { events } = service(() => new Promise(() => undefined), 50);
    await expect(events.publish([event('a')])).rejects.toThrow(/did not acknowledge the events within 50 ms/);
  });

  it('validates with the configured batch limit', () => {
    const { events } = service(() => Promise.resolve());
    expect(() => events.parse([event('a'), event('b'), event('c'), event('d')])).toThrow(HttpException);
    const thrown = (() => {
      try {
        events.parse([event('a'), { ...event('b'), device: 'fridge' } as unknown as PlaybackEvent]);
      } catch (error) {
        return error as HttpException;
      }
      throw new Error('expected parse to throw');
    })();
    expect(thrown.getStatus()).toBe(400);
    expect(thrown.getResponse()).toMatchObject({ issues: [{ field: '/1/device' }] });
  });
});

describe(toMessageChunks.name, () => {
  it('splits large requests into sends under the size bound, keeping the order', () => {
    const events = Array.from({ length: 50 }, (_, i) => event(`e-${i}`));
    const chunks = toMessageChunks(events, 4_000);
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.flat().map((m) => (JSON.parse(String(m.value)) as PlaybackEvent).event_id)).toEqual(events.map((e) => e.event_id));
    for (const chunk of chunks) expect(chunk.reduce((sum, m) => sum + String(m.value).length, 0)).toBeLessThan(4_000);
  });
});
