import { testing } from '@tributary/contracts';
import { MAX_REPORTED_ISSUES, parseEventBatch } from './event-batch';

const event = testing.validPlaybackEvent;

describe(parseEventBatch.name, () => {
  it('accepts a single event object as a batch of one', () => {
    expect(parseEventBatch(event(), 500)).toEqual({ ok: true, events: [event()] });
  });

  it('accepts an array and keeps the order of the request', () => {
    const events = [event({ event_id: 'a' }), event({ event_id: 'b', stream_id: 'other' }), event({ event_id: 'c' })];
    expect(parseEventBatch(events, 500)).toEqual({ ok: true, events });
  });

  it('rejects an empty array', () => {
    expect(parseEventBatch([], 500)).toMatchObject({ ok: false, status: 400, message: expect.stringMatching(/empty/) });
  });

  it('rejects a batch over the limit with 413 and says how to fix it', () => {
    const result = parseEventBatch([event(), event(), event()], 2);
    expect(result).toMatchObject({ ok: false, status: 413, message: expect.stringMatching(/3 events; at most 2/) });
  });

  it.each([null, 42, 'text', true])('rejects a body that is neither an object nor an array (%p)', (body) => {
    expect(parseEventBatch(body, 500)).toMatchObject({ ok: false, status: 400, message: expect.stringMatching(/event object or an array/) });
  });

  it('names each bad field of a batch with its index and accepts nothing', () => {
    const result = parseEventBatch([event(), { ...event(), event_type: 'explode' }, event(), { ...event(), device: undefined, ts: 'later' }], 500);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.status).toBe(400);
    expect(result.issues?.map((issue) => issue.field).sort()).toEqual(['/1/event_type', '/3/device', '/3/ts']);
    expect(result.message).toBe('2 of 4 events are invalid; nothing was accepted');
  });

  it('names the fields of a single invalid event without an index', () => {
    const result = parseEventBatch({ ...event(), position_seconds: -1, extra: true }, 500);
    expect(result).toMatchObject({ ok: false, status: 400, message: 'the event is invalid; nothing was accepted' });
    if (result.ok) return;
    expect(result.issues?.map((issue) => issue.field).sort()).toEqual(['/extra', '/position_seconds']);
  });

  it('lists at most MAX_REPORTED_ISSUES issues and counts the rest', () => {
    const broken = Array.from({ length: 120 }, () => ({ ...event(), event_type: 'nope' }));
    const result = parseEventBatch(broken, 500);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues).toHaveLength(MAX_REPORTED_ISSUES);
    expect(result.message).toMatch(/120 of 120 events are invalid.*20 further issues not listed/);
  });
});
