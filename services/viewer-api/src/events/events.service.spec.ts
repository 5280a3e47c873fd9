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

function service(send: (topic: string, messages: Message[]) => Promise<unknown>, produceTimeoutMs = 1_000, maxInFlightBytes = 1024 * 1024) {
  const sent: { topic: string; messages: Message[] }[] = [];
  const producer = {
    send: async (topic: string, messages: Message[]) => {
      await send(topic, messages);
      sent.push({ topic, messages });
      return [];
    },
  } as unknown as KafkaProducer;
  return { sent, events: new EventsService(producer, new TopicNames('acme'), { maxBatch: 3, maxBodyBytes: 1024, produceTimeoutMs, maxInFlightBytes, lingerMs: 0, maxInFlightSends: 1 }) };
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

  it('admission control: refuses (503 error, not a queue) while the in-flight bytes are at the limit, and admits again once Kafka settled', async () => {
    const pending: (() => void)[] = [];
    const oneEvent = JSON.stringify(event('a')).length + 'movie-42'.length;
    const limit = Math.floor(2.5 * oneEvent);
    const { events } = service(() => new Promise<void>((resolve) => pending.push(resolve)), 5_000, limit);
    // Two one-event requests fit under the limit, a third does not.
    const first = events.publish([event('a')]);
    const second = events.publish([event('b')]);
    await expect(events.publish([event('c')])).rejects.toThrow(`too many events in flight to Kafka on this replica (${2 * oneEvent} bytes, limit ${limit})`);
    await expect(events.publish([event('c')])).rejects.toThrow(EventsUnavailableError);
    // Requests share sends, one in flight at a time: acknowledge each send as it goes out.
    const acknowledgeAll = async () => {
      for (let round = 0; round < 5; round += 1) {
        pending.splice(0).forEach((acknowledge) => acknowledge());
        await new Promise((next) => setImmediate(next));
      }
    };
    await acknowledgeAll();
    await expect(Promise.all([first, second])).resolves.toEqual([1, 1]);
    const third = events.publish([event('c')]);
    await acknowledgeAll();
    await expect(third).resolves.toBe(1);
  });

  it('admission control: one request alone is always admitted, whatever its size', async () => {
    const { events } = service(() => Promise.resolve(), 1_000, 10);
    await expect(events.publish([event('a'), event('b')])).resolves.toBe(2);
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
