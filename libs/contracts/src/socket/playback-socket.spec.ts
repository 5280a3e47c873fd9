import { MAX_STREAMS_PER_REQUEST, parseStreamIds } from './playback-socket';

describe(parseStreamIds.name, () => {
  it('reads one id or a list, without duplicates', () => {
    expect(parseStreamIds({ streamId: 'movie-42' })).toEqual({ ok: true, streamIds: ['movie-42'] });
    expect(parseStreamIds({ streamId: ['a', 'b', 'a'] })).toEqual({ ok: true, streamIds: ['a', 'b'] });
  });

  it.each([
    [{ streamId: 'UPPER' }, /must match/],
    [{ streamId: ['ok', 5] }, /must match/],
    [{ streamId: [] }, /at least one/],
    [{}, /must match/],
    ['movie-42', /expected an object/],
    [[{ streamId: 'a' }], /expected an object/],
    [{ streamId: Array.from({ length: MAX_STREAMS_PER_REQUEST + 1 }, (_, i) => `s${i}`) }, /at most/],
  ])('refuses %p', (value, message) => {
    const result = parseStreamIds(value);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toMatch(message);
  });
});
