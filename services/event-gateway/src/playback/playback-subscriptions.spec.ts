import { MAX_STREAMS_PER_CONNECTION } from '@tributary/contracts';
import { ALL_STREAMS_ROOM, planSubscriptionChange, streamRoom, subscriptionState } from './playback-subscriptions';

const rooms = (...names: string[]) => new Set(['socket-id', ...names]);

describe(planSubscriptionChange.name, () => {
  it('gives a client without a filter every stream', () => {
    expect(planSubscriptionChange('handshake', {}, rooms())).toEqual({ ok: true, join: [ALL_STREAMS_ROOM], leave: [] });
    expect(planSubscriptionChange('handshake', undefined, rooms())).toEqual({ ok: true, join: [ALL_STREAMS_ROOM], leave: [] });
  });

  it('subscribes a handshake with one or several stream ids to those streams only', () => {
    expect(planSubscriptionChange('handshake', { streamId: 'a' }, rooms())).toEqual({ ok: true, join: [streamRoom('a')], leave: [] });
    expect(planSubscriptionChange('handshake', { streamId: ['a', 'b', 'a'] }, rooms())).toEqual({
      ok: true,
      join: [streamRoom('a'), streamRoom('b')],
      leave: [],
    });
  });

  it('narrows an every-stream client to the subscribed stream', () => {
    expect(planSubscriptionChange('subscribe', { streamId: 'a' }, rooms(ALL_STREAMS_ROOM))).toEqual({
      ok: true,
      join: [streamRoom('a')],
      leave: [ALL_STREAMS_ROOM],
    });
  });

  it('adds streams to a filtered client without duplicates', () => {
    expect(planSubscriptionChange('subscribe', { streamId: ['a', 'b'] }, rooms(streamRoom('a')))).toEqual({
      ok: true,
      join: [streamRoom('b')],
      leave: [],
    });
  });

  it('unsubscribes only streams the client has', () => {
    expect(planSubscriptionChange('unsubscribe', { streamId: ['a', 'c'] }, rooms(streamRoom('a'), streamRoom('b')))).toEqual({
      ok: true,
      join: [],
      leave: [streamRoom('a')],
    });
  });

  it.each([
    ['a bad stream id', { streamId: 'Bad Id' }, 'invalid_stream_id'],
    ['a number', { streamId: 7 }, 'invalid_stream_id'],
    ['an empty list', { streamId: [] }, 'invalid_stream_id'],
    ['a string payload', 'a', 'invalid_request'],
    ['null', null, 'invalid_request'],
  ])('refuses %s with an error and changes nothing', (_what, request, code) => {
    const result = planSubscriptionChange('subscribe', request, rooms(ALL_STREAMS_ROOM));
    expect(result).toMatchObject({ ok: false, error: { code, during: 'subscribe', message: expect.any(String) } });
  });

  it('caps the streams of one connection', () => {
    const many = rooms(...Array.from({ length: MAX_STREAMS_PER_CONNECTION }, (_, i) => streamRoom(`s${i}`)));
    expect(planSubscriptionChange('subscribe', { streamId: 'one-more' }, many)).toMatchObject({
      ok: false,
      error: { code: 'invalid_request', message: expect.stringMatching(/at most 1000 streams per connection/) },
    });
    expect(planSubscriptionChange('subscribe', { streamId: 's1' }, many)).toMatchObject({ ok: true, join: [] });
  });

  it('never widens a handshake with a bad filter to every stream', () => {
    const result = planSubscriptionChange('handshake', { streamId: '../../etc' }, rooms());
    expect(result).toMatchObject({ ok: false, error: { code: 'invalid_stream_id', during: 'handshake' } });
  });
});

describe(subscriptionState.name, () => {
  it('reads the subscription from the rooms, ignoring the socket id room', () => {
    expect(subscriptionState(rooms(streamRoom('b'), streamRoom('a')))).toEqual({ all: false, streamIds: ['a', 'b'] });
    expect(subscriptionState(rooms(ALL_STREAMS_ROOM))).toEqual({ all: true, streamIds: [] });
  });
});
