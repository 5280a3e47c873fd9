import { MAX_STREAMS_PER_REQUEST, parseDeliveryFormat, parseStreamIds } from './playback-socket';

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

describe(parseDeliveryFormat.name, () => {
  it('defaults to batches and takes single from auth or the query', () => {
    expect(parseDeliveryFormat(undefined)).toEqual({ ok: true, format: 'batch' });
    expect(parseDeliveryFormat({ streamId: 'a' }, {})).toEqual({ ok: true, format: 'batch' });
    expect(parseDeliveryFormat({ format: 'single' })).toEqual({ ok: true, format: 'single' });
    expect(parseDeliveryFormat({}, { format: 'single' })).toEqual({ ok: true, format: 'single' });
    expect(parseDeliveryFormat({ format: 'batch' }, { format: 'single' })).toEqual({ ok: true, format: 'batch' });
  });

  it('refuses an unknown format', () => {
    expect(parseDeliveryFormat({ format: 'xml' })).toMatchObject({ ok: false, message: expect.stringMatching(/format must be one of batch, single/) });
  });
});
